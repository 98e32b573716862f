package io.salun.train;

import io.salun.data.Example;
import io.salun.data.IdxSource;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
import io.salun.model.Architecture;
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
        NetworkSnapshot start = mlp(new Optimizer("sgd", 0.05, 0.9, 5e-4, 0));
        Bitset mask = new Bitset(start.size());
        for (int i = 0; i < start.size(); i += 3) {
            mask.set(i);
        }
        JavaRDD<Shard> shards = Shards.cache(IdxSource.read(sc, images, labels, 2)
                .map(e -> e.withForget(e.id() % 7 == 0)), "two partitions");
        Labelling labelling = Labelling.randomForgetLabels(4, 10, true);
        ParameterAveraging.Plan three = new ParameterAveraging.Plan("s", 3, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2);
        ParameterAveraging.Result whole = ParameterAveraging.train(sc, start, shards, three, Optional.of(mask));

        // a run that stopped after 2 epochs, then a rerun asked for 3: it resumes after round 2 x 6
        Checkpoints checkpoints = Checkpoints.open(dir.resolve("ckpt").toString(), "run-1", 5,
                sc.hadoopConfiguration());
        ParameterAveraging.Plan two = new ParameterAveraging.Plan("s", 2, 64, 4, 10, 4, DataOrder.MIXED, labelling,
                new GradientTerm.None(), 2);
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
