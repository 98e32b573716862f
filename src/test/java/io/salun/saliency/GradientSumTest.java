package io.salun.saliency;

import io.salun.data.Shard;
import io.salun.model.Architecture;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.model.ParameterRoles;
import io.salun.model.ResNet18;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import io.salun.model.Optimizer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The summed cross-entropy gradient g = Σ_i ∇θ ℓCE(θ; x_i, y_i): independent of batching and
 * partitioning, equal to the sum of per-example gradients and to central finite differences of the
 * summed loss.
 */
class GradientSumTest {
    private static final int ROWS = 6;
    private static final int COLS = 6;
    private static final int D = ROWS * COLS;
    private static final int K = 4;

    /** {@code n} random forget rows with ids from 500. */
    private static Shard shard(int n, long seed) {
        return io.salun.data.RandomShards.of(n, D, K, seed, 500, 1, 1);
    }

    /** Rows [from, to) of a shard as a shard of their own. */
    private static Shard slice(Shard shard, int from, int to) {
        int n = to - from;
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        float[] features = new float[n * D];
        for (int i = 0; i < n; i++) {
            ids[i] = shard.id(from + i);
            labels[i] = shard.label(from + i);
            forget[i] = shard.forget(from + i);
            shard.copyFeatures(from + i, features, i * D);
        }
        return new Shard(ids, labels, forget, features, D);
    }

    private static MultiLayerNetwork network(DataType type) {
        MultiLayerConfiguration conf = Architecture.MLP.configuration(ROWS, COLS, K, 42L,
                new Optimizer("sgd", 0.1, 0, 0, 0));
        conf.setDataType(type);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        assertEquals(type, net.params().dataType());
        return net;
    }

    @Test
    void sumDoesNotDependOnBatchSize() {
        MultiLayerNetwork net = network(DataType.FLOAT);
        Shard shard = shard(45, 1);
        GradientSum whole = GradientSum.over(io.salun.model.Net.of(net), shard, shard.size(), K);
        assertEquals(net.numParams(), whole.result().length);
        for (int batch : new int[] {1, 7, 44, 1000}) {
            GradientSum sum = GradientSum.over(io.salun.model.Net.of(net), shard, batch, K);
            assertEquals(45, sum.examples(), "batch " + batch);
            assertClose(whole.result(), sum.result(), 1e-5, "batch " + batch + " vs whole shard");
        }
    }

    /** Independent reference: one example at a time through DL4J's own gradient, summed in double. */
    @Test
    void sumEqualsSumOfPerExampleGradients() {
        MultiLayerNetwork net = network(DataType.FLOAT);
        Shard shard = shard(30, 2);
        double[] expected = new double[(int) net.numParams()];
        for (int i = 0; i < shard.size(); i++) {
            net.setInput(features(shard, i, i + 1, DataType.FLOAT));
            net.setLabels(oneHot(shard, i, i + 1, DataType.FLOAT));
            net.computeGradientAndScore();
            double[] g = net.gradient().gradient().dup().toDoubleVector();
            for (int j = 0; j < g.length; j++) {
                expected[j] += g[j];
            }
        }
        double[] actual = GradientSum.over(io.salun.model.Net.of(net), shard, 8, K).result();
        assertClose(expected, actual, 1e-5, "per-example sum");
        assertTrue(maxAbs(expected) > 1e-3, "gradient is suspiciously small");
    }

    /**
     * Central differences of L(θ) = Σ_i −log softmax(f(x_i; θ))[y_i] in double precision, the loss
     * computed from the network's forward output (not its score), so a mean-vs-sum or sign mistake fails.
     */
    @Test
    void sumMatchesFiniteDifferencesOfTheSummedLoss() {
        MultiLayerNetwork net = network(DataType.DOUBLE);
        Shard shard = shard(25, 3);
        double[] g = GradientSum.over(io.salun.model.Net.of(net), shard, 7, K).result();
        int n = g.length;
        double scale = maxAbs(g);

        INDArray x = features(shard, 0, shard.size(), DataType.DOUBLE);
        INDArray params = net.params();
        SplittableRandom random = new SplittableRandom(4);
        int[] probes = new int[24];
        for (int p = 0; p < 16; p++) {
            probes[p] = random.nextInt(n);
        }
        int argmax = 0;
        for (int j = 1; j < n; j++) {
            if (Math.abs(g[j]) > Math.abs(g[argmax])) {
                argmax = j;
            }
        }
        probes[16] = argmax;
        for (int c = 0; c < K; c++) {
            probes[17 + c] = n - 1 - c;                  // output biases
        }
        probes[21] = D * 128;                             // first hidden bias
        probes[22] = D * 128 + 128;                       // first output weight
        probes[23] = D * 128 + 127;                       // last hidden bias

        double eps = 1e-6;
        int nonZero = 0;
        for (int j : probes) {
            double fd = centralDifference(io.salun.model.Net.of(net), params, j, eps, x, shard);
            assertEquals(fd, g[j], 1e-5 * scale + 1e-7, "parameter " + j);
            if (Math.abs(fd) > 1e-3 * scale) {
                nonZero++;
            }
        }
        assertTrue(nonZero >= 8, "only " + nonZero + " probed parameters have a gradient worth checking");
    }

