package io.salun.audit;

import io.salun.config.Seeds;
import io.salun.data.Shard;

/**
 * Which training records each shadow model trains on: every retain record, and half of the forget
 * set. Shadows come in complementary pairs {@code (2j, 2j + 1)}; a forget record {@code id} falls
 * in one of the pair's two halves by a seeded coin of (seed, j, id), so every forget record is IN
 * for exactly {@code K/2} of {@code K} shadows, and the draw depends on the record's ID only, never
 * on partitioning or order. Keeping Dr in every shadow makes the shadows the size of the models
 * the audit compares (Retrain on Dr, the original on D): shadows on halves of D were smaller, more
 * confident nowhere and miscalibrated the test (docs/METHODS.md §4c).
 */
public final class ShadowHalves {
    private ShadowHalves() {
    }

    /** Whether shadow {@code shadow} trains on forget record {@code id} (it trains on every retain record). */
    public static boolean trainsOn(long seed, int shadow, long id) {
        int coin = Seeds.uniform(Seeds.derive(seed, "shadow-half", shadow / 2, id), 2);
        return coin == shadow % 2;
    }

    /** Whether shadow {@code shadow} trains on row {@code row} of {@code all}. */
    static boolean trainsOn(Shard all, int row, long seed, int shadow) {
        return !all.forget(row) || trainsOn(seed, shadow, all.id(row));
    }

    /**
     * The rows shadow {@code shadow} trains on (Dr and its half of Df) as {@code partitions} shards, a
     * record's shard drawn from its ID, as the engine would train them over that many partitions.
     */
    public static java.util.List<Shard> partitions(Shard all, long seed, int shadow, int partitions) {
        Shard half = half(all, seed, shadow);
        java.util.List<Shard> out = new java.util.ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            int part = p;
            out.add(half.select(row -> Seeds.uniform(Seeds.derive(seed, "shadow-partition", half.id(row)), partitions) == part));
        }
        return out;
    }

    /** The rows of {@code all} shadow {@code shadow} trains on (Dr and its half of Df), in their order, flags kept. */
    public static Shard half(Shard all, long seed, int shadow) {
        return all.select(row -> trainsOn(all, row, seed, shadow));
    }
}
