package io.salun.diffusion;

/**
 * Fréchet distance between two sets of feature vectors, each summarised by a Gaussian (mean,
 * covariance): {@code ‖μ₁ − μ₂‖² + Tr(Σ₁) + Tr(Σ₂) − 2·Tr((Σ₁^½ Σ₂ Σ₁^½)^½)} — FID when the
 * features are an image classifier's penultimate activations (here the project's classifier
 * stands in for Inception). Eigen-decompositions use the cyclic Jacobi method in double precision:
 * deterministic, no native dependency.
 */
public final class Fid {
    private Fid() {
    }

    /** The distance between the rows of {@code a} and the rows of {@code b} (each at least 2 rows). */
    public static double distance(double[][] a, double[][] b) {
        if (a.length < 2 || b.length < 2 || a[0].length != b[0].length) {
            throw new IllegalArgumentException("FID needs two sets of at least 2 vectors of equal length, found "
                    + a.length + " and " + b.length);
        }
        double[] muA = mean(a);
        double[] muB = mean(b);
        double[][] covA = covariance(a, muA);
        double[][] covB = covariance(b, muB);
        double meanTerm = 0;
        for (int i = 0; i < muA.length; i++) {
            meanTerm += (muA[i] - muB[i]) * (muA[i] - muB[i]);
        }
        double[][] rootA = sqrtPsd(covA);
        double[][] s = multiply(multiply(rootA, covB), rootA);
        symmetrize(s);
        double traceRoot = 0;
        for (double lambda : eigen(s, null)) {
            traceRoot += Math.sqrt(Math.max(0, lambda));
        }
        return meanTerm + trace(covA) + trace(covB) - 2 * traceRoot;
    }

    static double[] mean(double[][] x) {
        double[] mu = new double[x[0].length];
        for (double[] row : x) {
            for (int j = 0; j < mu.length; j++) {
                mu[j] += row[j];
            }
        }
        for (int j = 0; j < mu.length; j++) {
            mu[j] /= x.length;
        }
        return mu;
    }

    /** The sample covariance (divisor n − 1). */
    static double[][] covariance(double[][] x, double[] mu) {
        int k = mu.length;
        double[][] c = new double[k][k];
        double[] centred = new double[k];
        for (double[] row : x) {
            for (int j = 0; j < k; j++) {
                centred[j] = row[j] - mu[j];
            }
            for (int i = 0; i < k; i++) {
                double ci = centred[i];
                if (ci == 0) {
                    continue;
                }
                double[] ri = c[i];
                for (int j = i; j < k; j++) {
                    ri[j] += ci * centred[j];
                }
            }
        }
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) {
                c[i][j] /= x.length - 1;
                c[j][i] = c[i][j];
            }
        }
        return c;
    }

    /** The symmetric square root of a positive semi-definite matrix (negative round-off eigenvalues → 0). */
    static double[][] sqrtPsd(double[][] m) {
        int k = m.length;
        double[][] vectors = new double[k][k];
        double[] values = eigen(m, vectors);
        double[][] r = new double[k][k];
        for (int e = 0; e < k; e++) {
            double root = Math.sqrt(Math.max(0, values[e]));
            if (root == 0) {
                continue;
            }
            for (int i = 0; i < k; i++) {
                double vi = vectors[i][e] * root;
                if (vi == 0) {
                    continue;
                }
                for (int j = 0; j < k; j++) {
                    r[i][j] += vi * vectors[j][e];
                }
            }
        }
        return r;
    }

    /**
     * Eigenvalues of the symmetric matrix {@code m} (not modified) by cyclic Jacobi rotations; with
     * {@code vectors} non-null, its columns receive the eigenvectors.
     */
    static double[] eigen(double[][] m, double[][] vectors) {
        int k = m.length;
        double[][] a = new double[k][];
        for (int i = 0; i < k; i++) {
            a[i] = m[i].clone();
        }
        if (vectors != null) {
            for (int i = 0; i < k; i++) {
                java.util.Arrays.fill(vectors[i], 0);
                vectors[i][i] = 1;
            }
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double diag = 0;
            for (int i = 0; i < k; i++) {
                diag += a[i][i] * a[i][i];
                for (int j = i + 1; j < k; j++) {
                    off += a[i][j] * a[i][j];
                }
            }
            if (off <= 1e-24 * Math.max(diag, 1e-300)) {
                break;
            }
            for (int p = 0; p < k - 1; p++) {
                for (int q = p + 1; q < k; q++) {
                    double apq = a[p][q];
                    if (Math.abs(apq) < 1e-300) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int r = 0; r < k; r++) {
                        double arp = a[r][p];
                        double arq = a[r][q];
                        a[r][p] = c * arp - s * arq;
                        a[r][q] = s * arp + c * arq;
                    }
                    double[] rowP = a[p];
                    double[] rowQ = a[q];
                    for (int r = 0; r < k; r++) {
                        double apr = rowP[r];
                        double aqr = rowQ[r];
                        rowP[r] = c * apr - s * aqr;
                        rowQ[r] = s * apr + c * aqr;
                    }
                    if (vectors != null) {
                        for (int r = 0; r < k; r++) {
                            double vrp = vectors[r][p];
                            double vrq = vectors[r][q];
                            vectors[r][p] = c * vrp - s * vrq;
                            vectors[r][q] = s * vrp + c * vrq;
                        }
                    }
                }
            }
        }
        double[] values = new double[k];
        for (int i = 0; i < k; i++) {
            values[i] = a[i][i];
        }
        return values;
    }

    private static double[][] multiply(double[][] x, double[][] y) {
        int n = x.length;
        int k = y[0].length;
        double[][] r = new double[n][k];
        for (int i = 0; i < n; i++) {
            double[] ri = r[i];
            for (int l = 0; l < y.length; l++) {
                double xil = x[i][l];
                if (xil == 0) {
                    continue;
                }
                double[] yl = y[l];
                for (int j = 0; j < k; j++) {
                    ri[j] += xil * yl[j];
                }
            }
        }
        return r;
    }

    private static void symmetrize(double[][] s) {
        for (int i = 0; i < s.length; i++) {
            for (int j = i + 1; j < s.length; j++) {
                double v = (s[i][j] + s[j][i]) / 2;
                s[i][j] = v;
                s[j][i] = v;
            }
        }
    }

    private static double trace(double[][] m) {
        double t = 0;
        for (int i = 0; i < m.length; i++) {
            t += m[i][i];
        }
        return t;
    }
}
