package io.salun.data;

import io.salun.config.Seeds;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Exact, partition-independent selection of a seeded uniform sample of exactly {@code k} of
 * {@code N} records without bringing their IDs to the driver.
 *
 * <p>Every record gets the key {@code h(id) = derive(seed, stage, id)} (a bijection of the ID, so
 * keys are distinct); the sample is the {@code k} records with the smallest keys (unsigned), i.e.
 * {@code h(id) ≤ t} for the k-th smallest key {@code t}. {@code t} is found in two passes: a
 * histogram of the keys' top {@value #BUCKET_BITS} bits (a fixed {@value #BUCKETS}-long vector,
 * aggregated like any other reduction) locates the bucket holding the k-th key, then the few keys
 * of that one bucket (about {@code N / 16,384}) are sorted on the driver.
 */
public final class UniformSelection {
    static final int BUCKET_BITS = 14;
    static final int BUCKETS = 1 << BUCKET_BITS;

    private UniformSelection() {
    }

    /** The record's key for this selection. */
    public static long key(long seed, String stage, long id) {
        return Seeds.derive(seed, stage, id);
    }

    /** The histogram bucket of a key. */
    public static int bucket(long key) {
        return (int) (key >>> (64 - BUCKET_BITS));
    }

    /** Histogram of key buckets (aggregator shape). */
    public static final class Histogram implements Serializable {
        private static final long serialVersionUID = 1L;
        private final long[] counts = new long[BUCKETS];

        public Histogram add(long key) {
            counts[bucket(key)]++;
            return this;
        }

        public Histogram merge(Histogram other) {
            for (int i = 0; i < BUCKETS; i++) {
                counts[i] += other.counts[i];
            }
            return this;
        }

        public long total() {
            long t = 0;
            for (long c : counts) {
                t += c;
            }
            return t;
        }
    }

    /** Where the k-th smallest key lies: its bucket and its rank inside the bucket (1-based). */
    public record Locus(int bucket, long rankInBucket) {
    }

    /** Locates the k-th smallest key (1 ≤ k ≤ total). */
    public static Locus locate(Histogram histogram, long k) {
        long total = histogram.total();
        if (k < 1 || k > total) {
            throw new IllegalArgumentException("k must be in [1, " + total + "], found " + k);
        }
        long below = 0;
        for (int b = 0; b < BUCKETS; b++) {
            long c = histogram.counts[b];
            if (below + c >= k) {
                return new Locus(b, k - below);
            }
            below += c;
        }
        throw new IllegalStateException("unreachable: histogram total " + total);
    }

    /** The threshold key {@code t}: the {@code locus.rankInBucket()}-th smallest of the bucket's keys. */
    public static long threshold(long[] bucketKeys, Locus locus) {
        long[] sorted = bucketKeys.clone();
        for (int i = 0; i < sorted.length; i++) {
            sorted[i] ^= Long.MIN_VALUE;
        }
        Arrays.sort(sorted);
        if (locus.rankInBucket() > sorted.length) {
            throw new IllegalStateException("bucket " + locus.bucket() + " holds " + sorted.length
                    + " keys, fewer than rank " + locus.rankInBucket());
        }
        return sorted[(int) locus.rankInBucket() - 1] ^ Long.MIN_VALUE;
    }

    /** Whether a key is among the selected ones. */
    public static boolean selected(long key, long threshold) {
        return Long.compareUnsigned(key, threshold) <= 0;
    }
}
