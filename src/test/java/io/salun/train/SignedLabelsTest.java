package io.salun.train;

import io.salun.data.RandomShards;
import io.salun.data.Shard;
import io.salun.model.Architecture;
import io.salun.model.Net;
import io.salun.model.NetworkConfig;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.model.WeightedCrossEntropy;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NegGrad+ on a tiny network: the label rows carry the part weights, and one step of the engine's
 * kernel equals {@code θ − lr·(β·ḡ_r − (1 − β)·ḡ_f)} with each part's mean gradient computed
 * independently by plain DL4J cross-entropy on that part's rows alone.
 */
class SignedLabelsTest {
    private static final int ROWS = 5;
    private static final int COLS = 5;
    private static final int K = 4;
    private static final double BETA = 0.8;
    private static final double LR = 0.1;
    /** One minibatch: 12 rows, every third a forget row (4 forget, 8 retain). */
    private static final int B = 12;

    private static Shard shard() {
        return RandomShards.of(B, ROWS * COLS, K, 31L, 500, 3, 3);
    }

    private static NetworkConfig plainSgd() {
        MultiLayerConfiguration conf = Architecture.MLP.configuration(ROWS, COLS, K, 7L, new Optimizer("sgd", LR, 0, 0, 0));
        return NetworkConfig.of(conf);
    }

    @Test
    void labelRowsCarryEachPartsMeanWeight() {
        Shard shard = shard();
        int[] order = new int[B];
        for (int i = 0; i < B; i++) {
            order[i] = B - 1 - i;
        }
        Minibatch mb = new SignedLabels(BETA).minibatch(null, shard, order, 0, B, K, 0);
        INDArray rowSums = mb.labels().sum(1);
        double retain = 0;
        double forget = 0;
        for (int i = 0; i < B; i++) {
            int row = order[i];
            double w = rowSums.getDouble(i);
            assertEquals(w, mb.labels().getDouble(i, shard.label(row)), 0, "the weight sits on the true label");
            if (shard.forget(row)) {
                assertEquals(-(1 - BETA) * B / 4.0, w, 1e-6);
                forget += w;
            } else {
                assertEquals(BETA * B / 8.0, w, 1e-6);
                retain += w;
            }
        }
        assertEquals(BETA * B, retain, 1e-5, "retain weights average to beta over the minibatch");
        assertEquals(-(1 - BETA) * B, forget, 1e-5);
    }

    @Test
    void aStepEqualsTheHandCombinedGradients() {
        Shard shard = shard();
        NetworkConfig plain = plainSgd();
        MultiLayerNetwork init = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(plain.json()));
        init.init();
        float[] theta0 = init.params().dup().data().asFloat();

        NetworkSnapshot start = NetworkSnapshot.fresh(WeightedCrossEntropy.onOutput(plain, "neggrad+"), theta0);
        LocalSteps.Round round = new LocalSteps.Round("neggrad+", 5L, 0, 0, B, 1, K, DataOrder.MIXED,
                new SignedLabels(BETA), new GradientTerm.None());
        float[] stepped = LocalSteps.run(start, Optional.empty(), shard, 0, round).parameters();

        double[] gRetain = meanGradient(plain, theta0, shard, false);
        double[] gForget = meanGradient(plain, theta0, shard, true);
        double worst = 0;
        double moved = 0;
        for (int i = 0; i < theta0.length; i++) {
            double expected = theta0[i] - LR * (BETA * gRetain[i] - (1 - BETA) * gForget[i]);
            worst = Math.max(worst, Math.abs(expected - stepped[i]));
            moved = Math.max(moved, Math.abs(stepped[i] - theta0[i]));
        }
        assertTrue(moved > 1e-4, "the step moved the parameters (largest move " + moved + ")");
        assertTrue(worst < 2e-6, "largest difference from the hand-combined step: " + worst);
    }

    /** The mean cross-entropy gradient at θ over the shard's forget (or retain) rows, by plain DL4J MCXENT. */
    private static double[] meanGradient(NetworkConfig plain, float[] theta, Shard shard, boolean forget) {
        Net net = plain.at(theta, 0, 0);
        int d = shard.featureLength();
        int n = 0;
        for (int i = 0; i < shard.size(); i++) {
            if (shard.forget(i) == forget) {
                n++;
            }
        }
        float[] x = new float[n * d];
        float[] y = new float[n * K];
        int j = 0;
        for (int i = 0; i < shard.size(); i++) {
            if (shard.forget(i) == forget) {
                shard.copyFeatures(i, x, j * d);
                y[j * K + shard.label(i)] = 1f;
                j++;
            }
        }
        INDArray g = net.gradient(Nd4j.create(x, new long[] {n, d}, 'c'), Nd4j.create(y, new long[] {n, K}, 'c'));
        double[] mean = g.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector();
        for (int i = 0; i < mean.length; i++) {
            mean[i] /= n;
        }
        return mean;
    }

    @Test
    void oneHotRowsGiveCrossEntropysStep() {
        Shard shard = shard();
        NetworkConfig plain = plainSgd();
        MultiLayerNetwork init = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(plain.json()));
        init.init();
        float[] theta0 = init.params().dup().data().asFloat();
        LocalSteps.Round round = new LocalSteps.Round("ft", 5L, 0, 0, B, 1, K, DataOrder.MIXED,
                Labelling.trueLabels(), new GradientTerm.None());
        float[] viaMcxent = LocalSteps.run(NetworkSnapshot.fresh(plain, theta0), Optional.empty(), shard, 0, round).parameters();
        float[] viaWeighted = LocalSteps.run(NetworkSnapshot.fresh(WeightedCrossEntropy.onOutput(plain, "ft"), theta0),
                Optional.empty(), shard, 0, round).parameters();
        for (int i = 0; i < theta0.length; i++) {
            assertEquals(viaMcxent[i], viaWeighted[i], 1e-7f, "parameter " + i);
        }
    }

    @Test
    void thePublishedModelGetsItsOriginalLossBack() {
        NetworkConfig plain = plainSgd();
        NetworkConfig weighted = WeightedCrossEntropy.onOutput(plain, "neggrad+");
        assertTrue(weighted.json().contains(WeightedCrossEntropy.class.getName()));
        float[] theta = new float[(int) plain.init(0, 0).numParams()];
        NetworkSnapshot trained = new NetworkSnapshot(weighted, theta, new float[0], 7, 1);
        NetworkSnapshot restored = WeightedCrossEntropy.restore(trained, plain);
        assertTrue(!restored.config().json().contains(WeightedCrossEntropy.class.getName()));
        assertEquals(plain.json(), restored.config().json());
        assertEquals(7, restored.iteration());
    }

    @Test
    void aNetworkWithoutASoftmaxClassifierIsRefusedByName() {
        NetworkConfig denoiser = NetworkConfig.of(io.salun.diffusion.Denoiser.configuration(16, 4, 8, 1, 1e-3, 3L));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightedCrossEntropy.onOutput(denoiser, "neggrad+"));
        assertTrue(e.getMessage().contains("neggrad+") && e.getMessage().contains("softmax"), e.getMessage());
    }

    @Test
    void betaOutsideTheUnitIntervalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SignedLabels(1.5));
        assertThrows(IllegalArgumentException.class, () -> new SignedLabels(Double.NaN));
    }
}
