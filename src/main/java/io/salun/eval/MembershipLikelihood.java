package io.salun.eval;

import java.util.Arrays;

/**
 * A per-example membership test from shadow models, in the spirit of U-LiRA (Hayes, Shumailov,
 * Triantafillou, Khalifa, Papernot, 2024, after LiRA, Carlini et al. 2022). Each of {@code K}
 * shadow models was trained with the original recipe with a seeded half of the audited examples,
 * in complementary pairs, so every example was IN (trained on) for exactly half of them and OUT
 * for the other half. For an example {@code i} and a model, the statistic is the logit-scaled
 * true-label confidence {@code φ = log(p) − log(1 − p)}. With {@code μ_in(i)}, {@code μ_out(i)}
 * the means of {@code φ} over the IN and OUT shadows and {@code σ_in}, {@code σ_out} the pooled
 * ("fixed variance", for few shadows) standard deviations over every example, the score of a
 * target model on {@code i} is the log-likelihood ratio
 * {@code s = log N(φ; μ_in, σ_in) − log N(φ; μ_out, σ_out)}; {@code s > 0} reads "looks trained
 * on {@code i}".
 *
 * <p>Calibration without extra training: each shadow in turn is the target, the other
 * {@code K − 1} the reference; its OUT examples are what a model that never saw them scores
 * (the rate of {@code s > 0} among them is the test's false-positive rate, what perfect
 * unlearning gives), its IN examples what a model that trained on them scores (the test's power).
 * Arrays: {@code phi[k][i]}, {@code in[k][i]} over shadows {@code k} and examples {@code i}.
 */
public final class MembershipLikelihood {
    /** Variances below this are raised to it (a model that gives every example the same φ). */
    private static final double MIN_VARIANCE = 1e-6;
    /** φ of probabilities clipped to [1e-7, 1 − 1e-7] (float32's resolution near 1). */
    private static final double CLIP = 1e-7;

    private final double[][] phi;
    private final boolean[][] in;
    private final int k;
    private final int n;

    public MembershipLikelihood(double[][] phi, boolean[][] in) {
        this.k = phi.length;
        if (k < 4 || in.length != k) {
            throw new IllegalArgumentException("the membership test needs at least 4 shadow models (and a flag row"
                    + " each), found " + k + " and " + in.length);
        }
        this.n = phi[0].length;
        for (int s = 0; s < k; s++) {
            if (phi[s].length != n || in[s].length != n) {
                throw new IllegalArgumentException("shadow " + s + " scores " + phi[s].length + " examples, not " + n);
            }
        }
        for (int i = 0; i < n; i++) {
            int members = 0;
            for (int s = 0; s < k; s++) {
                members += in[s][i] ? 1 : 0;
            }
            if (members < 2 || k - members < 2) {
                throw new IllegalArgumentException("example " + i + " is IN for " + members + " of " + k
                        + " shadows; the test needs at least 2 IN and 2 OUT (with one left out: 1)");
            }
        }
        this.phi = phi;
        this.in = in;
    }

    /** The logit-scaled confidence of a true-label probability. */
    public static double logit(double p) {
        double q = Math.min(1 - CLIP, Math.max(CLIP, p));
        return Math.log(q) - Math.log1p(-q);
    }

    /**
     * The scores {@code s} of a target model's statistics {@code target[i]}: against every set of
     * {@code K − 1} shadows in turn, averaged, so a target is scored exactly as the calibration
     * scores each shadow (against the other {@code K − 1}); against all {@code K} the means would be
     * less noisy than the calibration's and the rates not comparable.
     */
    public double[] scores(double[] target) {
        double[] mean = new double[n];
        for (int left = 0; left < k; left++) {
            double[] s = scores(target, left);
            for (int i = 0; i < n; i++) {
                mean[i] += s[i] / k;
            }
        }
        return mean;
    }

    /** The rate of "looks trained on" of a target, over its {@code K} leave-one-out scorings (as the calibration's rates). */
    public double targetRate(double[] target) {
        double sum = 0;
        for (int left = 0; left < k; left++) {
            sum += rate(scores(target, left));
        }
        return sum / k;
    }