    /**
     * A BatchNorm graph (ResNet-18 at width 1) in the form the saliency pass uses
     * ({@link NetworkSnapshot#inferenceForm}): the summed gradient equals central differences of the
     * summed inference-mode loss of the unchanged graph, running statistics get none, and it does not
     * depend on the batch size, which a training-mode pass (normalising by each batch's own
     * statistics) would fail.
     */
    @Test
    void aBatchNormGraphsSumInInferenceModeMatchesFiniteDifferences() {
        ComputationGraphConfiguration conf = ResNet18.configuration(ROWS, COLS, 1, K, 1, 42L,
                new Optimizer("sgd", 0.1, 0, 0, 0));
        conf.setDataType(DataType.DOUBLE);
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        Net net = Net.of(graph);
        // running statistics away from any batch's, as a trained network's are; float32-exact values
        SplittableRandom random = new SplittableRandom(8);
        INDArray params = net.params();
        long offset = 0;
        for (Net.Block b : net.blocks()) {
            for (long i = offset; i < offset + b.length(); i++) {
                double v = switch (b.param()) {
                    case "mean" -> 0.4 * (random.nextDouble() - 0.5);
                    case "var" -> 0.5 + random.nextDouble();
                    default -> params.getDouble(i);
                };
                params.putScalar(i, (double) (float) v);
            }
            offset += b.length();
        }
        Net inference = NetworkSnapshot.of(net).inferenceForm().net();
        Shard shard = shard(20, 9);
        double[] g = GradientSum.over(inference, shard, 7, K).result();
        assertClose(g, GradientSum.over(inference, shard, 1, K).result(), 1e-9, "batch 1 vs batch 7");
        assertClose(g, GradientSum.over(inference, shard, 20, K).result(), 1e-9, "batch 20 vs batch 7");

        boolean[] statistics = ParameterRoles.untrainable(net);
        INDArray x = features(shard, 0, shard.size(), DataType.DOUBLE);
        double scale = maxAbs(g);
        double eps = 1e-6;
        int checked = 0;
        int nonZero = 0;
        for (int j = 0; j < g.length; j += 3) {
            if (statistics[j]) {
                assertEquals(0.0, g[j], "running statistic " + j + " got a gradient");
                continue;
            }
            double fd = centralDifference(net, params, j, eps, x, shard);
            assertEquals(fd, g[j], 1e-5 * scale + 1e-7, "parameter " + j);
            checked++;
            nonZero += Math.abs(fd) > 1e-3 * scale ? 1 : 0;
        }
        assertTrue(checked > 200 && nonZero > 50, checked + " probes, " + nonZero + " with a gradient worth checking");
    }

    @Test
    void mergeOfHalvesEqualsTheWhole() {
        MultiLayerNetwork net = network(DataType.FLOAT);
        Shard shard = shard(40, 5);
        Shard left = slice(shard, 0, 17);
        Shard right = slice(shard, 17, 40);
        GradientSum a = GradientSum.over(io.salun.model.Net.of(net), left, 5, K);
        GradientSum b = GradientSum.over(io.salun.model.Net.of(net), right, 5, K);
        assertEquals(17, a.examples());
        assertEquals(23, b.examples());
        GradientSum merged = a.merge(b);
        assertEquals(40, merged.examples());
        assertClose(GradientSum.over(io.salun.model.Net.of(net), shard, 5, K).result(), merged.result(), 1e-5, "merged halves");

        GradientSum empty = GradientSum.empty((int) net.numParams());
        assertEquals(0, empty.examples());
        assertTrue(Arrays.stream(empty.result()).allMatch(v -> v == 0.0));
        double[] before = merged.result();
        assertArrayEquals(before, merged.merge(GradientSum.empty((int) net.numParams())).result(), 0.0,
                "merging the empty sum changes nothing");
        assertEquals(40, merged.examples());
        assertTrue(Arrays.stream(GradientSum.over(io.salun.model.Net.of(net), slice(shard, 0, 0), 5, K).result()).allMatch(v -> v == 0.0),
                "an empty shard sums to zero");
    }

