package io.salun.train;

import io.salun.data.Shard;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Epoch visiting orders: permutations, seeded, and (sequential) forget rows first. */
class DataOrderTest {

    private static Shard shard(int n, double forgetFraction, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1_000 + 3L * i;
            labels[i] = random.nextInt(10);
            forget[i] = random.nextDouble() < forgetFraction;
        }
        return new Shard(ids, labels, forget, new float[n], 1);
    }

    private static void assertPermutation(int[] rows, int n) {
        assertEquals(n, rows.length);
        int[] sorted = rows.clone();
        Arrays.sort(sorted);
        assertArrayEquals(IntStream.range(0, n).toArray(), sorted, "not a permutation of 0.." + (n - 1));
    }

    @Test
    void mixedIsASeededPermutation() {
        Shard shard = shard(300, 0.2, 1);
        int[] a = DataOrder.MIXED.rows(shard, 17L);
        assertPermutation(a, 300);
        assertArrayEquals(a, DataOrder.MIXED.rows(shard, 17L), "same seed, same order");
        int[] b = DataOrder.MIXED.rows(shard, 18L);
        assertPermutation(b, 300);
        assertFalse(Arrays.equals(a, b), "different seed, same order");
        assertFalse(Arrays.equals(a, IntStream.range(0, 300).toArray()), "not shuffled");
    }

    @Test
    void mixedInterleavesForgetAndRetainRows() {
        Shard shard = shard(400, 0.5, 2);
        int[] rows = DataOrder.MIXED.rows(shard, 5L);
        int forgetInFirstHalf = 0;
        for (int i = 0; i < 200; i++) {
            if (shard.forget(rows[i])) {
                forgetInFirstHalf++;
            }
        }
        int forget = shard.forgetCount();
        // hypergeometric: mean forget/2, sd about 7
        assertEquals(forget / 2.0, forgetInFirstHalf, 40);
    }

    /**
     * Every row is equally likely at every position: the first position over many seeds is uniform,
     * and an element stays in place with probability 1/n (a Sattolo-style off-by-one never leaves it).
     */
    @Test
    void mixedShuffleIsUniform() {
        int n = 8;
        int draws = 16_000;
        Shard shard = shard(n, 0.5, 3);
        int[] first = new int[n];
        int fixedPoints = 0;
        for (long seed = 0; seed < draws; seed++) {
            int[] rows = DataOrder.MIXED.rows(shard, seed * 0x9e3779b97f4a7c15L);
            first[rows[0]]++;
            for (int i = 0; i < n; i++) {
                if (rows[i] == i) {
                    fixedPoints++;
                }
            }
        }
        double expected = (double) draws / n;
        double chi2 = 0;
        for (int c : first) {
            chi2 += (c - expected) * (c - expected) / expected;
        }
        // 7 degrees of freedom: P(chi2 > 30) < 1e-4
        assertTrue(chi2 < 30, "first-position counts " + Arrays.toString(first) + ", chi2 " + chi2);
        // mean number of fixed points of a uniform permutation is 1 per draw
        assertEquals(draws, fixedPoints, 0.1 * draws);
    }

    @Test
    void sequentialPutsEveryForgetRowFirst() {
        Shard shard = shard(250, 0.3, 4);
        int f = shard.forgetCount();
        assertTrue(f > 20 && f < 250 - 20, "test shard needs both kinds of rows");
        int[] rows = DataOrder.SEQUENTIAL.rows(shard, 9L);
        assertPermutation(rows, 250);
        for (int i = 0; i < f; i++) {
            assertTrue(shard.forget(rows[i]), "position " + i + " holds retain row " + rows[i]);
        }
        for (int i = f; i < 250; i++) {
            assertFalse(shard.forget(rows[i]), "position " + i + " holds forget row " + rows[i]);
        }
        assertArrayEquals(rows, DataOrder.SEQUENTIAL.rows(shard, 9L), "same seed, same order");
        int[] other = DataOrder.SEQUENTIAL.rows(shard, 10L);
        assertFalse(Arrays.equals(rows, other), "different seed, same order");
        // both blocks are shuffled, not left in storage order
        assertFalse(isIncreasing(rows, 0, f), "forget block not shuffled");
        assertFalse(isIncreasing(rows, f, 250), "retain block not shuffled");
    }

    @Test
    void sequentialHandlesAllForgetOrNoForget() {
        Shard none = shard(50, 0.0, 5);
        Shard all = shard(50, 1.1, 5);
        assertPermutation(DataOrder.SEQUENTIAL.rows(none, 1L), 50);
        assertPermutation(DataOrder.SEQUENTIAL.rows(all, 1L), 50);
        assertEquals(0, DataOrder.MIXED.rows(shard(0, 0.5, 1), 1L).length);
        assertEquals(0, DataOrder.SEQUENTIAL.rows(shard(0, 0.5, 1), 1L).length);
    }

    @Test
    void parseAcceptsSettingSpellings() {
        assertEquals(DataOrder.MIXED, DataOrder.parse(" mixed "));
        assertEquals(DataOrder.SEQUENTIAL, DataOrder.parse("Sequential"));
    }

    private static boolean isIncreasing(int[] a, int from, int to) {
        for (int i = from + 1; i < to; i++) {
            if (a[i] < a[i - 1]) {
                return false;
            }
        }
        return true;
    }
}
