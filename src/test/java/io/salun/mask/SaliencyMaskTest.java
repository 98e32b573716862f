package io.salun.mask;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SaliencyMaskTest {

    /** Independent reference: rank all indices by (−|g|, index) and take the first k. */
    private static Bitset bruteForce(double[] g, int k) {
        Integer[] order = IntStream.range(0, g.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -Math.abs(g[i])).thenComparingInt(i -> i));
        Bitset mask = new Bitset(g.length);
        for (int r = 0; r < k; r++) {
            mask.set(order[r]);
        }
        return mask;
    }

    @Test
    void matchesBruteForceOnRandomArraysWithManyTies() {
        Random random = new Random(42);
        double[] palette = {0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 1e-9, 3.0};
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(120);
            double[] g = new double[n];
            for (int i = 0; i < n; i++) {
                g[i] = palette[random.nextInt(palette.length)];
            }
            for (int k = 0; k <= n; k++) {
                Bitset mask = SaliencyMask.topK(g, k);
                assertEquals(bruteForce(g, k), mask, "n=" + n + " k=" + k + " g=" + Arrays.toString(g));
                assertEquals(k, mask.cardinality());
            }
        }
    }

    @Test
    void matchesBruteForceOnContinuousValues() {
        Random random = new Random(1);
        double[] g = random.doubles(5000, -1, 1).toArray();
        for (int k : new int[] {0, 1, 2499, 2500, 4999, 5000}) {
            assertEquals(bruteForce(g, k), SaliencyMask.topK(g, k), "k=" + k);
        }
    }

    @Test
    void takesAbsoluteValue() {
        double[] g = {0.1, -5.0, 3.0, -0.2};
        Bitset mask = SaliencyMask.topK(g, 2);
        assertTrue(mask.get(1), "-5 has the largest saliency");
        assertTrue(mask.get(2));
        assertFalse(mask.get(0));
        assertFalse(mask.get(3));
    }

    @Test
    void tiesGoToLowerIndex() {
        double[] g = {1, -1, 1, 1, 2};
        Bitset mask = SaliencyMask.topK(g, 3);
        assertTrue(mask.get(4));
        assertTrue(mask.get(0));
        assertTrue(mask.get(1));
        assertFalse(mask.get(2));
        assertFalse(mask.get(3));
    }

    @Test
    void kZeroAndKEqualsN() {
        double[] g = {3, 1, 2};
        assertEquals(0, SaliencyMask.topK(g, 0).cardinality());
        assertEquals(3, SaliencyMask.topK(g, 3).cardinality());
        assertEquals(0, SaliencyMask.topK(new double[0], 0).size());
    }

    @Test
    void ratioIsFlooredOnOddN() {
        double[] g = {5, 4, 3, 2, 1, 0, 6};
        Bitset mask = SaliencyMask.topK(g, 0.5); // floor(7 * 0.5) = 3
        assertEquals(3, mask.cardinality());
        assertTrue(mask.get(6) && mask.get(0) && mask.get(1));
        assertEquals(7, SaliencyMask.topK(g, 1.0).cardinality());
        assertEquals(0, SaliencyMask.topK(g, 0.1).cardinality()); // floor(0.7) = 0
    }

    @Test
    void ratioUsesDecimalValueNotBinaryApproximation() {
        // 100 * 0.29 == 28.999999999999996 in binary floating point
        assertEquals(29, SaliencyMask.topK(new double[100], 0.29).cardinality());
    }

    @Test
    void rejectsNaNNamingIndex() {
        double[] g = {1, 2, Double.NaN, 4};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SaliencyMask.topK(g, 0.5));
        assertTrue(e.getMessage().contains("index 2"), e.getMessage());
    }

    @Test
    void rejectsRatioAndKOutOfRange() {
        double[] g = {1, 2, 3};
        assertThrows(IllegalArgumentException.class, () -> SaliencyMask.topK(g, 0.0));
        assertThrows(IllegalArgumentException.class, () -> SaliencyMask.topK(g, 1.5));
        assertThrows(IllegalArgumentException.class, () -> SaliencyMask.topK(g, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> SaliencyMask.topK(g, -1));
        assertThrows(IllegalArgumentException.class, () -> SaliencyMask.topK(g, 4));
    }

    @Test
    void infinitiesRankAboveEverything() {
        double[] g = {1, Double.NEGATIVE_INFINITY, 2, Double.POSITIVE_INFINITY};
        Bitset mask = SaliencyMask.topK(g, 2);
        assertTrue(mask.get(1) && mask.get(3));
    }

    @Test
    void fractionSetPerRange() {
        Bitset mask = new Bitset(10);
        mask.set(0);
        mask.set(1);
        mask.set(7);
        assertEquals(0.5, SaliencyMask.fractionSet(mask, 0, 4));
        assertEquals(1.0 / 6, SaliencyMask.fractionSet(mask, 4, 10));
        assertEquals(0.3, SaliencyMask.fractionSet(mask, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> SaliencyMask.fractionSet(mask, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> SaliencyMask.fractionSet(mask, 0, 11));
    }
}
