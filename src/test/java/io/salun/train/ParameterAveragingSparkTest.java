package io.salun.train;

import io.salun.data.Example;
import io.salun.data.IdxSource;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
import io.salun.model.Architecture;
import io.salun.model.LrSchedule;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.spark.LocalSparkTest;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parameter-averaging engine on {@code local[2]}. */
class ParameterAveragingSparkTest extends LocalSparkTest {
    private static NetworkSnapshot mlp(Optimizer optimizer) {
        MultiLayerNetwork net = new MultiLayerNetwork(Architecture.MLP.configuration(28, 28, 10, 5, optimizer));
        net.init();
        return NetworkSnapshot.of(net);
    }

    @Test
    void onePartitionEqualsPlainSingleJvmTraining() {
        Optimizer adam = new Optimizer("adam", 1e-3, 0, 1e-4, 0);
        NetworkSnapshot start = mlp(adam);
        JavaRDD<Example> data = IdxSource.read(sc, images, labels, 1).filter(e -> e.id() < 500)
                .map(e -> e.withForget(e.id() % 10 == 0));
        JavaRDD<Shard> shards = Shards.cache(data, "one partition");
        Labelling labelling = Labelling.randomForgetLabels(9, 10, true);
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan("t", 2, 32, 3, 10, 9, DataOrder.MIXED, labelling, new GradientTerm.None(), 2);
        NetworkSnapshot engine = ParameterAveraging.train(sc, start, shards, plan, Optional.empty()).network();

        // plain DL4J: one network, the same minibatches in the same order, no Spark, no averaging
        Shard shard = shards.first();
        shards.unpersist();
        io.salun.model.Net plain = PlainTraining.train(start, shard, plan, labelling);
        PlainTraining.assertSameBits(plain.params().toFloatVector(), engine.parameters(), "parameter");
        assertEquals(plain.iteration(), engine.iteration());
    }

    static java.util.stream.Stream<Optimizer> linearRules() {
        return java.util.stream.Stream.of(
                new Optimizer("sgd", 0.05, 0, 0, 0),               // plain SGD
                new Optimizer("sgd", 0.05, 0.9, 5e-4, 0),          // Nesterov momentum, decoupled weight decay
                new Optimizer("pytorch-sgd", 0.05, 0.9, 5e-4, 0)); // classical momentum, coupled weight decay
    }

