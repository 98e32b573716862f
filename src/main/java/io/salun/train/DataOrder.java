package io.salun.train;

import io.salun.data.Shard;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The order a partition visits its rows in one epoch (SALUN-SPEC §2 "data order"):
 * {@link #MIXED} one shuffled stream of forget and retain rows; {@link #SEQUENTIAL} the shuffled
 * forget rows first, then the shuffled retain rows; {@link #RETAIN} the shuffled retain rows alone,
 * the forget rows being left to the targets (SFR-on draws its forget steps from them,
 * {@link ForgetSteps}). The permutation is a Fisher–Yates shuffle seeded per (stage, epoch,
 * partition), so a retried task visits the same order.
 */
public enum DataOrder {
    MIXED, SEQUENTIAL, RETAIN;

    public static DataOrder parse(String name) {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
    }

    /** How many rows of {@code shard} an epoch's steps visit (its minibatches are cut from them). */
    public int streamSize(Shard shard) {
        if (this != RETAIN) {
            return shard.size();
        }
        int retain = 0;
        for (int i = 0; i < shard.size(); i++) {
            if (!shard.forget(i)) {
                retain++;
            }
        }
        return retain;
    }

    /** Row indices of {@code shard} in visiting order for the given seed ({@link #streamSize} of them). */
    public int[] rows(Shard shard, long seed) {
        int n = shard.size();
        if (this == RETAIN) {
            return rowsOfKind(shard, false, seed);
        }
        int[] rows = new int[n];
        SplittableRandom random = new SplittableRandom(seed);
        if (this == MIXED) {
            for (int i = 0; i < n; i++) {
                rows[i] = i;
            }
            shuffle(rows, 0, n, random);
            return rows;
        }
        int f = 0;
        for (int i = 0; i < n; i++) {
            if (shard.forget(i)) {
                rows[f++] = i;
            }
        }
        int r = f;
        for (int i = 0; i < n; i++) {
            if (!shard.forget(i)) {
                rows[r++] = i;
            }
        }
        shuffle(rows, 0, f, random);
        shuffle(rows, f, n, random);
        return rows;
    }

    /** The forget rows ({@code forget}) or the retain rows of {@code shard}, Fisher–Yates shuffled by {@code seed}. */
    static int[] rowsOfKind(Shard shard, boolean forget, long seed) {
        int count = 0;
        for (int i = 0; i < shard.size(); i++) {
            if (shard.forget(i) == forget) {
                count++;
            }
        }
        int[] rows = new int[count];
        for (int i = 0, r = 0; i < shard.size(); i++) {
            if (shard.forget(i) == forget) {
                rows[r++] = i;
            }
        }
        shuffle(rows, 0, count, new SplittableRandom(seed));
        return rows;
    }

    private static void shuffle(int[] a, int from, int to, SplittableRandom random) {
        for (int i = to - 1; i > from; i--) {
            int j = from + random.nextInt(i - from + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
