package io.salun.eval;

import java.util.List;

/**
 * The unlearning metrics of SALUN-SPEC §4, in percent: UA = 100 − accuracy on Df, RA = accuracy
 * on Dr, TA = accuracy on Dt (without the forgotten classes in class-wise forgetting),
 * MIA-Efficacy (see {@link MembershipInferenceAttack}), for class-wise forgetting the accuracy
 * on the forgotten classes' test images (NaN otherwise), and the forget set's mean cross-entropy
 * of its true labels (what unlearning must change; NaN when not measured).
 */
public record Metrics(double ua, double ra, double ta, double mia, double forgottenClassTestAccuracy, double forgetLoss) {

    /** The metrics without a measured forget loss. */
    public Metrics(double ua, double ra, double ta, double mia, double forgottenClassTestAccuracy) {
        this(ua, ra, ta, mia, forgottenClassTestAccuracy, Double.NaN);
    }

    /** The four metrics Avg. Gap averages, in the paper's order. */
    public List<Double> gapMetrics() {
        return List.of(ua, ra, ta, mia);
    }

    /** Avg. Gap = mean over {UA, RA, TA, MIA-Efficacy} of |this − reference| (SALUN-SPEC §4). */
    public double averageGap(Metrics reference) {
        List<Double> a = gapMetrics();
        List<Double> b = reference.gapMetrics();
        double sum = 0;
        for (int i = 0; i < a.size(); i++) {
            sum += Math.abs(a.get(i) - b.get(i));
        }
        return sum / a.size();
    }
}
