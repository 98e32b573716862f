package io.salun.train;

import io.salun.config.Seeds;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.model.Architecture;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One partition's round of local steps: deterministic, equal bit for bit to a plain DL4J loop over
 * the same minibatches when its rounds are chained, and exact under a mask.
 */
class LocalStepsTest {
    private static final int ROWS = 6;
    private static final int COLS = 6;
    private static final int D = ROWS * COLS;
    private static final int K = 4;
    private static final String STAGE = "unlearn";
    private static final long SEED = 2024L;
    private static final int PARTITION = 1;
    private static final int BATCH = 8;
    private static final int LOCAL_STEPS = 3;

    static Stream<Optimizer> optimizers() {
        return Stream.of(
                new Optimizer("sgd", 0.05, 0.9, 5e-4, 0),     // Nesterov momentum + weight decay
                new Optimizer("pytorch-sgd", 0.05, 0.9, 5e-4, 0), // classical momentum + coupled weight decay
                new Optimizer("adam", 1e-2, 0, 0, 1e-3));     // Adam (reads the iteration counter) + L2
    }

    /** 61 rows (8 minibatches of 8, the last of 5), a third of them forget rows. */
    private static Shard shard() {
        return shardOf(61, 12, 10_000, 17, 3);
    }

    private static NetworkSnapshot snapshot(Optimizer optimizer) {
        MultiLayerConfiguration conf = Architecture.MLP.configuration(ROWS, COLS, K, 3L, optimizer);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return NetworkSnapshot.fresh(io.salun.model.NetworkConfig.of(conf), net.params().dup().data().asFloat());
    }

    private static Labelling labelling() {
        return Labelling.randomForgetLabels(SEED, K, true);
    }

