package io.salun.unlearn;

import io.salun.data.Example;
import io.salun.data.IdxSource;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.forget.ForgetSpec;
import io.salun.forget.ForgetSplit;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
import io.salun.model.Architecture;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.saliency.SaliencyStage;
import io.salun.spark.LocalSpark;
import io.salun.train.DataOrder;
import io.salun.train.ParameterAveraging;
import io.salun.train.Minibatch;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each baseline moves the model the way its definition says, on the Fashion-MNIST slice. */
class MethodsSparkTest {
    private static final int K = 10;
    private static SparkSession spark;
    private static JavaSparkContext sc;
    private static Unlearning.Inputs inputs;
    private static Bitset mask;

    @BeforeAll
    static void trainOriginal() {
        spark = LocalSpark.start("methods");
        sc = LocalSpark.context(spark);
        String images = LocalSpark.trainImages();
        String labels = LocalSpark.trainLabels();
        JavaRDD<Example> d = IdxSource.read(sc, images, labels, 2).filter(e -> e.id() < 1500);
        ForgetSplit.Result split = ForgetSplit.apply(sc, d, new ForgetSpec.Random(0.1), 3);
        JavaRDD<Shard> all = Shards.cache(split.flagged(), "D");
        JavaRDD<Shard> forget = Shards.cache(split.flagged().filter(Example::forget), "Df");
        JavaRDD<Shard> retain = Shards.cache(split.flagged().filter(e -> !e.forget()), "Dr");
        Optimizer sgd = new Optimizer("sgd", 0.05, 0.9, 5e-4, 0);
        MultiLayerNetwork init = new MultiLayerNetwork(Architecture.MLP.configuration(28, 28, K, 2, sgd));
        init.init();
        Unlearning.Inputs untrained = new Unlearning.Inputs(NetworkSnapshot.of(init), io.salun.model.NetworkConfig.of(init.getLayerWiseConfigurations()),
                all, forget, retain, K, 3, 2);
        // the "original": the engine's own training on all of D, from the configuration's initialisation
        Recipe training = new Recipe(sgd, 6, 32, 4, DataOrder.MIXED, true, 0);
        Unlearning.Inputs onD = new Unlearning.Inputs(untrained.original(), untrained.originalConfiguration(),
                all, forget, all, K, 3, 2);
        NetworkSnapshot original = train(Method.RETRAIN, Optional.empty(), training, onD);
        inputs = new Unlearning.Inputs(original, io.salun.model.NetworkConfig.of(init.getLayerWiseConfigurations()), all, forget, retain, K, 3, 2);
        mask = SaliencyStage.mask(sc, original, forget, 100, K, 0.5, 2);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** {@code method} as the run trains it: its stage on the engine. */
    private static NetworkSnapshot train(Method method, Optional<Bitset> mask, Recipe recipe, Unlearning.Inputs in) {
        Stage stage = Unlearning.stage(method, mask, recipe, in);
        return ParameterAveraging.train(sc, stage.start(), stage.data(), stage.plan(), stage.mask()).network();
    }

    private static Recipe recipe(double lr, int epochs) {
        return new Recipe(new Optimizer("sgd", lr, 0.9, 5e-4, 0), epochs, 32, 4, DataOrder.MIXED, true, 5e-3);
    }

    /** Mean cross-entropy of the true labels over shards, computed from the model's probabilities. */
    private static double meanLoss(NetworkSnapshot model, JavaRDD<Shard> shards) {
        MultiLayerNetwork net = model.build();
        double total = 0;
        long n = 0;
        for (Shard shard : shards.collect()) {
            for (int from = 0; from < shard.size(); from += 200) {
                int to = Math.min(shard.size(), from + 200);
                INDArray p = net.output(Minibatch.inOrder(shard, from, to, K).features(), false);
                for (int i = 0; i < to - from; i++) {
                    total -= Math.log(Math.max(1e-12, p.getDouble(i, shard.label(from + i))));
                    n++;
                }
            }
        }
        return total / n;
    }

    private static double l1(NetworkSnapshot model) {
        double s = 0;
        for (float v : model.parameters()) {
            s += Math.abs(v);
        }
        return s;
    }

    private static void assertMaskedUnchanged(NetworkSnapshot after) {
        assertTrue(MaskAssertions.assertMaskedUnchanged(mask, inputs.original().parameters(), after.parameters()) > 0,
                "no trainable parameter moved");
    }

    /**
     * {@code unlearn.order} is RL's and SalUn's option; NegGrad+ and SCRUB keep the order their
     * definitions give (both parts in every minibatch; max-steps then min-steps), so a sequential
     * recipe trains NegGrad+ to the same bits as a mixed one.
     */
    @Test
    void onlyRandomLabellingFollowsTheRecipesDataOrder() {
        for (DataOrder order : DataOrder.values()) {
            if (order == DataOrder.RETAIN) {
                continue;
            }
            Recipe r = new Recipe(new Optimizer("sgd", 0.01, 0.9, 5e-4, 0), 1, 32, 4, order, true, 0);
            assertEquals(order, Unlearning.stage(Method.RL, Optional.empty(), r, inputs).plan().order());
            assertEquals(order, Unlearning.stage(Method.SALUN, Optional.of(mask), r, inputs).plan().order());
            assertEquals(DataOrder.MIXED, Unlearning.stage(Method.NEGGRAD_PLUS, Optional.empty(), r, inputs).plan().order());
            assertEquals(DataOrder.SEQUENTIAL, Unlearning.stage(Method.SCRUB, Optional.empty(), r, inputs).plan().order());
        }
        java.util.function.Function<DataOrder, Recipe> negGrad = order -> new Recipe(
                new Optimizer("sgd", 0.01, 0.9, 5e-4, 0), 1, 32, 4, order, true, 0);
        org.junit.jupiter.api.Assertions.assertArrayEquals(
                train(Method.NEGGRAD_PLUS, Optional.empty(), negGrad.apply(DataOrder.MIXED), inputs).parameters(),
                train(Method.NEGGRAD_PLUS, Optional.empty(), negGrad.apply(DataOrder.SEQUENTIAL), inputs).parameters());
        // and the order is not idle where it applies: RL's two orders train different weights
        org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(
                train(Method.RL, Optional.empty(), negGrad.apply(DataOrder.MIXED), inputs).parameters(),
                train(Method.RL, Optional.empty(), negGrad.apply(DataOrder.SEQUENTIAL), inputs).parameters()));
    }