    @Test
    void resultIsACopy() {
        GradientSum sum = GradientSum.empty(3).add(Nd4j.createFromArray(1f, 2f, 3f), 1);
        sum.result()[0] = 99;
        assertEquals(1.0, sum.result()[0]);
    }

    @Test
    void addAccumulatesAndCounts() {
        GradientSum sum = GradientSum.empty(3)
                .add(Nd4j.createFromArray(1f, -2f, 0.5f), 4)
                .add(Nd4j.createFromArray(0.25f, 2f, 1.5f), 3);
        assertArrayEquals(new double[] {1.25, 0, 2}, sum.result(), 0.0);
        assertEquals(7, sum.examples());
    }

    /**
     * {@link GradientSum#add} promises to accept any flattened length-N array. A row of a larger
     * matrix is such an array (a view at a non-zero offset); it must be read at its own elements.
     */
    @Test
    void addReadsARowViewAtItsOwnElements() {
        INDArray matrix = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}});
        INDArray row = matrix.getRow(1);
        assertArrayEquals(new float[] {4, 5, 6}, row.toFloatVector(), "ND4J's own reading of the view");
        assertArrayEquals(new double[] {4, 5, 6}, GradientSum.empty(3).add(row, 1).result(), 0.0, "row view");
    }

    /** Same for a strided view (a column of a row-major matrix). */
    @Test
    void addReadsAStridedViewAtItsOwnElements() {
        INDArray matrix = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}});
        INDArray column = matrix.getColumn(0);
        assertArrayEquals(new double[] {1, 4, 7, 10}, GradientSum.empty(4).add(column, 1).result(), 0.0,
                "column view");
    }

    @Test
    void wrongLengthIsRejected() {
        GradientSum sum = GradientSum.empty(5);
        assertThrows(IllegalArgumentException.class, () -> sum.add(Nd4j.zeros(DataType.FLOAT, 4), 1));
        assertThrows(IllegalArgumentException.class, () -> sum.add(Nd4j.zeros(DataType.FLOAT, 6), 1));
        assertThrows(IllegalArgumentException.class, () -> sum.merge(GradientSum.empty(4)));
        assertEquals(0, sum.examples(), "a rejected add must not count examples");
        MultiLayerNetwork net = network(DataType.FLOAT);
        GradientSum wrongNet = GradientSum.empty((int) net.numParams() + 1);
        net.setInput(features(shard(2, 6), 0, 2, DataType.FLOAT));
        net.setLabels(oneHot(shard(2, 6), 0, 2, DataType.FLOAT));
        net.computeGradientAndScore();
        assertThrows(IllegalArgumentException.class, () -> wrongNet.add(net.gradient().gradient(), 2));
    }

    /** (L(θ + ε·e_j) − L(θ − ε·e_j)) / 2ε of the summed loss, θ_j restored after. */
    private static double centralDifference(Net net, INDArray params, int j, double eps, INDArray x, Shard shard) {
        double theta = params.getDouble(j);
        params.putScalar(j, theta + eps);
        double up = summedLoss(net, x, shard);
        params.putScalar(j, theta - eps);
        double down = summedLoss(net, x, shard);
        params.putScalar(j, theta);
        return (up - down) / (2 * eps);
    }

    private static double summedLoss(Net net, INDArray x, Shard shard) {
        INDArray p = net.output(x, false);
        double loss = 0;
        for (int i = 0; i < shard.size(); i++) {
            loss -= Math.log(p.getDouble(i, shard.label(i)));
        }
        return loss;
    }

    private static INDArray features(Shard shard, int from, int to, DataType type) {
        float[] x = new float[(to - from) * D];
        for (int i = from; i < to; i++) {
            shard.copyFeatures(i, x, (i - from) * D);
        }
        return Nd4j.create(x, new long[] {to - from, D}, 'c').castTo(type);
    }

    private static INDArray oneHot(Shard shard, int from, int to, DataType type) {
        INDArray y = Nd4j.zeros(type, to - from, K);
        for (int i = from; i < to; i++) {
            y.putScalar(i - from, shard.label(i), 1.0);
        }
        return y;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double d : v) {
            m = Math.max(m, Math.abs(d));
        }
        return m;
    }

    /** |expected_i − actual_i| ≤ tolerance · max_j |expected_j| for every i. */
    private static void assertClose(double[] expected, double[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double bound = tolerance * maxAbs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= bound)) {
                throw new AssertionError(what + ": component " + i + " expected " + expected[i] + " but was "
                        + actual[i] + " (bound " + bound + ")");
            }
        }
    }
}