    private static LocalSteps.Round round(int epoch, int round) {
        return new LocalSteps.Round(STAGE, SEED, epoch, round, BATCH, LOCAL_STEPS, K, DataOrder.MIXED, labelling(), new GradientTerm.None());
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void sameInputsGiveTheSameBits(Optimizer optimizer) {
        Shard shard = shard();
        NetworkSnapshot start = snapshot(optimizer);
        RoundAverage a = LocalSteps.run(start, Optional.empty(), shard, PARTITION, round(1, 1));
        RoundAverage b = LocalSteps.run(start, Optional.empty(), shard, PARTITION, round(1, 1));
        assertBitIdentical(a.parameters(), b.parameters(), "parameters");
        assertBitIdentical(a.updaterState(), b.updaterState(), "updater state");
        assertEquals(a.examples(), b.examples());
        assertEquals(a.steps(), b.steps());
        assertEquals(Double.doubleToRawLongBits(a.meanLoss()), Double.doubleToRawLongBits(b.meanLoss()));
        assertEquals(3 * BATCH, a.examples(), "round 1 covers minibatches 3..5");
        assertEquals(LOCAL_STEPS, a.steps());
        assertTrue(Double.isFinite(a.meanLoss()) && a.meanLoss() > 0);
        // the run did train and left its input snapshot alone
        assertFalse(java.util.Arrays.equals(start.parameters(), a.parameters()), "no step was taken");
        assertBitIdentical(snapshot(optimizer).parameters(), start.parameters(), "snapshot mutated");
    }

    @Test
    void partitionAndEpochChooseTheOrder() {
        Shard shard = shard();
        NetworkSnapshot start = snapshot(optimizers().findFirst().orElseThrow());
        float[] p1 = LocalSteps.run(start, Optional.empty(), shard, PARTITION, round(0, 0)).parameters();
        float[] p0 = LocalSteps.run(start, Optional.empty(), shard, 0, round(0, 0)).parameters();
        float[] e1 = LocalSteps.run(start, Optional.empty(), shard, PARTITION, round(1, 0)).parameters();
        assertFalse(java.util.Arrays.equals(p1, p0), "partition index not used in the order seed");
        assertFalse(java.util.Arrays.equals(p1, e1), "epoch not used in the order seed");
    }

    @Test
    void roundsPastTheEndOfTheEpochContributeNothing() {
        Shard shard = shard();
        NetworkSnapshot start = snapshot(optimizers().findFirst().orElseThrow());
        RoundAverage last = LocalSteps.run(start, Optional.empty(), shard, PARTITION, round(0, 2));
        assertEquals(2, last.steps(), "minibatches 6 and 7");
        assertEquals(BATCH + 5, last.examples());
        RoundAverage past = LocalSteps.run(start, Optional.empty(), shard, PARTITION, round(0, 3));
        assertEquals(0, past.examples());
        assertEquals(0, past.steps());
        RoundAverage empty = LocalSteps.run(start, Optional.empty(),
                new Shard(new long[0], new int[0], new boolean[0], new float[0], D), PARTITION, round(0, 0));
        assertEquals(0, empty.examples());
        assertEquals(3, LocalSteps.batchesPerEpoch(61, 24));
        assertEquals(8, LocalSteps.batchesPerEpoch(61, BATCH));
        assertEquals(0, LocalSteps.batchesPerEpoch(0, BATCH));
    }

    /**
     * One partition, rounds chained through the snapshot, equals a single DL4J network fitted on
     * the same minibatches in the same order: parameters and updater state bit for bit.
     */
    @ParameterizedTest
    @MethodSource("optimizers")
    void chainedRoundsEqualAPlainTrainingLoop(Optimizer optimizer) {
        Shard shard = shard();
        NetworkSnapshot start = snapshot(optimizer);
        int epochs = 2;

        NetworkSnapshot engine = start;
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (int r = 0; ; r++) {
                RoundAverage result = LocalSteps.run(engine, Optional.empty(), shard, PARTITION, round(epoch, r));
                if (result.examples() == 0) {
                    assertEquals(3, r, "8 minibatches in rounds of 3 local steps");
                    break;
                }
                engine = engine.with(result.parameters(), result.updaterState(), engine.iteration() + result.steps());
            }
        }

        MultiLayerNetwork plain = start.build();
        Labelling labelling = labelling();
        for (int epoch = 0; epoch < epochs; epoch++) {
            int[] order = DataOrder.MIXED.rows(shard, Seeds.derive(SEED, STAGE + "/order", epoch, PARTITION));
            for (int from = 0; from < shard.size(); from += BATCH) {
                int to = Math.min(shard.size(), from + BATCH);
                float[] x = new float[(to - from) * D];
                INDArray y = Nd4j.zeros(to - from, K);
                for (int i = from; i < to; i++) {
                    shard.copyFeatures(order[i], x, (i - from) * D);
                    y.putScalar(i - from, labelling.label(shard, order[i], epoch), 1f);
                }
                plain.fit(Nd4j.create(x, new long[] {to - from, D}, 'c'), y);
            }
        }

        assertEquals(2 * 8, engine.iteration(), "iteration counter");
        assertEquals(plain.getLayerWiseConfigurations().getIterationCount(), engine.iteration());
        assertFalse(java.util.Arrays.equals(start.parameters(), engine.parameters()), "no training happened");
        assertBitIdentical(plain.params().data().asFloat(), engine.parameters(), "parameters");
        assertBitIdentical(plain.getUpdater(true).getStateViewArray().data().asFloat(), engine.updaterState(),
                "updater state");
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void maskedParametersStayBitIdenticalOverRounds(Optimizer optimizer) {
        Shard shard = shard();
        NetworkSnapshot start = snapshot(optimizer);
        Bitset mask = randomMask(start.size(), 31);
        NetworkSnapshot engine = runEpochs(start, mask, shard, 2);
        int moved = 0;
        for (int i = 0; i < start.size(); i++) {
            if (!mask.get(i)) {
                assertEquals(Float.floatToRawIntBits(start.parameters()[i]), Float.floatToRawIntBits(engine.parameters()[i]),
                        "masked-out parameter " + i + " moved");
            } else if (start.parameters()[i] != engine.parameters()[i]) {
                moved++;
            }
        }
        assertTrue(moved > mask.cardinality() / 2, "only " + moved + " of " + mask.cardinality() + " free parameters moved");
    }

    /**
     * A network kept from the last round and loaded with the round's start gives the bits a network
     * built from the same start gives, so tasks that rebuild (retried, moved, evicted) and tasks that
     * reuse agree: two partitions, masked, through the l1 term (reads the iteration counter),
     * over 2 epochs of rounds averaged as the engine does.
     */
    @ParameterizedTest
    @MethodSource("optimizers")
    void keptNetworksGiveTheBitsOfRebuiltOnes(Optimizer optimizer) {
        Shard[] shards = {shard(), shardOf(47, 13, 50_000, 13, 4)};
        NetworkSnapshot start = snapshot(optimizer);
        Bitset mask = randomMask(start.size(), 33);
        GradientTerm term = new GradientTerm.L1Decay(1e-3, 40);
        StageNets.Stage stage = new StageNets.Stage("test/" + optimizer.rule(), start.config(), start.epoch(), mask, term);
        NetworkSnapshot kept = start;
        NetworkSnapshot rebuilt = start;
        java.util.Set<io.salun.model.Net> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        int reused = 0;
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int r = 0; r < 3; r++) {
                LocalSteps.Round spec = new LocalSteps.Round(STAGE, SEED, epoch, r, BATCH, LOCAL_STEPS, K, DataOrder.MIXED,
                        labelling(), term);
                RoundAverage a = RoundAverage.empty(start.size(), start.updaterState().length);
                RoundAverage b = RoundAverage.empty(start.size(), start.updaterState().length);
                StageNets.Start from = new StageNets.Start(kept.parameters(), kept.updaterState(), kept.iteration());
                for (int p = 0; p < shards.length; p++) {
                    io.salun.model.Net net = StageNets.take(stage, from);
                    if (!seen.add(net)) {
                        reused++;
                    }
                    a.merge(LocalSteps.run(net, shards[p], p, spec));
                    StageNets.give(stage, net);
                    b.merge(LocalSteps.run(rebuilt, Optional.of(mask), shards[p], p, spec));
                }
                a.result();
                b.result();
                kept = kept.with(a.parameters(), a.updaterState(), kept.iteration() + a.steps());
                rebuilt = rebuilt.with(b.parameters(), b.updaterState(), rebuilt.iteration() + b.steps());
                assertBitIdentical(rebuilt.parameters(), kept.parameters(), "parameters, epoch " + epoch + " round " + r);
                assertBitIdentical(rebuilt.updaterState(), kept.updaterState(), "updater state, epoch " + epoch + " round " + r);
            }
        }
        StageNets.release(stage.key());
        assertEquals(0, StageNets.kept());
        assertEquals(2 * 3 * 2 - 1, reused, "one network built, then reused by every task");
        assertFalse(java.util.Arrays.equals(start.parameters(), kept.parameters()), "no training happened");
        for (int i = 0; i < start.size(); i++) {
            if (!mask.get(i)) {
                assertEquals(Float.floatToRawIntBits(start.parameters()[i]), Float.floatToRawIntBits(kept.parameters()[i]),
                        "masked-out parameter " + i + " moved");
            }
        }
    }

    private static Shard shardOf(int n, long seed, long idBase, long idStep, int forgetEvery) {
        return io.salun.data.RandomShards.of(n, D, K, seed, idBase, idStep, forgetEvery);
    }

    /**
     * The spec's exact masking holds for every bit pattern, −0.0 included (MaskedUpdate stores the
     * anchor back for that reason); a masked −0.0 must survive the round trip through the averaging.
     */
    @Test
    void maskedNegativeZeroSurvivesRounds() {
        Shard shard = shard();
        NetworkSnapshot fresh = snapshot(optimizers().findFirst().orElseThrow());
        Bitset mask = randomMask(fresh.size(), 32);
        float[] params = fresh.parameters().clone();
        int frozen = -1;
        for (int i = 0; i < params.length && frozen < 0; i++) {
            if (!mask.get(i)) {
                frozen = i;
            }
        }
        params[frozen] = -0.0f;
        NetworkSnapshot start = fresh.with(params, fresh.updaterState(), 0);
        NetworkSnapshot engine = runEpochs(start, mask, shard, 1);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(engine.parameters()[frozen]),
                "masked-out parameter " + frozen + " was -0.0, is " + engine.parameters()[frozen]);
    }

    private static NetworkSnapshot runEpochs(NetworkSnapshot start, Bitset mask, Shard shard, int epochs) {
        NetworkSnapshot engine = start;
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (int r = 0; r < 3; r++) {
                RoundAverage result = LocalSteps.run(engine, Optional.of(mask), shard, PARTITION, round(epoch, r));
                engine = engine.with(result.parameters(), result.updaterState(), engine.iteration() + result.steps());
            }
        }
        return engine;
    }

    private static Bitset randomMask(int n, long seed) {
        Bitset mask = new Bitset(n);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            if (random.nextBoolean()) {
                mask.set(i);
            }
        }
        return mask;
    }

    private static void assertBitIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        int differ = 0;
        int first = -1;
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                if (first < 0) {
                    first = i;
                }
                differ++;
            }
        }
        if (differ > 0) {
            throw new AssertionError(what + ": " + differ + " of " + expected.length + " values differ, first at "
                    + first + ": expected " + expected[first] + " but was " + actual[first]);
        }
    }
}