    @Test
    void gradientAscentRaisesTheForgetLoss() {
        double before = meanLoss(inputs.original(), inputs.forget());
        NetworkSnapshot ga = train(Method.GA, Optional.empty(), recipe(0.002, 2), inputs);
        assertTrue(meanLoss(ga, inputs.forget()) > before + 0.05, "GA: forget loss " + before + " -> " + meanLoss(ga, inputs.forget()));
        NetworkSnapshot gaMasked = train(Method.GA, Optional.of(mask), recipe(0.002, 2), inputs);
        assertTrue(meanLoss(gaMasked, inputs.forget()) > before, "GA+mask did not raise the forget loss");
        assertMaskedUnchanged(gaMasked);
    }

    @Test
    void fineTuningLowersTheRetainLossAndL1SparseShrinksTheWeights() {
        double before = meanLoss(inputs.original(), inputs.retain());
        NetworkSnapshot ft = train(Method.FT, Optional.empty(), recipe(0.02, 3), inputs);
        assertTrue(meanLoss(ft, inputs.retain()) < before, "FT: retain loss " + before + " -> " + meanLoss(ft, inputs.retain()));
        NetworkSnapshot sparse = train(Method.L1_SPARSE, Optional.empty(), recipe(0.02, 3), inputs);
        assertTrue(l1(sparse) < l1(ft), "l1-sparse ||θ||1 " + l1(sparse) + " is not below FT's " + l1(ft));
        NetworkSnapshot ftMasked = train(Method.FT, Optional.of(mask), recipe(0.02, 3), inputs);
        assertMaskedUnchanged(ftMasked);
    }

    @Test
    void randomLabelsRaiseTheForgetLossWhileSalunKeepsMaskedWeights() {
        double forgetBefore = meanLoss(inputs.original(), inputs.forget());
        NetworkSnapshot rl = train(Method.RL, Optional.empty(), recipe(0.02, 3), inputs);
        assertTrue(meanLoss(rl, inputs.forget()) > forgetBefore, "RL did not raise the forget loss");
        NetworkSnapshot salun = train(Method.SALUN, Optional.of(mask), recipe(0.02, 3), inputs);
        assertTrue(meanLoss(salun, inputs.forget()) > forgetBefore, "SalUn did not raise the forget loss");
        assertMaskedUnchanged(salun);
    }

    @Test
    void negGradPlusAscendsOnTheForgetSetWhileHoldingTheRetainSet() {
        double forgetBefore = meanLoss(inputs.original(), inputs.forget());
        Recipe recipe = new Recipe(new Optimizer("sgd", 0.01, 0.9, 5e-4, 0), 2, 32, 4, DataOrder.MIXED, true, 0,
                io.salun.model.LrSchedule.Spec.CONSTANT, 0.5);
        NetworkSnapshot ng = train(Method.NEGGRAD_PLUS, Optional.empty(), recipe, inputs);
        double forgetAfter = meanLoss(ng, inputs.forget());
        assertTrue(forgetAfter > forgetBefore, "NegGrad+: forget loss " + forgetBefore + " -> " + forgetAfter);
        // the retain part descends: the retain set stays better fitted than the forget set it ascends on
        assertTrue(meanLoss(ng, inputs.retain()) < forgetAfter, "NegGrad+: retain loss " + meanLoss(ng, inputs.retain())
                + " is not below the forget loss " + forgetAfter);
        NetworkSnapshot masked = train(Method.NEGGRAD_PLUS, Optional.of(mask), recipe, inputs);
        assertMaskedUnchanged(masked);
    }

