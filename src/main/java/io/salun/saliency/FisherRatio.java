package io.salun.saliency;

import io.salun.mask.Bitset;

/**
 * SFR-on's forget-remain balanced weight saliency (Huang et al., NeurIPS 2024, eq. 9; official
 * {@code get_weight_saliency_mask}): a weight is salient for forgetting when it matters at least
 * {@code γ} times more to the forget set than to the retain set,
 * {@code (F_f,i + 10⁻¹⁵) / (F_r,i + 10⁻¹⁵) ≥ γ}, with {@code F} the diagonal Fisher information of
 * each set ({@link FisherDiagonal}, as means). Unlike SalUn's top-k mask, the number of salient
 * weights is whatever the ratio gives.
 *
 * <p>Entries that are not trainable (BatchNorm running statistics) get a set bit: SFR-on masks the
 * forget step's gradient with it, and a statistic's pseudo-gradient must pass for the statistics to
 * keep updating.
 */
public final class FisherRatio {
    /** The official code's {@code 1e-15} on both sides of the ratio. */
    static final double EPSILON = 1e-15;

    private FisherRatio() {
    }

    /**
     * The mask of {@code forget[i] / retain[i] ≥ threshold} (each with ε added).
     *
     * @param forget      {@code F_f}, the forget set's mean squared per-example gradient, per parameter
     * @param retain      {@code F_r}, the retain set's
     * @param untrainable entries whose bit is set whatever the ratio
     * @param threshold   γ (&gt; 0; the official 1)
     */
    public static Bitset mask(double[] forget, double[] retain, boolean[] untrainable, double threshold) {
        int n = forget.length;
        if (retain.length != n || untrainable.length != n) {
            throw new IllegalArgumentException("sfron: Fisher diagonals of " + n + " and " + retain.length
                    + " entries and " + untrainable.length + " roles");
        }
        if (!(threshold > 0) || Double.isInfinite(threshold)) {
            throw new IllegalArgumentException("sfron: a finite threshold > 0 expected, found " + threshold);
        }
        Bitset mask = new Bitset(n);
        for (int i = 0; i < n; i++) {
            if (untrainable[i] || (forget[i] + EPSILON) / (retain[i] + EPSILON) >= threshold) {
                mask.set(i);
            }
        }
        return mask;
    }
}
