package io.salun.train;

import io.salun.data.Shard;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random Labeling: y' ≠ y for forget rows, drawn uniformly and freshly per epoch, retain rows untouched. */
class LabellingTest {
    private static final int K = 10;

    /** Rows alternate forget/retain; labels cycle through the classes; IDs are scattered. */
    private static Shard shard(int n) {
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 7_919L * i + 13;
            labels[i] = (i / 2) % K;
            forget[i] = i % 2 == 0;
        }
        return new Shard(ids, labels, forget, new float[n], 1);
    }

    @Test
    void forgetRowsNeverGetTheirTrueLabelAndRetainRowsKeepTheirs() {
        Shard shard = shard(4_000);
        Labelling labelling = Labelling.randomForgetLabels(21L, K, true);
        for (int epoch = 0; epoch < 5; epoch++) {
            for (int row = 0; row < shard.size(); row++) {
                int y = labelling.label(shard, row, epoch);
                assertTrue(y >= 0 && y < K, "label " + y + " out of range");
                if (shard.forget(row)) {
                    assertNotEquals(shard.label(row), y, "forget row " + row + " kept its true label in epoch " + epoch);
                } else {
                    assertEquals(shard.label(row), y, "retain row " + row + " relabelled");
                }
            }
        }
    }

    @Test
    void trueLabelsAreTheShardsLabels() {
        Shard shard = shard(100);
        Labelling labelling = Labelling.trueLabels();
        for (int row = 0; row < shard.size(); row++) {
            assertEquals(shard.label(row), labelling.label(shard, row, 3));
        }
    }

    @Test
    void drawDependsOnEpochAndIdNotOnPartitioning() {
        Shard shard = shard(2_000);
        Labelling labelling = Labelling.randomForgetLabels(5L, K, true);
        // the same records in another partition, in reverse row order
        int n = shard.size();
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        for (int i = 0; i < n; i++) {
            ids[i] = shard.id(n - 1 - i);
            labels[i] = shard.label(n - 1 - i);
            forget[i] = shard.forget(n - 1 - i);
        }
        Shard reversed = new Shard(ids, labels, forget, new float[n], 1);
        int changed = 0;
        for (int row = 0; row < n; row++) {
            int e0 = labelling.label(shard, row, 0);
            assertEquals(e0, labelling.label(shard, row, 0), "not deterministic");
            assertEquals(e0, labelling.label(reversed, n - 1 - row, 0), "depends on row position");
            assertEquals(e0, Labelling.randomForgetLabels(5L, K, true).label(shard, row, 0), "depends on the instance");
            if (shard.forget(row) && labelling.label(shard, row, 1) != e0) {
                changed++;
            }
        }
        // fresh every epoch: a new draw from 9 classes repeats with probability 1/9
        int forgetRows = shard.forgetCount();
        assertEquals(forgetRows * 8.0 / 9, changed, forgetRows * 0.05, "labels changed between epochs 0 and 1");
        // a different seed gives different labels
        Labelling other = Labelling.randomForgetLabels(6L, K, true);
        int differ = 0;
        for (int row = 0; row < n; row += 2) {
            if (other.label(shard, row, 0) != labelling.label(shard, row, 0)) {
                differ++;
            }
        }
        assertTrue(differ > forgetRows / 2, "seed barely matters: " + differ + " of " + forgetRows + " differ");
    }

    /** For each true label y, y' is uniform over the other K − 1 classes (chi-square per y). */
    @Test
    void excludingDrawIsUniformOverTheOtherClasses() {
        Shard shard = shard(20_000);   // 10,000 forget rows, 1,000 per true label
        Labelling labelling = Labelling.randomForgetLabels(77L, K, true);
        int epochs = 3;
        long[][] counts = new long[K][K];
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (int row = 0; row < shard.size(); row += 2) {
                counts[shard.label(row)][labelling.label(shard, row, epoch)]++;
            }
        }
        double expected = 1_000.0 * epochs / (K - 1);
        for (int y = 0; y < K; y++) {
            assertEquals(0, counts[y][y]);
            double chi2 = 0;
            for (int c = 0; c < K; c++) {
                if (c != y) {
                    chi2 += (counts[y][c] - expected) * (counts[y][c] - expected) / expected;
                }
            }
            // 8 degrees of freedom: P(chi2 > 35) < 3e-5
            assertTrue(chi2 < 35, "true label " + y + ": counts " + Arrays.toString(counts[y]) + ", chi2 " + chi2);
        }
    }

    @Test
    void includingDrawHitsTheTrueLabelOnceInKDraws() {
        Shard shard = shard(20_000);
        Labelling labelling = Labelling.randomForgetLabels(77L, K, false);
        long[] counts = new long[K];
        int hits = 0;
        int draws = 0;
        for (int epoch = 0; epoch < 3; epoch++) {
            for (int row = 0; row < shard.size(); row += 2) {
                int y = labelling.label(shard, row, epoch);
                counts[y]++;
                if (y == shard.label(row)) {
                    hits++;
                }
                draws++;
            }
        }
        double p = 1.0 / K;
        double sd = Math.sqrt(draws * p * (1 - p));
        assertEquals(draws * p, hits, 5 * sd, "true label drawn " + hits + " times in " + draws);
        double expected = (double) draws / K;
        double chi2 = 0;
        for (long c : counts) {
            chi2 += (c - expected) * (c - expected) / expected;
        }
        assertTrue(chi2 < 35, "label counts " + Arrays.toString(counts) + ", chi2 " + chi2);
    }

    @Test
    void twoClassesAlwaysFlip() {
        int n = 200;
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
            labels[i] = (i / 3) % 2;
            forget[i] = i % 4 != 0;
        }
        Shard binary = new Shard(ids, labels, forget, new float[n], 1);
        Labelling labelling = Labelling.randomForgetLabels(1L, 2, true);
        for (int row = 0; row < n; row++) {
            int expected = forget[row] ? 1 - labels[row] : labels[row];
            assertEquals(expected, labelling.label(binary, row, row % 5), "row " + row);
        }
    }

    @Test
    void fewerThanTwoClassesIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Labelling.randomForgetLabels(1L, 1, true));
        assertThrows(IllegalArgumentException.class, () -> Labelling.randomForgetLabels(1L, 0, false));
    }
}
