package io.salun.mask;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;

/**
 * Exact global hard threshold of weight saliency (SALUN-SPEC §1 steps 3–4).
 *
 * <p>Given the forget-set gradient sum {@code g ∈ R^N} over every trainable parameter
 * (flattened across all layers), with saliency {@code s_i = |g_i|}:
 * <pre>
 *   m_i = 1  iff  rank(i) &lt; k,   k = ⌊N · ratio⌋
 *   rank orders indices by (−s_i, i): larger saliency first, ties by lower flat index
 * </pre>
 * so exactly {@code k} bits are set and the mask is a deterministic function of {@code g}.
 * One ranking spans all layers (no per-layer quota). The mask is invariant to a positive
 * rescaling of {@code g} and to its sign.
 *
 * <p>Cost: one {@code double[N]} copy and one primitive sort, {@code O(N log N)}.
 */
public final class SaliencyMask {

    private SaliencyMask() {
    }

    /**
     * The mask of the {@code ⌊N·ratio⌋} most salient parameters.
     *
     * <p>{@code N·ratio} is evaluated on the decimal value of {@code ratio} (as written, e.g.
     * {@code 0.29}), not on its binary approximation, so {@code ⌊100 · 0.29⌋ = 29} rather than
     * the 28 that {@code Math.floor(100 * 0.29)} gives.
     *
     * @param gradientSum {@code g}, length {@code N}; the absolute value is taken here
     * @param ratio fraction of parameters to select, in {@code (0, 1]}
     * @throws IllegalArgumentException if {@code ratio} is outside {@code (0, 1]} or
     *     {@code g} holds a NaN (the message names its index)
     */
    public static Bitset topK(double[] gradientSum, double ratio) {
        if (!(ratio > 0 && ratio <= 1)) {
            throw new IllegalArgumentException("saliency ratio must be in (0, 1], found " + ratio);
        }
        return topK(gradientSum, kept(gradientSum.length, ratio));
    }

    /**
     * Refuses a ratio that keeps no parameter of a model of {@code parameters}: the mask would
     * freeze every weight and the run would publish the original unchanged.
     *
     * @throws io.salun.config.InvalidInputException naming {@code setting} and the least ratio that keeps one
     */
    public static void requireKeepsSome(double ratio, int parameters, String setting) {
        if (kept(parameters, ratio) == 0) {
            throw new io.salun.config.InvalidInputException("setting '" + setting + "': " + ratio + " keeps floor("
                    + parameters + " x " + ratio + ") = 0 of the model's " + parameters + " parameters, so nothing would"
                    + " be unlearned; expected at least 1/" + parameters + " = "
                    + String.format(java.util.Locale.ROOT, "%.3g", 1.0 / parameters) + " (one parameter)");
        }
    }

    /** {@code ⌊n·ratio⌋}, on the decimal value of {@code ratio}: how many of {@code n} parameters a mask keeps. */
    public static int kept(int n, double ratio) {
        return BigDecimal.valueOf(ratio)
                .multiply(BigDecimal.valueOf(n))
                .setScale(0, RoundingMode.FLOOR)
                .intValueExact();
    }

    /**
     * The mask of the {@code k} most salient parameters, ties broken by lower index first.
     *
     * @param gradientSum {@code g}, length {@code N}; the absolute value is taken here
     * @param k number of bits to set, in {@code [0, N]}
     * @throws IllegalArgumentException if {@code k} is outside {@code [0, N]} or {@code g} holds a
     *     NaN (the message names its index)
     */
    public static Bitset topK(double[] gradientSum, int k) {
        int n = gradientSum.length;
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("k must be in [0, " + n + "], found " + k);
        }
        // |g| once into the array that is sorted; the selection below takes |g| again (one copy of
        // N doubles beside g instead of two: 89 MB less on the driver at 11 M parameters)
        double[] sorted = new double[n];
        for (int i = 0; i < n; i++) {
            double g = gradientSum[i];
            if (Double.isNaN(g)) {
                throw new IllegalArgumentException("gradient sum is NaN at flat parameter index " + i
                        + " of " + n + "; the saliency ranking is undefined");
            }
            sorted[i] = Math.abs(g); // also maps -0.0 to +0.0, so the sort sees one zero
        }
        Bitset mask = new Bitset(n);
        if (k == 0) {
            return mask;
        }
        Arrays.sort(sorted);
        // t = k-th largest saliency. Everything above t is in; of the values equal to t,
        // only the lowest-index (k − #above) ones are.
        int thresholdPos = n - k;
        double threshold = sorted[thresholdPos];
        int firstAbove = thresholdPos + 1;
        while (firstAbove < n && sorted[firstAbove] == threshold) {
            firstAbove++;
        }
        int tiesToTake = k - (n - firstAbove);
        for (int i = 0; i < n; i++) {
            double s = Math.abs(gradientSum[i]);
            if (s > threshold) {
                mask.set(i);
            } else if (s == threshold && tiesToTake > 0) {
                mask.set(i);
                tiesToTake--;
            }
        }
        return mask;
    }

    /**
     * The mask of a network whose flat entries flagged in {@code statistics} are BatchNorm running
     * statistics (SALUN-SPEC §2a): the {@code ⌊N_t·ratio⌋} most salient of the {@code N_t}
     * trainable entries (one ranking, ties by lower index), and every statistics entry set, as
     * statistics are never frozen. Without statistics this is {@link #topK(double[], double)}.
     */
    public static Bitset topK(double[] gradientSum, double ratio, boolean[] statistics) {
        if (statistics.length != gradientSum.length) {
            throw new IllegalArgumentException("statistics flags for " + statistics.length + " entries, gradient of "
                    + gradientSum.length);
        }
        int trainable = 0;
        for (boolean s : statistics) {
            trainable += s ? 0 : 1;
        }
        if (trainable == gradientSum.length) {
            return topK(gradientSum, ratio);
        }
        if (!(ratio > 0 && ratio <= 1)) {
            throw new IllegalArgumentException("saliency ratio must be in (0, 1], found " + ratio);
        }
        double[] ranked = new double[trainable];
        for (int i = 0, t = 0; i < gradientSum.length; i++) {
            if (!statistics[i]) {
                ranked[t++] = gradientSum[i];
            }
        }
        Bitset kept = topK(ranked, kept(trainable, ratio));
        Bitset mask = new Bitset(gradientSum.length);
        // the t-th trainable entry is the t-th unflagged one, so no index table is kept
        for (int i = 0, t = 0; i < statistics.length; i++) {
            if (statistics[i] || kept.get(t++)) {
                mask.set(i);
            }
        }
        return mask;
    }

    /**
     * Fraction of set bits with index in {@code [from, to)}, e.g. the share of one layer's
     * parameters that the global mask selected.
     *
     * @throws IllegalArgumentException unless {@code 0 <= from < to <= mask.size()} (the fraction
     *     of an empty range is undefined)
     */
    public static double fractionSet(Bitset mask, int from, int to) {
        if (from < 0 || to > mask.size() || from >= to) {
            throw new IllegalArgumentException("range [" + from + ", " + to
                    + ") must be non-empty and inside [0, " + mask.size() + ")");
        }
        return (double) mask.cardinality(from, to) / (to - from);
    }
}
