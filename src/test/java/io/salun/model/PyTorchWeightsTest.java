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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

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

    /** Runs the PyTorch script with {@code args}; fails naming what to install when torch is missing. */
    static void python(Path log, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Files.isExecutable(Path.of("/usr/bin/python3"))
                ? "/usr/bin/python3" : "python3", Path.of("src/test/python/pytorch_models.py").toAbsolutePath().toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "pytorch_models.py did not finish");
        assertEquals(0, p.exitValue(), "pytorch_models.py failed (the interop tests need Debian's python3-torch:"
                + " apt-get install python3-torch): " + Files.readString(log));
    }

    @BeforeAll
    static void makeModels() throws Exception {
        python(dir.resolve("make.log"), "make", dir.toString());
    }

    static Map<String, Tensor> read(Path file) throws Exception {
        return Safetensors.read(Files.readAllBytes(file), "test", file.toString());
    }

    /** The network of {@code arch} that reads {@code state}, with the state's weights. */
    static Net imported(Map<String, Tensor> state, Architecture arch, int rows, int cols, int channels) {
        Net net = arch.network(rows, cols, channels, TorchWeights.classes(state, arch, "test", "fixture"), 1,
                new Optimizer("sgd", 0.1, 0.9, 0, 0), 16, TorchWeights.normalises(state));
        TorchWeights.load(state, net, arch, "test", "fixture");
        return net;
    }

    /** The network's logits (its output layer's pre-softmax values) for flat images {@code x}. */
    static INDArray logits(Net net, INDArray x) {
        if (net.isGraph()) {
            INDArray features = net.graph().feedForward(x, false).get("avgpool");
            Map<String, INDArray> fc = net.graph().getVertex("fc").getLayer().paramTable();
            return features.mmul(fc.get("W")).addRowVector(fc.get("b"));
        }
        List<INDArray> acts = net.stack().feedForward(x, false);
        Map<String, INDArray> out = net.stack().getLayer(5).paramTable();
        return acts.get(5).mmul(out.get("W")).addRowVector(out.get("b"));
    }

    private static void assertLogits(String name, Architecture arch, int rows, int cols, int channels) throws Exception {
        Map<String, Tensor> state = read(dir.resolve(name + ".safetensors"));
        Map<String, Tensor> check = read(dir.resolve(name + "-check.safetensors"));
        Net net = imported(state, arch, rows, cols, channels);
        Tensor images = check.get("images");
        int n = (int) images.shape()[0];
        INDArray x = Nd4j.createFromArray(images.floats()).reshape(n, (long) rows * cols * channels);
        float[] dl4j = logits(net, x).dup('c').data().asFloat();
        float[] torch = check.get("logits").floats();
        assertEquals(torch.length, dl4j.length);
        double worst = 0;
        for (int i = 0; i < torch.length; i++) {
            worst = Math.max(worst, Math.abs(torch[i] - dl4j[i]));
        }
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
