package io.salun.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The two-pass exact top-k selection (histogram, locate, threshold, selected) against an
 * independent full sort of the keys.
 */
class UniformSelectionTest {
    private static final String STAGE = "forget-set";

    private static long[] denseIds() {
        return LongStream.range(0, 10_000).toArray();
    }

    /** Distinct, scattered 64-bit IDs, negative ones included. */
    private static long[] sparseIds() {
        SplittableRandom random = new SplittableRandom(99);
        Set<Long> seen = new HashSet<>();
        long[] ids = new long[3_001];
        int n = 0;
        while (n < ids.length) {
            long id = random.nextLong();
            if (seen.add(id)) {
                ids[n++] = id;
            }
        }
        ids[0] = Long.MAX_VALUE;
        ids[1] = Long.MIN_VALUE;
        return ids;
    }

    @Test
    void selectsExactlyTheKSmallestKeysOfDenseIds() {
        checkSelection(denseIds(), 7L);
    }

    @Test
    void selectsExactlyTheKSmallestKeysOfSparseIds() {
        checkSelection(sparseIds(), -123456789L);
    }

    private static void checkSelection(long[] ids, long seed) {
        int n = ids.length;
        for (long k : new long[] {1, n / 10, n / 2 + 1, n - 1, n}) {
            Set<Long> chosen = select(ids, seed, STAGE, k);
            assertEquals(k, chosen.size(), "k = " + k);
            assertEquals(smallestKeys(ids, seed, STAGE, (int) k), chosen, "k = " + k);
        }
    }

    @Test
    void differentSeedOrStageSelectsADifferentSet() {
        long[] ids = denseIds();
        Set<Long> a = select(ids, 1L, STAGE, 1_000);
        Set<Long> b = select(ids, 2L, STAGE, 1_000);
        Set<Long> c = select(ids, 1L, "other-stage", 1_000);
        assertEquals(1_000, b.size());
        assertNotEquals(a, b);
        assertNotEquals(a, c);
        // independent uniform samples of 10 % overlap in about 10 % of their members, not in all
        Set<Long> common = new HashSet<>(a);
        common.retainAll(b);
        int overlap = common.size();
        // mean 100, sd about 9.5
        assertEquals(100, overlap, 50, "overlap of two seeds' samples");
        assertEquals(a, select(ids, 1L, STAGE, 1_000), "same seed, same set");
    }

    @Test
    void sampleIsSpreadOverTheIdRange() {
        // a uniform sample of 1,000 of 0..9999 puts about 100 in each tenth of the range
        Set<Long> chosen = select(denseIds(), 42L, STAGE, 1_000);
        int[] decile = new int[10];
        for (long id : chosen) {
            decile[(int) (id / 1_000)]++;
        }
        double chi2 = 0;
        for (int d : decile) {
            chi2 += (d - 100.0) * (d - 100.0) / 100.0;
        }
        // 9 degrees of freedom: P(chi2 > 35) < 1e-4
        assertEquals(0, chi2, 35, "decile counts " + Arrays.toString(decile));
    }

    @Test
    void mergedHistogramsOfHalvesLocateLikeTheWhole() {
        long[] ids = sparseIds();
        long seed = 3L;
        UniformSelection.Histogram whole = new UniformSelection.Histogram();
        UniformSelection.Histogram left = new UniformSelection.Histogram();
        UniformSelection.Histogram right = new UniformSelection.Histogram();
        for (int i = 0; i < ids.length; i++) {
            long key = UniformSelection.key(seed, STAGE, ids[i]);
            whole.add(key);
            (i % 3 == 0 ? left : right).add(key);
        }
        UniformSelection.Histogram merged = left.merge(right);
        assertEquals(ids.length, whole.total());
        assertEquals(ids.length, merged.total());
        for (long k = 1; k <= ids.length; k++) {
            assertEquals(UniformSelection.locate(whole, k), UniformSelection.locate(merged, k), "k = " + k);
        }
    }

    @Test
    void locateFindsTheBucketAndRankOfTheKthKey() {
        long[] ids = denseIds();
        long seed = 8L;
        long[] keys = keys(ids, seed, STAGE);
        UniformSelection.Histogram histogram = histogram(keys);
        Long[] sorted = Arrays.stream(keys).boxed().sorted(Long::compareUnsigned).toArray(Long[]::new);
        for (int k : new int[] {1, 2, 17, 5_000, 9_999, 10_000}) {
            UniformSelection.Locus locus = UniformSelection.locate(histogram, k);
            long kth = sorted[k - 1];
            assertEquals(UniformSelection.bucket(kth), locus.bucket(), "k = " + k);
            long sameBucketBelow = 0;
            for (int i = 0; i < k; i++) {
                if (UniformSelection.bucket(sorted[i]) == locus.bucket()) {
                    sameBucketBelow++;
                }
            }
            assertEquals(sameBucketBelow, locus.rankInBucket(), "k = " + k);
        }
    }

