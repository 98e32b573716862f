package io.salun.unlearn;

import io.salun.mask.Bitset;

import java.util.Optional;

/**
 * Selective Synaptic Dampening (SSD; Foster, Schoepf, Brintrup, AAAI 2024): no training. With
 * {@code I_D} and {@code I_f} the diagonal Fisher information of the whole training set and of the
 * forget set ({@code io.salun.saliency.FisherDiagonal}, as means), every trainable parameter that
 * matters far more to the forget set, {@code I_f,i > α·I_D,i}, is scaled by
 * {@code β_i = min(λ·I_D,i / I_f,i, 1)}; every other parameter is left bit for bit. Running
 * statistics (BatchNorm) are never touched; under a saliency mask only its set bits may be dampened.
 *
 * <p>With per-example importances, as here, {@code I_D ≥ (|Df|/|D|)·I_f} entry by entry (D holds
 * Df), so only {@code α < |D|/|Df|} can select anything: below 10 for a tenth of the data. The
 * official code's α = 10 was set for squared minibatch-mean gradients, whose scale differs
 * (docs/METHODS.md §3b); this project's default is {@link #ALPHA}.
 *
 * @param alpha  α, the selection weighting (&gt; 0)
 * @param lambda λ, the dampening constant (&gt; 0; the paper's 1)
 */
public record SelectiveDampening(double alpha, double lambda) implements java.io.Serializable {
    /** α when a setting does not say: inside the bound |D|/|Df| for forget sets up to a quarter of D. */
    public static final double ALPHA = 3;
    /** λ when a setting does not say: the paper's. */
    public static final double LAMBDA = 1;

    public SelectiveDampening {
        if (!(alpha > 0) || Double.isInfinite(alpha) || !(lambda > 0) || Double.isInfinite(lambda)) {
            throw new IllegalArgumentException("ssd: alpha and lambda must be finite and > 0, found " + alpha + ", " + lambda);
        }
    }

    /** The dampened parameters and how many were selected. */
    public record Result(float[] parameters, long selected) {
    }

    /**
     * The importances SSD compares.
     *
     * @param forget      {@code I_f}, the mean over the forget set, one per parameter
     * @param all         {@code I_D}, the mean over the training set
     * @param untrainable entries never dampened (BatchNorm running statistics)
     * @param seconds     what computing them took (part of every SSD run's RTE)
     */
    public record Importances(double[] forget, double[] all, boolean[] untrainable, long forgetExamples,
                              long allExamples, double seconds) {
    }

    /** Dampens {@code theta} at {@code importances}; when {@code mask} is present only its set bits may be dampened. */
    public Result dampen(float[] theta, Importances importances, Optional<Bitset> mask) {
        return dampen(theta, importances.forget(), importances.all(), importances.untrainable(), mask);
    }

    /**
     * Dampens {@code theta}.
     *
     * @param forgetImportance {@code I_f} (mean over the forget set), one per parameter
     * @param allImportance    {@code I_D} (mean over the training set)
     * @param untrainable      entries never dampened (BatchNorm running statistics)
     * @param mask             when present, only its set bits may be dampened
     */
    public Result dampen(float[] theta, double[] forgetImportance, double[] allImportance, boolean[] untrainable,
                         Optional<Bitset> mask) {
        int n = theta.length;
        if (forgetImportance.length != n || allImportance.length != n || untrainable.length != n
                || mask.map(m -> m.size() != n).orElse(false)) {
            throw new IllegalArgumentException("ssd: " + n + " parameters but importances of " + forgetImportance.length
                    + " and " + allImportance.length + ", " + untrainable.length + " roles"
                    + mask.map(m -> ", a mask of " + m.size()).orElse(""));
        }
        float[] out = theta.clone();
        long selected = 0;
        for (int i = 0; i < n; i++) {
            if (untrainable[i] || (mask.isPresent() && !mask.get().get(i))) {
                continue;
            }
            double f = forgetImportance[i];
            double d = allImportance[i];
            if (f > alpha * d) {
                double beta = Math.min(lambda * d / f, 1.0);
                out[i] = (float) (theta[i] * beta);
                selected++;
            }
        }
        return new Result(out, selected);
    }

    /** The mean of a sum over {@code count} examples. */
    public static double[] mean(double[] sum, long count) {
        if (count < 1) {
            throw new IllegalArgumentException("ssd: an importance over no examples");
        }
        double[] m = new double[sum.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = sum[i] / count;
        }
        return m;
    }
}
