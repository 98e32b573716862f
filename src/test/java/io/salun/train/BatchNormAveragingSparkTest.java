package io.salun.train;

import io.salun.data.IdxSource;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.model.Architecture;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.spark.LocalSparkTest;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parameter-averaging engine on BatchNorm graphs: one partition equals plain DL4J training bit
 * for bit, and the running statistics it publishes after a round over two partitions are the
 * example-weighted mean of what each partition's step stored, computed here by hand from the
 * layers' inputs (SALUN-SPEC §2a): an arithmetic mean of running variances where DL4J stores the
 * variance (the job's ResNet-18), a geometric mean of running standard deviations where it stores
 * log10 of the standard deviation (DL4J's default, which a user's zip may carry).
 */
class BatchNormAveragingSparkTest extends LocalSparkTest {
    private static final double DECAY = 0.9;

    private static NetworkSnapshot resnet(Optimizer optimizer) {
        return NetworkSnapshot.of(Architecture.RESNET18.network(28, 28, 1, 10, 5, optimizer, 2, false));
    }

    /** conv → BatchNorm (log10 std) → ReLU → conv → BatchNorm (log10 std) → average pool → softmax. */
    private static NetworkSnapshot logStdGraph() {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(5)
                        .dataType(DataType.FLOAT).convolutionMode(ConvolutionMode.Truncate)
                        .updater(new org.nd4j.linalg.learning.config.Nesterovs(0.05, 0.9))
                .graphBuilder().addInputs("input").setInputTypes(InputType.convolutionalFlat(28, 28, 1))
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(4).activation(Activation.IDENTITY).build(), "input")
                .addLayer("b1", new BatchNormalization.Builder().useLogStd(true).build(), "c1")
                .addLayer("r1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "b1")
                .addLayer("c2", new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(6).activation(Activation.IDENTITY).build(), "r1")
                .addLayer("b2", new BatchNormalization.Builder().useLogStd(true).build(), "c2")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "b2")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out");
        ComputationGraph graph = new ComputationGraph(g.build());
        graph.init();
        return NetworkSnapshot.of(graph);
    }

    @Test
    void onePartitionOfAGraphEqualsPlainSingleJvmTraining() {
        NetworkSnapshot start = resnet(new Optimizer("sgd", 0.05, 0.9, 5e-4, 0));
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 1).filter(e -> e.id() < 200)
                .map(e -> e.withForget(e.id() % 10 == 0)), "one partition");
        Labelling labelling = Labelling.randomForgetLabels(9, 10, true);
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan("t", 2, 32, 3, 10, 9, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2);
        NetworkSnapshot engine = ParameterAveraging.train(sc, start, shards, plan, Optional.empty()).network();

        Shard shard = shards.first();
        shards.unpersist();
        Net plain = PlainTraining.train(start, shard, plan, labelling);
        PlainTraining.assertSameBits(plain.params().toFloatVector(), engine.parameters(), "parameter");
        PlainTraining.assertSameBits(plain.updaterState().toFloatVector(), engine.updaterState(), "state");
        assertEquals(plain.iteration(), engine.iteration());
    }

    /** A masked graph stopped after 2 of 3 epochs and resumed from its checkpoint ends in the bits of an uninterrupted run. */
    @Test
    void aGraphResumedFromACheckpointEndsInTheSameBits(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        NetworkSnapshot start = resnet(new Optimizer("sgd", 0.05, 0.9, 5e-4, 0));
        io.salun.mask.Bitset mask = io.salun.mask.SaliencyMask.topK(new java.util.SplittableRandom(4).doubles(start.size())
                .toArray(), 0.5, io.salun.model.ParameterRoles.untrainable(start));
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 2).filter(e -> e.id() % 10 == 0)
                .map(e -> e.withForget(e.id() % 70 == 0)), "two partitions");
        Labelling labelling = Labelling.randomForgetLabels(4, 10, true);
        ParameterAveraging.Plan three = new ParameterAveraging.Plan("g", 3, 32, 2, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2);
        ParameterAveraging.Result whole = ParameterAveraging.train(sc, start, shards, three, Optional.of(mask));
        Checkpoints checkpoints = Checkpoints.open(dir.resolve("ckpt").toString(), "run-1", 2, sc.hadoopConfiguration());
        ParameterAveraging.Plan two = new ParameterAveraging.Plan("g", 2, 32, 2, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2);
        ParameterAveraging.train(sc, start, shards, two, Optional.of(mask), Optional.of(checkpoints));
        assertTrue(checkpoints.latest("g").isPresent());
        ParameterAveraging.Result resumed = ParameterAveraging.train(sc, start, shards, three, Optional.of(mask),
                Optional.of(checkpoints));
        shards.unpersist();
        PlainTraining.assertSameBits(whole.network().parameters(), resumed.network().parameters(), "parameter");
        assertEquals(whole.losses(), resumed.losses());
        io.salun.mask.MaskAssertions.assertMaskedUnchanged(mask, start.parameters(), resumed.network().parameters());
    }

    /**
     * One round of one step on each of two partitions, each step over its whole partition: each
     * partition's running statistics become {@code d·s₀ + (1−d)·batch} (the batch's mean, and its
     * biased variance, per channel, of the BatchNorm's input at the start weights), and the engine
     * publishes their mean weighted by the partitions' sizes, in the stored form.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"variance (resnet18)", "log10 std"})
    void statisticsAverageAsTheHandComputationSays(String storage) {
        boolean logStd = storage.startsWith("log");
        NetworkSnapshot start = logStd ? logStdGraph() : resnet(new Optimizer("sgd", 0.05, 0.9, 0, 0));
        // partitions whose images differ (pullovers in the first, half as many sandals in the second),
        // so a weighted mean, an unweighted one and a mean of another form tell apart
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 2).filter(e -> e.id() < 1500
                ? e.label() == 2 : e.label() == 5 && e.id() % 2 == 0), "two partitions");
        List<Shard> parts = shards.collect();
        assertEquals(2, parts.size());
        assertTrue(parts.get(0).size() > 1.5 * parts.get(1).size() && parts.get(1).size() > 20,
                "partitions of " + parts.get(0).size() + " and " + parts.get(1).size() + " records");
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan("s", 1, 1000, 1, 10, 3, DataOrder.MIXED,
                Labelling.trueLabels(), new GradientTerm.None(), 2);
        NetworkSnapshot engine = ParameterAveraging.train(sc, start, shards, plan, Optional.empty()).network();
        shards.unpersist();

        // by hand, in double: each partition's batch moments of every BatchNorm's input at the start
        // weights (a training-mode forward pass), the running update, then the weighted mean
        Net net = start.net();
        Map<String, double[]> weighted = new HashMap<>();
        Map<String, double[]> unweighted = new HashMap<>();
        Map<String, double[]> tolerance = new HashMap<>();
        long total = 0;
        for (Shard part : parts) {
            Map<String, INDArray> acts = start.net().graph().feedForward(
                    Minibatch.inOrder(part, 0, part.size(), 10).features(), true);
            long offset = 0;
            for (Net.Block b : net.blocks()) {
                if (b.conf() instanceof BatchNormalization && !b.param().equals("gamma") && !b.param().equals("beta")) {
                    String input = net.graph().getConfiguration().getVertexInputs().get(b.layer()).get(0);
                    double[][] m = channelMoments(acts.get(input));
                    String key = b.layer() + "/" + b.param();
                    double[] w = weighted.computeIfAbsent(key, k -> new double[(int) b.length()]);
                    double[] u = unweighted.computeIfAbsent(key, k -> new double[(int) b.length()]);
                    double[] tol = tolerance.computeIfAbsent(key, k -> new double[(int) b.length()]);
                    for (int c = 0; c < b.length(); c++) {
                        double before = start.parameters()[(int) offset + c];
                        double after;
                        double error; // what DL4J's float32 reductions over N·H·W values may be off by
                        switch (b.param()) {
                            case "mean" -> {
                                after = DECAY * before + (1 - DECAY) * m[0][c];
                                error = (1 - DECAY) * 1e-3 * m[2][c];
                            }
                            case "var" -> {
                                after = DECAY * before + (1 - DECAY) * m[1][c];
                                error = (1 - DECAY) * 1e-3 * m[3][c];
                            }
                            default -> {   // log10 of the standard deviation: ½·log10 of the updated variance
                                double variance = DECAY * Math.pow(100, before) + (1 - DECAY) * m[1][c];
                                after = 0.5 * Math.log10(variance);
                                error = 0.5 / Math.log(10) * (1 - DECAY) * 1e-3 * m[3][c] / variance;
                            }
                        }
                        w[c] += part.size() * after;
                        u[c] += after / parts.size();
                        tol[c] = Math.max(tol[c], error + 1e-7);
                    }
                }
                offset += b.length();
            }
            total += part.size();
        }
        long offset = 0;
        int checked = 0;
        int unweightedOff = 0;
        for (Net.Block b : net.blocks()) {
            String key = b.layer() + "/" + b.param();
            if (weighted.containsKey(key)) {
                for (int c = 0; c < b.length(); c++) {
                    double want = weighted.get(key)[c] / total;
                    double got = engine.parameters()[(int) offset + c];
                    double tol = tolerance.get(key)[c];
                    assertEquals(want, got, tol, b.layer() + " " + b.param() + " channel " + c);
                    assertTrue(got != start.parameters()[(int) offset + c], key + " channel " + c + " did not move");
                    unweightedOff += Math.abs(unweighted.get(key)[c] - got) > tol ? 1 : 0;
                    checked++;
                }
            }
            offset += b.length();
        }
        assertEquals(logStd ? 2 * (4 + 6) : 2 * countBatchNormChannels(net), checked);
        assertTrue(unweightedOff > checked / 2, "the partitions are too alike for this test to tell a weighted mean"
                + " from an unweighted one: " + unweightedOff + " of " + checked);
    }

    private static int countBatchNormChannels(Net net) {
        int channels = 0;
        for (Net.Block b : net.blocks()) {
            channels += b.conf() instanceof BatchNormalization && b.param().equals("gamma") ? (int) b.length() : 0;
        }
        return channels;
    }

    /**
     * Per channel of an NCHW activation, over batch and positions: the mean, the biased variance,
     * the mean absolute value and the mean square.
     */
    private static double[][] channelMoments(INDArray a) {
        long n = a.size(0);
        long c = a.size(1);
        long hw = a.size(2) * a.size(3);
        double[] v = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[][] m = new double[4][(int) c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (long i = 0; i < n; i++) {
                for (long j = 0; j < hw; j++) {
                    s += v[(int) ((i * c + ch) * hw + j)];
                }
            }
            double mean = s / (n * hw);
            double q = 0;
            double abs = 0;
            double square = 0;
            for (long i = 0; i < n; i++) {
                for (long j = 0; j < hw; j++) {
                    double x = v[(int) ((i * c + ch) * hw + j)];
                    q += (x - mean) * (x - mean);
                    abs += Math.abs(x);
                    square += x * x;
                }
            }
            m[2][ch] = abs / (n * hw);
            m[3][ch] = square / (n * hw);
            m[0][ch] = mean;
            m[1][ch] = q / (n * hw);
        }
        return m;
    }
}
