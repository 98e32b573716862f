package io.salun.model;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch's side of the interop tests: runs {@code src/test/python/pytorch_models.py} with
 * Debian's python3-torch, and reads what it writes.
 */
public final class PyTorchScript {
    private PyTorchScript() {
    }

    /** Runs the script with {@code args}, its output to {@code log}; fails naming what to install when torch is missing. */
    public static void run(Path log, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Files.isExecutable(Path.of("/usr/bin/python3"))
                ? "/usr/bin/python3" : "python3", Path.of("src/test/python/pytorch_models.py").toAbsolutePath().toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "pytorch_models.py did not finish");
        assertEquals(0, p.exitValue(), "pytorch_models.py failed (the interop tests need Debian's python3-torch:"
                + " apt-get install python3-torch): " + Files.readString(log));
    }

    /** The tensors of a safetensors file. */
    public static Map<String, Safetensors.Tensor> read(Path file) throws Exception {
        return Safetensors.read(Files.readAllBytes(file), "test", file.toString());
    }

    /** The network's logits (its output layer's pre-softmax values) for flat images {@code x}, in inference mode. */
    public static INDArray logits(Net net, INDArray x) {
        if (net.isGraph()) {
            INDArray features = net.graph().feedForward(x, false).get("avgpool");
            Map<String, INDArray> fc = net.graph().getVertex("fc").getLayer().paramTable();
            return features.mmul(fc.get("W")).addRowVector(fc.get("b"));
        }
        List<INDArray> acts = net.stack().feedForward(x, false);
        Map<String, INDArray> out = net.stack().getLayer(5).paramTable();
        return acts.get(5).mmul(out.get("W")).addRowVector(out.get("b"));
    }

    /** The largest absolute difference between two arrays of logits of one shape. */
    public static double largestDifference(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "logit counts");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        return worst;
    }
}
