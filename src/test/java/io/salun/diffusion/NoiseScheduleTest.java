package io.salun.diffusion;

import io.salun.config.Seeds;
import io.salun.data.Example;
import io.salun.data.Shard;
import io.salun.train.Minibatch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forward process and the denoising minibatches: statistics against the closed form, independence of batching. */
class NoiseScheduleTest {
    private static final NoiseSchedule S = NoiseSchedule.DDPM;

    @Test
    void alphaBarIsTheProductOfOneMinusBetaAndDecaysToNoise() {
        double[] a = S.alphaBars();
        assertEquals(1000, a.length);
        assertEquals(1 - 1e-4, a[0], 1e-15);
        double prod = 1;
        for (int t = 0; t < S.timesteps(); t++) {
            prod *= 1 - (1e-4 + (0.02 - 1e-4) * t / 999.0);
            assertEquals(prod, a[t], 1e-12);
            assertEquals(a[t], S.alphaBar(t), 1e-15);
            if (t > 0) {
                assertTrue(a[t] < a[t - 1]);
            }
        }
        assertTrue(a[999] < 1e-4, "at T the signal is almost gone: " + a[999]);
    }

    @Test
    void noisedPixelsHaveTheForwardProcessMeanAndVariance() {
        int n = 20_000;
        float[] x0 = {-1f, -0.25f, 0.5f, 1f};
        for (int t : new int[] {0, 100, 500, 999}) {
            double alphaBar = S.alphaBar(t);
            double[] sum = new double[x0.length];
            double[] sumSq = new double[x0.length];
            float[] out = new float[x0.length];
            for (int i = 0; i < n; i++) {
                DiffusionTargets.Draw draw = DiffusionTargets.Draw.of(Seeds.derive(7, "test", i), x0.length, S, 0);
                NoiseSchedule.noise(x0, 0, draw.eps(), 0, alphaBar, x0.length, out, 0);
                for (int p = 0; p < x0.length; p++) {
                    sum[p] += out[p];
                    sumSq[p] += (double) out[p] * out[p];
                }
            }
            for (int p = 0; p < x0.length; p++) {
                double mean = sum[p] / n;
                double var = sumSq[p] / n - mean * mean;
                // 5 standard errors of the sample mean and variance
                assertEquals(Math.sqrt(alphaBar) * x0[p], mean, 5 * Math.sqrt((1 - alphaBar) / n) + 1e-6, "mean at t=" + t);
                assertEquals(1 - alphaBar, var, 5 * (1 - alphaBar) * Math.sqrt(2.0 / n) + 1e-6, "variance at t=" + t);
            }
        }
    }

    @Test
    void drawsAreStandardNormalWithUniformTimestepsAndTheConditionDropRate() {
        int n = 4000;
        int d = 16;
        double sum = 0;
        double sumSq = 0;
        int dropped = 0;
        double tSum = 0;
        for (int i = 0; i < n; i++) {
            DiffusionTargets.Draw draw = DiffusionTargets.Draw.of(Seeds.derive(3, "draws", i), d, S, 0.1);
            for (float e : draw.eps()) {
                sum += e;
                sumSq += e * e;
            }
            dropped += draw.dropCondition() ? 1 : 0;
            tSum += draw.t();
        }
        double m = n * d;
        assertEquals(0, sum / m, 5 / Math.sqrt(m));
        assertEquals(1, sumSq / m, 5 * Math.sqrt(2 / m));
        assertEquals(0.1, dropped / (double) n, 5 * Math.sqrt(0.09 / n));
        assertEquals(499.5, tSum / n, 5 * 288.7 / Math.sqrt(n));
    }

    @Test
    void aRowsTrainingInputDependsOnItsIdNotOnItsBatch() {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            float[] x = new float[9];
            for (int p = 0; p < 9; p++) {
                x[p] = ((i * 9 + p) % 7) / 7f;
            }
            examples.add(new Example(100 + i, i % 3, x, i % 2 == 0));
        }
        Shard shard = Shard.pack(examples.iterator());
        DiffusionTargets.Denoising targets = new DiffusionTargets.Denoising(11, S, 0.3);
        int[] order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        int[] reversed = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
        Minibatch whole = targets.minibatch(null, shard, order, 0, 10, 3, 4);
        Minibatch part = targets.minibatch(null, shard, reversed, 2, 5, 3, 4);   // rows 7, 6, 5
        int width = Conditioning.inputLength(9, 3);
        assertEquals(width, whole.features().columns());
        for (int k = 0; k < 3; k++) {
            int row = 7 - k;
            assertArrayEquals(whole.features().getRow(row).toFloatVector(), part.features().getRow(k).toFloatVector());
            assertArrayEquals(whole.labels().getRow(row).toFloatVector(), part.labels().getRow(k).toFloatVector());
        }
        // the target is the clean image in model scale; another epoch draws other noise for the same target
        for (int i = 0; i < 10; i++) {
            float[] clean = whole.labels().getRow(i).toFloatVector();
            for (int p = 0; p < 9; p++) {
                assertEquals(2 * (((i * 9 + p) % 7) / 7f) - 1, clean[p], 1e-6);
            }
        }
        Minibatch next = targets.minibatch(null, shard, order, 0, 10, 3, 5);
        assertArrayEquals(whole.labels().toFloatMatrix()[0], next.labels().toFloatMatrix()[0]);
        assertTrue(!java.util.Arrays.equals(whole.features().getRow(0).toFloatVector(), next.features().getRow(0).toFloatVector()));
        // every condition is the row's class or the null slot (index K = 3)
        for (int i = 0; i < 10; i++) {
            float[] row = whole.features().getRow(i).toFloatVector();
            int hot = -1;
            for (int c = 0; c <= 3; c++) {
                if (row[9 + Conditioning.TIME_FEATURES + c] == 1f) {
                    assertEquals(-1, hot, "one condition per row");
                    hot = c;
                }
            }
            assertTrue(hot == i % 3 || hot == 3, "row " + i + " conditioned on " + hot);
        }
    }
}
