package io.salun.train;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parameter-averaging aggregator against hand-computed means and its bit-exactness promises. */
class RoundAverageTest {

    @Test
    void weightedMeanOfTwoPartitions() {
        RoundAverage avg = RoundAverage.empty(3, 2)
                .add(new float[] {1f, 2f, -4f}, new float[] {0.5f, 0f}, 1, 2, 10.0)
                .add(new float[] {5f, -2f, 0f}, new float[] {1.5f, 8f}, 3, 4, 2.0);
        // (1·1 + 3·5)/4 = 4, (1·2 + 3·(−2))/4 = −1, (1·(−4) + 0)/4 = −1
        assertArrayEquals(new float[] {4f, -1f, -1f}, avg.parameters());
        // (0.5 + 4.5)/4 = 1.25, (0 + 24)/4 = 6
        assertArrayEquals(new float[] {1.25f, 6f}, avg.updaterState());
        assertEquals(4, avg.examples());
        assertEquals(4, avg.steps());
        assertEquals(12.0 / 4, avg.meanLoss(), 1e-15);
    }

    @Test
    void onePartitionComesBackBitForBit() {
        SplittableRandom random = new SplittableRandom(11);
        long[] weights = {1, 3, 7, 33, 255, 1_000_003};
        for (long weight : weights) {
            float[] params = randomFloats(random, 2_000);
            float[] state = randomFloats(random, 500);
            RoundAverage avg = RoundAverage.empty(params.length, state.length)
                    .add(params, state, weight, 5, 1.0);
            assertBitIdentical(params, avg.parameters(), "parameters, weight " + weight);
            assertBitIdentical(state, avg.updaterState(), "updater state, weight " + weight);
        }
    }

    /**
     * Negative zero is a float like any other: a masked weight holding −0.0 must stay −0.0 through a
     * single-partition round (MaskedUpdate goes out of its way to keep it). The sums start at +0.0,
     * and +0.0 + w·(−0.0) = +0.0, so the mean loses the sign.
     */
    @Test
    void onePartitionKeepsNegativeZero() {
        float[] params = {1.5f, -0.0f, 0.0f, -3f};
        float[] state = {-0.0f};
        RoundAverage avg = RoundAverage.empty(4, 1).add(params, state, 3, 1, 0.0);
        assertBitIdentical(params, avg.parameters(), "parameters");
        assertBitIdentical(state, avg.updaterState(), "updater state");
    }

    @Test
    void weightZeroContributionsAreIgnored() {
        float[] p = {1f, 2f};
        float[] s = {3f};
        RoundAverage with = RoundAverage.empty(2, 1)
                .add(new float[] {Float.NaN, 1e30f}, new float[] {Float.NaN}, 0, 99, 1e9)
                .add(p, s, 2, 3, 4.0)
                .add(new float[] {-7f, 8f}, new float[] {9f}, 0, 50, 1e9);
        assertBitIdentical(p, with.parameters(), "parameters");
        assertBitIdentical(s, with.updaterState(), "state");
        assertEquals(2, with.examples());
        assertEquals(3, with.steps(), "an empty partition's steps do not count");
        assertEquals(2.0, with.meanLoss(), 0.0);
    }

    @Test
    void stepCountIsTheLargestOverPartitionsAndMerges() {
        RoundAverage a = RoundAverage.empty(1, 0).add(new float[] {1f}, new float[0], 1, 3, 0)
                .add(new float[] {1f}, new float[0], 1, 5, 0)
                .add(new float[] {1f}, new float[0], 1, 2, 0);
        assertEquals(5, a.steps());
        RoundAverage b = RoundAverage.empty(1, 0).add(new float[] {1f}, new float[0], 4, 7, 0);
        assertEquals(7, a.merge(b).steps());
        assertEquals(7, RoundAverage.empty(1, 0).merge(RoundAverage.empty(1, 0).add(
                new float[] {1f}, new float[0], 1, 7, 0)).merge(RoundAverage.empty(1, 0).add(
                new float[] {1f}, new float[0], 1, 6, 0)).steps());
    }

