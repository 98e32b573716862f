package io.salun.train;

import io.salun.data.RandomShards;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
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

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SFR-on's steps on a tiny network, against computations made independently of the engine: a forget
 * step equals {@code θ − lr·clip(m ⊙ ḡ)} with {@code ḡ = −α_0 Σ_i (c_i/Σc) ∇ℓ_i} from each
 * record's own plain-DL4J gradient and loss; an epoch interleaves the two kinds of step as the
 * official loop does and counts both.
 */
class ForgetStepsTest {
    private static final int ROWS = 5;
    private static final int COLS = 5;
    private static final int K = 4;
    private static final double LR = 0.1;
    private static final double ALPHA = 2.5;
    private static final double LAMBDA = 0.5;

    /** 30 rows, every third a forget row: 10 forget, 20 retain. */
    private static Shard shard() {
        return RandomShards.of(30, ROWS * COLS, K, 41L, 700, 1, 3);
    }

    private static NetworkConfig plainSgd() {
        MultiLayerConfiguration conf = Architecture.MLP.configuration(ROWS, COLS, K, 9L, new Optimizer("sgd", LR, 0, 0, 0));
        return NetworkConfig.of(conf);
    }

    private static float[] initial(NetworkConfig conf) {
        MultiLayerNetwork init = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(conf.json()));
        init.init();
        return init.params().dup().data().asFloat();
    }

    /** Every other parameter in the mask. */
    private static Bitset halfMask(int n) {
        Bitset m = new Bitset(n);
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            if (r.nextBoolean()) {
                m.set(i);
            }
        }
        return m;
    }

    @Test
    void aForgetStepIsTheMaskedClippedAdaptiveAscent() {
        Shard shard = shard();
        NetworkConfig plain = plainSgd();
        float[] theta0 = initial(plain);
        Bitset mask = halfMask(theta0.length);
        ForgetSteps targets = new ForgetSteps(ALPHA, 5, 4, 40);
        Minibatch forget = targets.before(null, shard, 0, 8, K, 0, 77L).orElseThrow();
        assertEquals(8, forget.size());

        // the expected step from each forget record's own gradient and loss under plain cross-entropy
        Net reference = plain.at(theta0, 0, 0);
        int d = shard.featureLength();
        double[] c = new double[forget.size()];
        double[][] g = new double[forget.size()][];
        double sumC = 0;
        for (int i = 0; i < forget.size(); i++) {
            INDArray x = forget.features().getRow(i, true);
            INDArray y = forget.labels().getRow(i, true).neg().divi(ALPHA); // e_y
            double loss = -Math.log(reference.output(x, false).getDouble(0, y.argMax(1).getInt(0)));
            c[i] = 1 / (Math.pow(loss, LAMBDA) + 1e-15);
            sumC += c[i];
            g[i] = reference.gradient(x, y).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector();
        }
        assertEquals(d, ROWS * COLS);
        double[] ascent = new double[theta0.length];
        for (int i = 0; i < forget.size(); i++) {
            for (int j = 0; j < theta0.length; j++) {
                ascent[j] += -ALPHA * (c[i] / sumC) * g[i][j];
            }
        }
        double norm = 0;
        for (int j = 0; j < theta0.length; j++) {
            ascent[j] = mask.get(j) ? ascent[j] : 0;
            norm += ascent[j] * ascent[j];
        }
        norm = Math.sqrt(norm);

        for (double maxNorm : new double[] {1e6, norm / 3}) {
            float[] stepped = step(plain, theta0, forget, new GradientTerm.AscentStepMask(mask, maxNorm), LAMBDA);
            double scale = Math.min(1, maxNorm / norm);
            double worst = 0;
            for (int j = 0; j < theta0.length; j++) {
                if (!mask.get(j)) {
                    assertEquals(Float.floatToRawIntBits(theta0[j]), Float.floatToRawIntBits(stepped[j]),
                            "a weight outside the mask moved on a forget step (plain SGD) at " + j);
                }
                worst = Math.max(worst, Math.abs(theta0[j] - LR * scale * ascent[j] - stepped[j]));
            }
            assertTrue(worst < 2e-6, "max-norm " + maxNorm + ": largest difference from the hand step " + worst);
        }
        // the adaptive weights matter: plain ascent (lambda 0) takes another step
        float[] adaptive = step(plain, theta0, forget, new GradientTerm.AscentStepMask(mask, 1e6), LAMBDA);
        float[] uniform = step(plain, theta0, forget, new GradientTerm.AscentStepMask(mask, 1e6), 0);
        assertNotEquals(java.util.Arrays.toString(adaptive), java.util.Arrays.toString(uniform));
    }

    private static float[] step(NetworkConfig plain, float[] theta0, Minibatch batch, GradientTerm term, double lambda) {
        NetworkConfig conf = WeightedCrossEntropy.onOutput(plain, "sfron", new WeightedCrossEntropy(lambda));
        Net net = LocalSteps.prepare(NetworkSnapshot.fresh(conf, theta0), Optional.empty(), term);
        net.fit(batch.features(), batch.labels());
        return net.params().dup().data().asFloat();
    }

    @Test
    void retainStepsTrainEveryWeightAndMatchPlainCrossEntropy() {
        Shard shard = shard();
        NetworkConfig plain = plainSgd();
        float[] theta0 = initial(plain);
        // no forget step in this round (every 1000): the term and the adaptive loss leave retain steps alone
        Bitset mask = halfMask(theta0.length);
        LocalSteps.Round sfron = new LocalSteps.Round("sfron", 3L, 0, 1, 8, 1, K, DataOrder.RETAIN,
                new ForgetSteps(ALPHA, 1000, 3, 9), new GradientTerm.AscentStepMask(mask, 0.5));
        NetworkConfig weighted = WeightedCrossEntropy.onOutput(plain, "sfron", new WeightedCrossEntropy(LAMBDA));
        float[] viaSfron = LocalSteps.run(NetworkSnapshot.fresh(weighted, theta0), Optional.empty(), shard, 0, sfron).parameters();
        LocalSteps.Round ft = new LocalSteps.Round("sfron", 3L, 0, 1, 8, 1, K, DataOrder.RETAIN,
                Labelling.trueLabels(), new GradientTerm.None());
        float[] viaFt = LocalSteps.run(NetworkSnapshot.fresh(plain, theta0), Optional.empty(), shard, 0, ft).parameters();
        long moved = 0;
        for (int j = 0; j < theta0.length; j++) {
            assertEquals(viaFt[j], viaSfron[j], 1e-7f, "parameter " + j);
            moved += !mask.get(j) && viaSfron[j] != theta0[j] ? 1 : 0;
        }
        assertTrue(moved > 0, "a retain step moves weights outside the forget steps' mask too");
    }

    @Test
    void anEpochInterleavesForgetStepsAndCountsThem() {
        Shard shard = shard();
        NetworkConfig plain = plainSgd();
        float[] theta0 = initial(plain);
        NetworkConfig weighted = WeightedCrossEntropy.onOutput(plain, "sfron", new WeightedCrossEntropy(LAMBDA));
        // 20 retain rows at batch 4: 5 retain steps, forget steps before steps 0 and 2 and 4
        ForgetSteps targets = new ForgetSteps(ALPHA, 2, 5, 5);
        assertEquals(8, targets.fitsPerEpoch(5));
        LocalSteps.Round round = new LocalSteps.Round("sfron", 3L, 0, 0, 4, 5, K, DataOrder.RETAIN, targets,
                new GradientTerm.AscentStepMask(halfMask(theta0.length), 7));
        RoundAverage r = LocalSteps.run(NetworkSnapshot.fresh(weighted, theta0), Optional.empty(), shard, 0, round);
        assertEquals(8, r.steps(), "5 retain steps and 3 forget steps");
        assertEquals(20, r.examples(), "the round's examples are the retain rows");

        // the forget minibatches cycle through the partition's forget rows: 4 of 10 each, all of them by the third
        Set<Long> seen = new HashSet<>();
        for (int step : new int[] {0, 2, 4}) {
            Minibatch b = targets.before(null, shard, step, 4, K, 0, 11L).orElseThrow();
            assertEquals(4, b.size());
            INDArray w = b.labels().sum(1);
            for (int i = 0; i < b.size(); i++) {
                assertEquals(-targets.alphaAt(step), w.getDouble(i), 1e-5, "the ascent weight at step " + step);
            }
            for (int i = 0; i < b.size(); i++) {
                seen.add(idOf(shard, b.features().getRow(i)));
            }
        }
        assertEquals(10, seen.size(), "every forget row visited once the cycle wraps");
        assertTrue(targets.before(null, shard, 1, 4, K, 0, 11L).isEmpty(), "no forget step before step 1");
    }

    /** The ID of the forget row whose features are {@code x}. */
    private static long idOf(Shard shard, INDArray x) {
        float[] f = new float[shard.featureLength()];
        float[] want = x.toFloatVector();
        for (int row = 0; row < shard.size(); row++) {
            shard.copyFeatures(row, f, 0);
            if (java.util.Arrays.equals(f, want)) {
                assertTrue(shard.forget(row), "a forget minibatch holds a retain row");
                return shard.id(row);
            }
        }
        throw new AssertionError("a forget minibatch row is none of the shard's");
    }

    @Test
    void theAscentScaleFollowsTheOfficialCosine() {
        ForgetSteps t = new ForgetSteps(25, 5, 10, 100);
        assertEquals(25, t.alphaAt(0), 1e-12);
        assertEquals(12.5, t.alphaAt(50), 1e-12);
        assertEquals(25 * (1 + Math.cos(Math.PI * 0.9)) / 2, t.alphaAt(90), 1e-12);
        assertEquals(0, t.alphaAt(100), 1e-12);
    }

    @Test
    void theAdaptiveLossSurvivesTheConfigurationsJson() {
        NetworkConfig conf = WeightedCrossEntropy.onOutput(plainSgd(), "sfron", new WeightedCrossEntropy(0.75));
        NetworkConfig back = NetworkConfig.of(MultiLayerConfiguration.fromJson(conf.json()));
        boolean[] found = {false};
        back.editLayers(c -> {
            if (c.getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseOutputLayer out) {
                assertEquals(new WeightedCrossEntropy(0.75), out.getLossFn());
                found[0] = true;
            }
        });
        assertTrue(found[0]);
        assertNotEquals(new WeightedCrossEntropy(0.75), new WeightedCrossEntropy());
    }
}