    /**
     * SFR-on's mask against a brute-force ranking: every record's gradient taken on its own by plain
     * DL4J, squared, averaged per set, and each parameter's ratio compared with the threshold.
     */
    @Test
    void sfronMaskIsTheFisherRatioComputedByBruteForce() {
        double threshold = 1.0;
        Unlearning.SfrOnMask m = Unlearning.sfronMask(sc, inputs, threshold);
        double[] forget = bruteFisher(inputs.forget());
        double[] retain = bruteFisher(inputs.retain());
        int n = forget.length;
        long disagreements = 0;
        long expected = 0;
        for (int i = 0; i < n; i++) {
            double ratio = (forget[i] + 1e-15) / (retain[i] + 1e-15);
            boolean salient = ratio >= threshold;
            expected += salient ? 1 : 0;
            // float rounding may flip a parameter whose ratio sits on the threshold itself
            if (salient != m.mask().get(i) && Math.abs(ratio - threshold) > 1e-4) {
                disagreements++;
            }
        }
        assertEquals(0, disagreements, "parameters whose bit differs from the brute-force ratio");
        assertTrue(expected > 0 && expected < n, "the ratio selects some but not all parameters: " + expected + " of " + n);
        assertEquals(m.mask().cardinality(), m.salient(), "an MLP has no statistics");
        assertTrue(Math.abs(m.salient() - expected) <= n / 10_000 + 2, m.salient() + " salient against " + expected);
    }

    /** The mean squared per-record gradient over {@code set}, one record at a time. */
    private static double[] bruteFisher(JavaRDD<Shard> set) {
        io.salun.model.Net net = inputs.original().inferenceForm().net();
        double[] sum = new double[(int) net.numParams()];
        long count = 0;
        for (Shard shard : set.collect()) {
            for (int row = 0; row < shard.size(); row++) {
                float[] x = new float[shard.featureLength()];
                shard.copyFeatures(row, x, 0);
                float[] y = new float[K];
                y[shard.label(row)] = 1;
                double[] g = net.gradient(org.nd4j.linalg.factory.Nd4j.create(x, new long[] {1, x.length}, 'c'),
                        org.nd4j.linalg.factory.Nd4j.create(y, new long[] {1, K}, 'c'))
                        .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector();
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += g[i] * g[i];
                }
                count++;
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= count;
        }
        return sum;
    }

    /**
     * SFR-on on the engine: the forget loss rises while the retain set stays fitted better than the
     * forget set, and weights outside its forget-step mask move too (its retain steps train all).
     */
    @Test
    void sfronAscendsOnTheForgetSetAndTrainsEveryWeightOnTheRetainSet() {
        Unlearning.SfrOnMask m = Unlearning.sfronMask(sc, inputs, 1.0);
        Recipe recipe = new Recipe(new Optimizer("sgd", 0.01, 0.9, 5e-4, 0), 3, 32, 4, DataOrder.MIXED, true, 0,
                io.salun.model.LrSchedule.Spec.CONSTANT, Recipe.NEGGRAD_BETA, Recipe.Scrub.DEFAULT,
                new Recipe.SfrOn(25, 0.5, 7, 1, 1));
        Stage stage = Unlearning.sfron(m, recipe, inputs);
        assertTrue(stage.mask().isEmpty(), "SFR-on's stage has no engine mask");
        NetworkSnapshot after = ParameterAveraging.train(sc, stage.start(), stage.data(), stage.plan(), stage.mask()).network();
        double forgetBefore = meanLoss(inputs.original(), inputs.forget());
        double forgetAfter = meanLoss(after, inputs.forget());
        assertTrue(forgetAfter > forgetBefore, "SFR-on: forget loss " + forgetBefore + " -> " + forgetAfter);
        assertTrue(meanLoss(after, inputs.retain()) < forgetAfter, "SFR-on: retain loss " + meanLoss(after, inputs.retain())
                + " is not below the forget loss " + forgetAfter);
        long movedOutside = 0;
        float[] before = inputs.original().parameters();
        for (int i = 0; i < before.length; i++) {
            movedOutside += !m.mask().get(i) && after.parameters()[i] != before[i] ? 1 : 0;
        }
        assertTrue(movedOutside > 0, "no weight outside the forget-step mask moved");
        // iteration counter: every retain step and every forget step is an optimiser step
        int steps = ParameterAveraging.stepsPerEpoch(inputs.all(), 32, DataOrder.RETAIN);
        assertEquals(3 * 2 * steps, after.iteration(), "optimiser steps of 3 epochs");
    }

    @Test
    void retrainStartsFromScratchAndNeverSeesTheForgetSet() {
        Recipe training = new Recipe(new Optimizer("sgd", 0.05, 0.9, 5e-4, 0), 6, 32, 4,
                DataOrder.MIXED, true, 0);
        NetworkSnapshot retrained = train(Method.RETRAIN, Optional.empty(), training, inputs);
        // trained on Dr only: fits Dr better than Df, which it treats like unseen data
        assertTrue(meanLoss(retrained, inputs.retain()) < meanLoss(retrained, inputs.forget()));
        assertTrue(meanLoss(retrained, inputs.forget()) > meanLoss(inputs.original(), inputs.forget()));
        for (Method m : Method.values()) {
            assertEquals(m, Method.parse(m.id()), "every method's id parses back to it");
        }
    }
}