    /** The scores against every shadow but {@code leftOut} (−1: none). */
    private double[] scores(double[] target, int leftOut) {
        if (target.length != n) {
            throw new IllegalArgumentException("a target scored on " + target.length + " examples, not " + n);
        }
        double[] muIn = new double[n];
        double[] muOut = new double[n];
        double varIn = 0;
        double varOut = 0;
        for (int i = 0; i < n; i++) {
            double sIn = 0;
            double sOut = 0;
            int cIn = 0;
            int cOut = 0;
            for (int s = 0; s < k; s++) {
                if (s == leftOut) {
                    continue;
                }
                if (in[s][i]) {
                    sIn += phi[s][i];
                    cIn++;
                } else {
                    sOut += phi[s][i];
                    cOut++;
                }
            }
            muIn[i] = sIn / cIn;
            muOut[i] = sOut / cOut;
            double dIn = 0;
            double dOut = 0;
            for (int s = 0; s < k; s++) {
                if (s == leftOut) {
                    continue;
                }
                double d = phi[s][i] - (in[s][i] ? muIn[i] : muOut[i]);
                if (in[s][i]) {
                    dIn += d * d;
                } else {
                    dOut += d * d;
                }
            }
            varIn += dIn / cIn;
            varOut += dOut / cOut;
        }
        double sdIn = Math.sqrt(Math.max(MIN_VARIANCE, varIn / n));
        double sdOut = Math.sqrt(Math.max(MIN_VARIANCE, varOut / n));
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = logNormal(target[i], muIn[i], sdIn) - logNormal(target[i], muOut[i], sdOut);
        }
        return out;
    }

    private static double logNormal(double x, double mu, double sd) {
        double z = (x - mu) / sd;
        return -0.5 * z * z - Math.log(sd);
    }

    /** What models that did and did not train on each example score, each shadow left out in turn. */
    public record Calibration(double[] outScores, double[] inScores) {
        /** The rate of "looks trained on" among examples the model never saw: what perfect unlearning gives. */
        public double falsePositiveRate() {
            return rate(outScores);
        }

        /** The rate among examples the model trained on: the test's power. */
        public double truePositiveRate() {
            return rate(inScores);
        }
    }

    /** The leave-one-out calibration. */
    public Calibration calibration() {
        double[] outs = new double[0];
        double[] ins = new double[0];
        for (int s = 0; s < k; s++) {
            double[] sc = scores(phi[s], s);
            int o = 0;
            for (int i = 0; i < n; i++) {
                o += in[s][i] ? 0 : 1;
            }
            double[] so = new double[o];
            double[] si = new double[n - o];
            int a = 0;
            int b = 0;
            for (int i = 0; i < n; i++) {
                if (in[s][i]) {
                    si[b++] = sc[i];
                } else {
                    so[a++] = sc[i];
                }
            }
            outs = concat(outs, so);
            ins = concat(ins, si);
        }
        return new Calibration(outs, ins);
    }

    /** The fraction of scores above 0 ("looks trained on"). */
    public static double rate(double[] scores) {
        long above = Arrays.stream(scores).filter(s -> s > 0).count();
        return scores.length == 0 ? Double.NaN : (double) above / scores.length;
    }

    /**
     * Whether a target's rate {@code rate} over {@code n} examples is within the 95% interval of
     * the calibration's false-positive rate {@code fpr} over {@code m} examples (a two-proportion
     * z-test): indistinguishable from models that never saw the examples.
     */
    public static boolean indistinguishable(double rate, int n, double fpr, int m) {
        double pooled = (rate * n + fpr * m) / (n + m);
        double se = Math.sqrt(Math.max(1e-12, pooled * (1 - pooled) * (1.0 / n + 1.0 / m)));
        return Math.abs(rate - fpr) / se <= 1.96;
    }

    /** Counts of {@code scores} in {@code bins} equal bins over [lo, hi] (outside values in the end bins). */
    public static long[] histogram(double[] scores, double lo, double hi, int bins) {
        long[] h = new long[bins];
        for (double s : scores) {
            int b = (int) Math.floor((s - lo) / (hi - lo) * bins);
            h[Math.max(0, Math.min(bins - 1, b))]++;
        }
        return h;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
