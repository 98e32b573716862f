package io.salun.model;

import io.salun.model.Safetensors.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch weights read into DL4J, against PyTorch itself (Debian's python3-torch runs
 * {@code src/test/python/pytorch_models.py}): a seeded, briefly trained reference LeNet and CIFAR
 * ResNet-18 (width 16, with the reference's input normalisation) give, imported, the logits PyTorch
 * computed on fixed images within 1e-4 in inference mode; written back, every tensor has PyTorch's
 * key, shape, dtype and the imported bits.
 */
class PyTorchWeightsTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void makeModels() throws Exception {
        PyTorchScript.run(dir.resolve("make.log"), "make", dir.toString());
    }

    /** The network of {@code arch} that reads {@code state}, with the state's weights. */
    static Net imported(Map<String, Tensor> state, Architecture arch, int rows, int cols, int channels) {
        Net net = arch.network(rows, cols, channels, TorchWeights.classes(state, arch, "test", "fixture"), 1,
                new Optimizer("sgd", 0.1, 0.9, 0, 0), 16, TorchWeights.normalises(state));
        TorchWeights.load(state, net, arch, "test", "fixture");
        return net;
    }

    private static void assertLogits(String name, Architecture arch, int rows, int cols, int channels) throws Exception {
        Map<String, Tensor> state = PyTorchScript.read(dir.resolve(name + ".safetensors"));
        Map<String, Tensor> check = PyTorchScript.read(dir.resolve(name + "-check.safetensors"));
        Net net = imported(state, arch, rows, cols, channels);
        Tensor images = check.get("images");
        int n = (int) images.shape()[0];
        INDArray x = Nd4j.createFromArray(images.floats()).reshape(n, (long) rows * cols * channels);
        float[] dl4j = PyTorchScript.logits(net, x).dup('c').data().asFloat();
        double worst = PyTorchScript.largestDifference(check.get("logits").floats(), dl4j);
        assertTrue(worst <= 1e-4, name + ": largest logit difference " + worst);

        // written back: PyTorch's keys, shapes and dtypes, and the bits that came in
        Map<String, Tensor> back = TorchWeights.export(net, arch, Optional.of(state));
        assertEquals(new java.util.TreeSet<>(state.keySet()), new java.util.TreeSet<>(back.keySet()));
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor b = back.get(e.getKey());
            assertEquals(e.getValue().dtype(), b.dtype(), e.getKey());
            assertArrayEquals(e.getValue().shape(), b.shape(), e.getKey());
            assertArrayEquals(e.getValue().data(), b.data(), e.getKey());
        }
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        Safetensors.write(back, Map.of(), a);
        Safetensors.write(TorchWeights.export(net, arch, Optional.of(state)), Map.of(), c);
        assertArrayEquals(a.toByteArray(), c.toByteArray(), "the same weights give the same file");
    }

    @Test
    void theReferenceLeNetGivesPyTorchsLogits() throws Exception {
        assertLogits("lenet", Architecture.LENET, 28, 28, 1);
    }

    @Test
    void theCifarResNet18GivesPyTorchsLogits() throws Exception {
        assertLogits("resnet18-w16", Architecture.RESNET18, 32, 32, 3);
    }
}
