package io.salun.diffusion;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Fréchet distance against closed forms, and its invariance under a common rotation. */
class FidTest {

    /** Points ±s_j·e_j (2k of them): mean {@code shift}, sample covariance exactly diag(2 s_j² / (2k − 1)). */
    private static double[][] axisPoints(double[] s, double[] shift) {
        int k = s.length;
        double[][] x = new double[2 * k][k];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < k; i++) {
                x[2 * j][i] = shift[i];
                x[2 * j + 1][i] = shift[i];
            }
            x[2 * j][j] += s[j];
            x[2 * j + 1][j] -= s[j];
        }
        return x;
    }

    @Test
    void diagonalCovariancesMatchTheClosedForm() {
        int k = 12;
        double[] s = new double[k];
        double[] t = new double[k];
        double[] m = new double[k];
        double expected = 0;
        for (int j = 0; j < k; j++) {
            s[j] = 1 + j;
            t[j] = 0.5 + 2 * j % 5;
            m[j] = j % 3 - 1;
            expected += m[j] * m[j] + 2.0 / (2 * k - 1) * (s[j] - t[j]) * (s[j] - t[j]);
        }
        double fid = Fid.distance(axisPoints(s, new double[k]), axisPoints(t, m));
        assertEquals(expected, fid, 1e-9 * expected);
    }

    @Test
    void aCommonRotationChangesNothingAndIdenticalSetsAreAtZero() {
        int k = 10;
        Random random = new Random(5);
        double[] s = new double[k];
        double[] t = new double[k];
        double[] m = new double[k];
        for (int j = 0; j < k; j++) {
            s[j] = 0.5 + random.nextDouble() * 3;
            t[j] = 0.5 + random.nextDouble() * 3;
            m[j] = random.nextGaussian();
        }
        double[][] a = axisPoints(s, new double[k]);
        double[][] b = axisPoints(t, m);
        double[][] q = randomRotation(k, random);
        double plain = Fid.distance(a, b);
        double rotated = Fid.distance(rotate(a, q), rotate(b, q));
        assertEquals(plain, rotated, 1e-8 * plain);
        // identical full-covariance sets: the distance vanishes (round-off aside)
        double[][] c = new double[200][k];
        for (double[] row : c) {
            for (int j = 0; j < k; j++) {
                row[j] = random.nextGaussian() * (1 + j);
            }
        }
        double[][] cRot = rotate(c, q);
        assertEquals(0, Fid.distance(cRot, cRot), 1e-7);
        assertTrue(Fid.distance(cRot, rotate(c, randomRotation(k, random))) > 0.1, "a different rotation is a different distribution");
    }

    @Test
    void eigenvaluesOfASymmetricMatrixAreFoundWithTheirVectors() {
        int k = 8;
        Random random = new Random(9);
        double[][] q = randomRotation(k, random);
        double[] lambda = {9, 7, 5, 3, 2, 1, 0.5, 0};
        double[][] a = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                for (int e = 0; e < k; e++) {
                    a[i][j] += q[i][e] * lambda[e] * q[j][e];
                }
            }
        }
        double[][] vectors = new double[k][k];
        double[] found = Fid.eigen(a, vectors).clone();
        java.util.Arrays.sort(found);
        for (int e = 0; e < k; e++) {
            assertEquals(lambda[k - 1 - e], found[e], 1e-10);
        }
        double[][] root = Fid.sqrtPsd(a);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                double sq = 0;
                for (int l = 0; l < k; l++) {
                    sq += root[i][l] * root[l][j];
                }
                assertEquals(a[i][j], sq, 1e-9);
            }
        }
    }

    private static double[][] randomRotation(int k, Random random) {
        double[][] q = new double[k][k];
        for (int c = 0; c < k; c++) {
            double[] v = new double[k];
            for (int i = 0; i < k; i++) {
                v[i] = random.nextGaussian();
            }
            for (int p = 0; p < c; p++) {
                double dot = 0;
                for (int i = 0; i < k; i++) {
                    dot += v[i] * q[i][p];
                }
                for (int i = 0; i < k; i++) {
                    v[i] -= dot * q[i][p];
                }
            }
            double norm = 0;
            for (double x : v) {
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < k; i++) {
                q[i][c] = v[i] / norm;
            }
        }
        return q;
    }

    private static double[][] rotate(double[][] x, double[][] q) {
        double[][] r = new double[x.length][q.length];
        for (int n = 0; n < x.length; n++) {
            for (int i = 0; i < q.length; i++) {
                for (int j = 0; j < q.length; j++) {
                    r[n][i] += q[i][j] * x[n][j];
                }
            }
        }
        return r;
    }
}
