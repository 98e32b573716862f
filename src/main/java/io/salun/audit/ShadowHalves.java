package io.salun.audit;

import io.salun.config.Seeds;
import io.salun.data.Shard;

/**
 * Which training records each shadow model trains on: shadows come in complementary pairs
 * {@code (2j, 2j + 1)}; record {@code id} falls in one of the pair's two halves by a seeded coin
 * of (seed, j, id), so every record is IN for exactly {@code K/2} of {@code K} shadows, and the draw
 * depends on the record's ID only, never on partitioning or order.
 */
public final class ShadowHalves {
    private ShadowHalves() {
    }

    /** Whether shadow {@code shadow} trains on record {@code id}. */
    public static boolean trainsOn(long seed, int shadow, long id) {
        int coin = Seeds.uniform(Seeds.derive(seed, "shadow-half", shadow / 2, id), 2);
        return coin == shadow % 2;
    }

    /** The rows of {@code all} shadow {@code shadow} trains on, in their order, flags kept. */
    public static Shard half(Shard all, long seed, int shadow) {
        int n = 0;
        for (int i = 0; i < all.size(); i++) {
            n += trainsOn(seed, shadow, all.id(i)) ? 1 : 0;
        }
        int d = all.featureLength();
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        float[] features = new float[n * d];
        int j = 0;
        for (int i = 0; i < all.size(); i++) {
            if (trainsOn(seed, shadow, all.id(i))) {
                ids[j] = all.id(i);
                labels[j] = all.label(i);
                forget[j] = all.forget(i);
                all.copyFeatures(i, features, j * d);
                j++;
            }
        }
        return new Shard(ids, labels, forget, features, d);
    }
}