    /**
     * Synchronous mode: with 1 local step, P partitions of equal size average P updates of batch
     * b each, which for rules linear in the gradient (SGD and both momenta, not Adam) is one step
     * of one process at batch P·b made of the same rows. Equal to float tolerance (the mean of P
     * means is summed in another order than one mean of P·b), and not equal at 2 local steps.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("linearRules")
    void oneLocalStepOverPartitionsIsOneProcessAtTheLargerBatch(Optimizer optimizer) {
        int partitions = 2;
        int perPartition = 256;
        int batch = 32;
        SplittableRandom random = new SplittableRandom(21);
        java.util.List<Example> examples = new java.util.ArrayList<>();
        for (int i = 0; i < partitions * perPartition; i++) {
            float[] x = new float[28 * 28];
            int label = random.nextInt(10);
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (random.nextDouble() * 0.5 + (j % 10 == label ? 0.5 : 0));
            }
            examples.add(new Example(i, label, x, false));
        }
        JavaRDD<Shard> shards = Shards.cache(sc.parallelize(examples, partitions), "synchronous");
        java.util.List<Shard> parts = shards.collect();
        NetworkSnapshot start = mlp(optimizer);
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan("sync", 1, batch, 1, 10, 4, DataOrder.MIXED,
                Labelling.trueLabels(), new GradientTerm.None(), 2);
        NetworkSnapshot engine = ParameterAveraging.train(sc, start, shards, plan, Optional.empty()).network();
        ParameterAveraging.Plan twoSteps = new ParameterAveraging.Plan("sync", 1, batch, 2, 10, 4, DataOrder.MIXED,
                Labelling.trueLabels(), new GradientTerm.None(), 2);
        NetworkSnapshot stale = ParameterAveraging.train(sc, start, shards, twoSteps, Optional.empty()).network();
        shards.unpersist();

        // one process: step t takes minibatch t of every partition's epoch order, concatenated
        io.salun.model.Net plain = start.net();
        int[][] orders = new int[partitions][];
        for (int p = 0; p < partitions; p++) {
            assertEquals(perPartition, parts.get(p).size(), "partition " + p);
            orders[p] = plan.order().rows(parts.get(p), io.salun.config.Seeds.derive(plan.seed(), plan.stage() + "/order", 0, p));
        }
        int d = 28 * 28;
        for (int from = 0; from < perPartition; from += batch) {
            float[] x = new float[partitions * batch * d];
            org.nd4j.linalg.api.ndarray.INDArray y = org.nd4j.linalg.factory.Nd4j.zeros(partitions * batch, 10);
            for (int p = 0; p < partitions; p++) {
                for (int r = 0; r < batch; r++) {
                    int row = orders[p][from + r];
                    int at = p * batch + r;
                    parts.get(p).copyFeatures(row, x, at * d);
                    y.putScalar(at, parts.get(p).label(row), 1f);
                }
            }
            plain.fit(org.nd4j.linalg.factory.Nd4j.create(x, new long[] {partitions * batch, d}, 'c'), y);
        }
        float[] reference = plain.params().toFloatVector();
        float[] referenceState = plain.updaterState() == null ? new float[0] : plain.updaterState().toFloatVector();
        double worst = 0;
        double staleWorst = 0;
        for (int i = 0; i < reference.length; i++) {
            worst = Math.max(worst, Math.abs(reference[i] - engine.parameters()[i]));
            staleWorst = Math.max(staleWorst, Math.abs(reference[i] - stale.parameters()[i]));
        }
        for (int i = 0; i < referenceState.length; i++) {
            assertEquals(referenceState[i], engine.updaterState()[i], 2e-5, "updater state " + i);
        }
        assertTrue(worst < 2e-5, "largest difference from one process at batch " + partitions * batch + ": " + worst);
        assertTrue(staleWorst > 100 * Math.max(worst, 1e-7), "2 local steps differ by only " + staleWorst);
        assertEquals(plain.iteration(), engine.iteration());
    }

    /**
     * A schedule on one partition equals plain DL4J training whose update rule carries the same
     * schedule, bit for bit, and differs from the constant rate: the engine's iteration counter
     * is the epochs' clock.
     */
    @Test
    void aScheduleOnOnePartitionEqualsPlainTrainingWithIt() {
        NetworkSnapshot start = mlp(new Optimizer("pytorch-sgd", 0.05, 0.9, 5e-4, 0));
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 1).filter(e -> e.id() < 300),
                "one partition");
        Shard shard = shards.first();
        for (String text : java.util.List.of("step:1,2", "cosine")) {
            LrSchedule.Spec schedule = LrSchedule.Spec.parse(text, "test");
            ParameterAveraging.Plan plan = new ParameterAveraging.Plan("lr", 3, 32, 3, 10, 9, DataOrder.MIXED,
                    Labelling.trueLabels(), new GradientTerm.None(), 2, schedule);
            NetworkSnapshot engine = ParameterAveraging.train(sc, start, shards, plan, Optional.empty()).network();
            int steps = LocalSteps.batchesPerEpoch(shard.size(), 32);
            NetworkSnapshot scheduled = new NetworkSnapshot(schedule.applyTo(start.config(), 3, steps, 0),
                    start.parameters(), start.updaterState(), 0, 0);
            io.salun.model.Net plain = PlainTraining.train(scheduled, shard, plan, Labelling.trueLabels());
            PlainTraining.assertSameBits(plain.params().toFloatVector(), engine.parameters(), text + " parameter");
            ParameterAveraging.Plan constant = new ParameterAveraging.Plan("lr", 3, 32, 3, 10, 9, DataOrder.MIXED,
                    Labelling.trueLabels(), new GradientTerm.None(), 2);
            NetworkSnapshot flat = ParameterAveraging.train(sc, start, shards, constant, Optional.empty()).network();
            assertTrue(!java.util.Arrays.equals(flat.parameters(), engine.parameters()), text + " changed nothing");
        }
        shards.unpersist();
    }

    @Test
    void maskedTrainingOverSeveralPartitionsKeepsMaskedWeightsAndLearns() {
        NetworkSnapshot start = mlp(new Optimizer("sgd", 0.05, 0.9, 5e-4, 0));
        Bitset mask = new Bitset(start.size());
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < start.size(); i++) {
            if (random.nextDouble() < 0.3) {
                mask.set(i);
            }
        }
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 3), "three partitions");
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan("m", 2, 64, 2, 10, 1, DataOrder.MIXED,
                Labelling.trueLabels(), new GradientTerm.None(), 2);
        ParameterAveraging.Result result = ParameterAveraging.train(sc, start, shards, plan, Optional.of(mask));
        shards.unpersist();
        int moved = MaskAssertions.assertMaskedUnchanged(mask, start.parameters(), result.network().parameters());
        assertTrue(moved > mask.cardinality() / 2, moved + " of " + mask.cardinality() + " trainable weights moved");
        double first = result.losses().get(0).meanLoss();
        double last = result.losses().get(result.losses().size() - 1).meanLoss();
        assertTrue(last < first, "loss did not fall: " + first + " -> " + last);
    }

    @Test
    void resumingFromACheckpointEndsInTheSameBits(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        assertResumesToTheSameBits(dir, LrSchedule.Spec.CONSTANT);
    }

    /** A step schedule reads the iteration counter a checkpoint restores: the resumed run's rates are the same. */
    @Test
    void aStepScheduleResumesToTheSameBits(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        assertResumesToTheSameBits(dir, LrSchedule.Spec.parse("step:1,2", "test"));
    }

    /**
     * A benchmark point with more epochs continues the shorter run at its learning rate: the same
     * bits as training from the start, for a constant and a step schedule; a cosine schedule or the
     * l1 decay (which depend on the stage's length) and any other difference are no prefix.
     */
    @Test
    void aLongerRunContinuesAShorterOneToTheSameBits() {
        NetworkSnapshot start = mlp(new Optimizer("pytorch-sgd", 0.05, 0.9, 5e-4, 0));
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 2)
                .map(e -> e.withForget(e.id() % 7 == 0)), "two partitions");
        Labelling labelling = Labelling.randomForgetLabels(4, 10, true);
        for (LrSchedule.Spec schedule : java.util.List.of(LrSchedule.Spec.CONSTANT, LrSchedule.Spec.parse("step:2", "t"))) {
            ParameterAveraging.Plan one = new ParameterAveraging.Plan("c", 1, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                    new GradientTerm.None(), 2, schedule);
            ParameterAveraging.Plan three = new ParameterAveraging.Plan("c", 3, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                    new GradientTerm.None(), 2, schedule);
            assertTrue(three.continues(one) && !one.continues(three) && !three.continues(three));
            ParameterAveraging.Result whole = ParameterAveraging.train(sc, start, shards, three, Optional.empty());
            ParameterAveraging.Result first = ParameterAveraging.train(sc, start, shards, one, Optional.empty());
            ParameterAveraging.Result continued = ParameterAveraging.train(sc, start, shards, three, Optional.empty(),
                    Optional.empty(), Optional.of(first));
            PlainTraining.assertSameBits(whole.network().parameters(), continued.network().parameters(), "parameter");
            PlainTraining.assertSameBits(whole.network().updaterState(), continued.network().updaterState(), "state");
            assertEquals(whole.network().iteration(), continued.network().iteration());
            assertEquals(whole.losses(), continued.losses());
            assertTrue(continued.seconds() >= first.seconds());
        }
        shards.unpersist();
        ParameterAveraging.Plan base = new ParameterAveraging.Plan("c", 1, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2);
        LrSchedule.Spec cosine = LrSchedule.Spec.parse("cosine", "t");
        assertTrue(!new ParameterAveraging.Plan("c", 3, 64, 4, 10, 4, DataOrder.MIXED, labelling, new GradientTerm.None(), 2,
                cosine).continues(new ParameterAveraging.Plan("c", 1, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2, cosine)), "cosine anneals to the stage's last epoch");
        GradientTerm.L1Decay l1 = new GradientTerm.L1Decay(5e-4, 100);
        assertTrue(!new ParameterAveraging.Plan("c", 3, 64, 4, 10, 4, DataOrder.MIXED, labelling, l1, 2)
                .continues(new ParameterAveraging.Plan("c", 1, 64, 4, 10, 4, DataOrder.MIXED, labelling, l1, 2)));
        assertTrue(!new ParameterAveraging.Plan("c", 3, 32, 4, 10, 4, DataOrder.MIXED, labelling, new GradientTerm.None(), 2)
                .continues(base), "another batch size");
        assertTrue(!new ParameterAveraging.Plan("c", 3, 64, 4, 10, 5, DataOrder.MIXED, labelling, new GradientTerm.None(), 2)
                .continues(base), "another seed");
    }

    private static void assertResumesToTheSameBits(java.nio.file.Path dir, LrSchedule.Spec schedule) {
        NetworkSnapshot start = mlp(new Optimizer("sgd", 0.05, 0.9, 5e-4, 0));
        Bitset mask = new Bitset(start.size());
        for (int i = 0; i < start.size(); i += 3) {
            mask.set(i);
        }
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 2)
                .map(e -> e.withForget(e.id() % 7 == 0)), "two partitions");
        Labelling labelling = Labelling.randomForgetLabels(4, 10, true);
        ParameterAveraging.Plan three = new ParameterAveraging.Plan("s", 3, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2, schedule);
        ParameterAveraging.Result whole = ParameterAveraging.train(sc, start, shards, three, Optional.of(mask));

        // a run that stopped after 2 epochs, then a rerun asked for 3: it resumes after round 2 x 6
        Checkpoints checkpoints = Checkpoints.open(dir.resolve("ckpt").toString(), "run-1", 5,
                sc.hadoopConfiguration());
        ParameterAveraging.Plan two = new ParameterAveraging.Plan("s", 2, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2, schedule);
        ParameterAveraging.train(sc, start, shards, two, Optional.of(mask), Optional.of(checkpoints));
        Checkpoints.State saved = checkpoints.latest("s").orElseThrow();
        assertEquals(12, saved.rounds());
        ParameterAveraging.Result resumed = ParameterAveraging.train(sc, start, shards, three, Optional.of(mask),
                Optional.of(checkpoints));
        shards.unpersist();
        float[] expected = whole.network().parameters();
        float[] actual = resumed.network().parameters();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "parameter " + i);
        }
        assertEquals(whole.network().iteration(), resumed.network().iteration());
        assertEquals(whole.losses(), resumed.losses());

        // another run's fingerprint clears the folder instead of resuming from it
        Checkpoints other = Checkpoints.open(dir.resolve("ckpt").toString(), "run-2", 5, sc.hadoopConfiguration());
        assertTrue(other.latest("s").isEmpty());
    }
}
