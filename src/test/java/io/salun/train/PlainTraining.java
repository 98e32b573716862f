package io.salun.train;

import io.salun.config.Seeds;
import io.salun.data.Shard;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The independent reference of the engine's one-partition tests: plain DL4J, one network, the
 * minibatches a {@link ParameterAveraging.Plan} visits on partition 0, in the same order, with no
 * Spark and no averaging.
 */
final class PlainTraining {
    private PlainTraining() {
    }

    /** {@code start} trained by {@code net.fit} over {@code shard} as {@code plan} orders and labels it. */
    static Net train(NetworkSnapshot start, Shard shard, ParameterAveraging.Plan plan, Labelling labelling) {
        Net plain = start.net();
        for (int epoch = 0; epoch < plan.epochs(); epoch++) {
            int[] order = plan.order().rows(shard, Seeds.derive(plan.seed(), plan.stage() + "/order", epoch, 0));
            for (int from = 0; from < shard.size(); from += plan.batchSize()) {
                int e = epoch;
                Minibatch b = Minibatch.of(shard, order, from, Math.min(shard.size(), from + plan.batchSize()),
                        plan.classes(), row -> labelling.label(shard, row, e));
                plain.fit(b.features(), b.labels());
            }
        }
        return plain;
    }

    /** Every value of {@code actual} has the bits of {@code expected}'s. */
    static void assertSameBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " count");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), what + " " + i);
        }
    }
}