    @Test
    void locateRejectsKOutsideOneToTotal() {
        UniformSelection.Histogram histogram = histogram(keys(denseIds(), 1L, STAGE));
        assertThrows(IllegalArgumentException.class, () -> UniformSelection.locate(histogram, 0));
        assertThrows(IllegalArgumentException.class, () -> UniformSelection.locate(histogram, -1));
        assertThrows(IllegalArgumentException.class, () -> UniformSelection.locate(histogram, 10_001));
        assertThrows(IllegalArgumentException.class, () -> UniformSelection.locate(new UniformSelection.Histogram(), 1));
    }

    @Test
    void bucketsOrderKeysUnsigned() {
        // a key with the top bit set is larger than any without it, so its bucket index must be too
        assertEquals(UniformSelection.BUCKETS - 1, UniformSelection.bucket(-1L));
        assertEquals(0, UniformSelection.bucket(0L));
        assertEquals(UniformSelection.BUCKETS / 2, UniformSelection.bucket(Long.MIN_VALUE));
        assertEquals(UniformSelection.BUCKETS / 2 - 1, UniformSelection.bucket(Long.MAX_VALUE));
    }

    @Test
    void thresholdPicksTheRankedKeyOfItsBucketInUnsignedOrder() {
        // keys of the top bucket are negative as signed longs; the rank must follow unsigned order
        long[] bucketKeys = {-1L, -5L, -3L, -2L};
        int b = UniformSelection.bucket(-1L);
        assertEquals(-5L, UniformSelection.threshold(bucketKeys, new UniformSelection.Locus(b, 1)));
        assertEquals(-2L, UniformSelection.threshold(bucketKeys, new UniformSelection.Locus(b, 3)));
        assertEquals(-1L, UniformSelection.threshold(bucketKeys, new UniformSelection.Locus(b, 4)));
        assertThrows(IllegalStateException.class,
                () -> UniformSelection.threshold(bucketKeys, new UniformSelection.Locus(b, 5)));
        assertEquals(List.of(-1L, -5L, -3L, -2L), Arrays.stream(bucketKeys).boxed().toList(), "input left unsorted");
        assertEquals(true, UniformSelection.selected(-3L, -2L));
        assertEquals(false, UniformSelection.selected(-1L, -2L));
        assertEquals(true, UniformSelection.selected(5L, -2L), "small unsigned key selected under a large threshold");
        assertEquals(false, UniformSelection.selected(-2L, 5L));
    }

    /** The selection as the engine runs it: histogram, locate, the one bucket's keys, threshold, filter. */
    private static Set<Long> select(long[] ids, long seed, String stage, long k) {
        long[] keys = keys(ids, seed, stage);
        int half = keys.length / 2;
        UniformSelection.Histogram histogram = histogram(Arrays.copyOfRange(keys, 0, half))
                .merge(histogram(Arrays.copyOfRange(keys, half, keys.length)));
        UniformSelection.Locus locus = UniformSelection.locate(histogram, k);
        long[] bucketKeys = Arrays.stream(keys).filter(key -> UniformSelection.bucket(key) == locus.bucket()).toArray();
        long threshold = UniformSelection.threshold(bucketKeys, locus);
        Set<Long> chosen = new HashSet<>();
        for (long id : ids) {
            if (UniformSelection.selected(UniformSelection.key(seed, stage, id), threshold)) {
                chosen.add(id);
            }
        }
        return chosen;
    }

    /** Independent reference: sort every (key, id) pair unsigned by key and take the first k IDs. */
    private static Set<Long> smallestKeys(long[] ids, long seed, String stage, int k) {
        List<long[]> pairs = new ArrayList<>();
        for (long id : ids) {
            pairs.add(new long[] {UniformSelection.key(seed, stage, id), id});
        }
        pairs.sort((x, y) -> Long.compareUnsigned(x[0], y[0]));
        Set<Long> out = new HashSet<>();
        for (int i = 0; i < k; i++) {
            out.add(pairs.get(i)[1]);
        }
        return out;
    }

    private static long[] keys(long[] ids, long seed, String stage) {
        long[] keys = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            keys[i] = UniformSelection.key(seed, stage, ids[i]);
        }
        assertEquals(ids.length, Arrays.stream(keys).distinct().count(), "keys must be distinct");
        return keys;
    }

    private static UniformSelection.Histogram histogram(long[] keys) {
        UniformSelection.Histogram h = new UniformSelection.Histogram();
        for (long key : keys) {
            h.add(key);
        }
        return h;
    }
}
