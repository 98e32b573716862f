package io.salun.data;

import java.util.SplittableRandom;

/** Seeded shards of random rows for kernel tests: features in [0, 1), labels uniform over K. */
public final class RandomShards {
    private RandomShards() {
    }

    /**
     * {@code n} rows of {@code d} features with ids {@code idBase + idStep·i}, every
     * {@code forgetEvery}-th row (from row 0) a forget row; per row the label is drawn, then the
     * features.
     */
    public static Shard of(int n, int d, int classes, long seed, long idBase, long idStep, int forgetEvery) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        float[] features = new float[n * d];
        for (int i = 0; i < n; i++) {
            ids[i] = idBase + idStep * i;
            labels[i] = random.nextInt(classes);
            forget[i] = i % forgetEvery == 0;
            for (int j = 0; j < d; j++) {
                features[i * d + j] = (float) random.nextDouble();
            }
        }
        return new Shard(ids, labels, forget, features, d);
    }
}