    @Test
    void mergeOrderDoesNotMatterBeyondOneUlp() {
        SplittableRandom random = new SplittableRandom(5);
        int n = 1_000;
        int parts = 6;
        float[][] params = new float[parts][];
        float[][] states = new float[parts][];
        long[] weights = new long[parts];
        for (int p = 0; p < parts; p++) {
            params[p] = gaussians(random, n);
            states[p] = gaussians(random, n / 2);
            weights[p] = 1 + random.nextInt(300);
        }
        RoundAverage forward = RoundAverage.empty(n, n / 2);
        for (int p = 0; p < parts; p++) {
            forward.merge(one(params[p], states[p], weights[p], p));
        }
        RoundAverage backward = RoundAverage.empty(n, n / 2);
        for (int p = parts - 1; p >= 0; p--) {
            backward.add(params[p], states[p], weights[p], p, 0);
        }
        // a tree: ((0+3) + (5+1)) + (2+4)
        RoundAverage tree = one(params[0], states[0], weights[0], 0).merge(one(params[3], states[3], weights[3], 3))
                .merge(one(params[5], states[5], weights[5], 5).merge(one(params[1], states[1], weights[1], 1)))
                .merge(one(params[2], states[2], weights[2], 2).merge(one(params[4], states[4], weights[4], 4)));

        // independent weighted mean
        double total = 0;
        for (long w : weights) {
            total += w;
        }
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int p = 0; p < parts; p++) {
                s += weights[p] * (double) params[p][i];
            }
            expected[i] = (float) (s / total);
        }
        for (RoundAverage avg : new RoundAverage[] {forward, backward, tree}) {
            assertEquals((long) total, avg.examples());
            assertEquals(parts - 1, avg.steps());
            assertWithinOneUlp(expected, avg.parameters());
        }
        assertWithinOneUlp(forward.parameters(), backward.parameters());
        assertWithinOneUlp(forward.parameters(), tree.parameters());
        assertWithinOneUlp(forward.updaterState(), backward.updaterState());
        assertWithinOneUlp(forward.updaterState(), tree.updaterState());
    }

    @Test
    void emptyAggregateHasNoMean() {
        RoundAverage empty = RoundAverage.empty(3, 1);
        assertThrows(IllegalStateException.class, empty::parameters);
        assertThrows(IllegalStateException.class, empty::updaterState);
        assertTrue(Double.isNaN(empty.meanLoss()));
        RoundAverage onlyIdle = RoundAverage.empty(3, 1).add(new float[3], new float[1], 0, 0, 0);
        assertThrows(IllegalStateException.class, onlyIdle::parameters);
    }

    @Test
    void wrongSizesAreRejected() {
        RoundAverage avg = RoundAverage.empty(3, 1);
        assertThrows(IllegalArgumentException.class, () -> avg.add(new float[2], new float[1], 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> avg.add(new float[3], new float[0], 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> avg.merge(RoundAverage.empty(4, 1)));
        assertThrows(IllegalArgumentException.class, () -> avg.merge(RoundAverage.empty(3, 2)));
        assertEquals(0, avg.examples());
    }

    private static RoundAverage one(float[] params, float[] state, long weight, int steps) {
        return RoundAverage.empty(params.length, state.length).add(params, state, weight, steps, 0);
    }

    /** Any finite float bit pattern (normal, subnormal, huge, tiny), except −0.0 which has its own test. */
    private static float[] randomFloats(SplittableRandom random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float f;
            do {
                f = Float.intBitsToFloat(random.nextInt());
            } while (!Float.isFinite(f) || Float.floatToRawIntBits(f) == Float.floatToRawIntBits(-0.0f));
            out[i] = f;
        }
        out[0] = Float.MIN_VALUE;
        out[1] = -Float.MAX_VALUE;
        out[2] = 0.0f;
        return out;
    }

    private static float[] gaussians(SplittableRandom random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (random.nextDouble(-1, 1) * Math.exp(random.nextDouble(-5, 5)));
        }
        return out;
    }

    private static void assertBitIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToRawIntBits(expected[i]);
            int a = Float.floatToRawIntBits(actual[i]);
            if (e != a) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + " (0x" + Integer.toHexString(e)
                        + ") but was " + actual[i] + " (0x" + Integer.toHexString(a) + ")");
            }
        }
    }

    private static void assertWithinOneUlp(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], Math.ulp(expected[i]), "index " + i);
        }
    }
}
