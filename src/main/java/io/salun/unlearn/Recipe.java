package io.salun.unlearn;

import io.salun.model.LrSchedule;
import io.salun.model.Optimizer;
import io.salun.train.DataOrder;

/**
 * How a method trains: the stage's optimiser, epochs, batch, local steps, data order, and the
 * methods' own knobs.
 *
 * @param l1Alpha          α of l1-sparse (ignored by the other methods)
 * @param excludeTrueLabel random labels y' ≠ y (paper) rather than any of K (reference code)
 * @param schedule         the learning rate over the stage's epochs
 * @param negGradBeta      β of NegGrad+, the retain part's weight (ignored by the other methods)
 * @param scrub            SCRUB's knobs (ignored by the other methods)
 * @param sfron            SFR-on's knobs (ignored by the other methods)
 */
public record Recipe(Optimizer optimizer, int epochs, int batchSize, int localSteps, DataOrder order,
                     boolean excludeTrueLabel, double l1Alpha, LrSchedule.Spec schedule, double negGradBeta,
                     Scrub scrub, SfrOn sfron) implements java.io.Serializable {

    /**
     * SFR-on's knobs, the official code's CIFAR-10 values by default: the forget steps' initial
     * scale α (annealed by a cosine to 0), the adaptive ascent's exponent λ, the forget steps'
     * gradient-norm bound, a forget step before every {@code forgetEvery} retain steps, and the
     * Fisher-ratio threshold γ of the mask.
     */
    public record SfrOn(double alpha, double lambda, double maxNorm, int forgetEvery, double threshold)
            implements java.io.Serializable {
        /** sfron.py's forget_alpha 25, lambd 0.5, max_norm 7, forget_freq 5 and th 1. */
        public static final SfrOn DEFAULT = new SfrOn(25, 0.5, 7, 5, 1);

        public SfrOn {
            if (!(alpha > 0) || !(lambda >= 0) || !(maxNorm > 0) || forgetEvery < 1 || !(threshold > 0)
                    || Double.isInfinite(alpha) || Double.isInfinite(lambda) || Double.isInfinite(maxNorm)
                    || Double.isInfinite(threshold)) {
                throw new IllegalArgumentException("sfron: alpha > 0, lambda >= 0, max-norm > 0, forget-every >= 1 and"
                        + " threshold > 0 (all finite) expected, found " + alpha + ", " + lambda + ", " + maxNorm + ", "
                        + forgetEvery + ", " + threshold);
            }
        }
    }

    /** A recipe with SFR-on's default knobs. */
    public Recipe(Optimizer optimizer, int epochs, int batchSize, int localSteps, DataOrder order,
                  boolean excludeTrueLabel, double l1Alpha, LrSchedule.Spec schedule, double negGradBeta, Scrub scrub) {
        this(optimizer, epochs, batchSize, localSteps, order, excludeTrueLabel, l1Alpha, schedule, negGradBeta, scrub,
                SfrOn.DEFAULT);
    }

    /**
     * SCRUB's knobs: the min-steps' weights of the KL term (α) and of the cross-entropy (γ), and
     * the number of epochs that begin with a max-step pass over Df ({@code maxEpochs}; the others
     * are min-steps on Dr only).
     */
    public record Scrub(double alpha, double gamma, int maxEpochs) implements java.io.Serializable {
        /** The official small-scale notebook's α = 0.5, γ = 1 and msteps = 3. */
        public static final Scrub DEFAULT = new Scrub(0.5, 1, 3);

        public Scrub {
            if (maxEpochs < 1) {
                throw new IllegalArgumentException("SCRUB: max-step epochs >= 1 expected, found " + maxEpochs);
            }
        }
    }

    /** A recipe with SCRUB's default knobs. */
    public Recipe(Optimizer optimizer, int epochs, int batchSize, int localSteps, DataOrder order,
                  boolean excludeTrueLabel, double l1Alpha, LrSchedule.Spec schedule, double negGradBeta) {
        this(optimizer, epochs, batchSize, localSteps, order, excludeTrueLabel, l1Alpha, schedule, negGradBeta,
                Scrub.DEFAULT);
    }
    /** NegGrad+'s β when a recipe does not say: the official code's 0.95. */
    public static final double NEGGRAD_BETA = 0.95;

    /** A recipe at the optimiser's constant learning rate. */
    public Recipe(Optimizer optimizer, int epochs, int batchSize, int localSteps, DataOrder order,
                  boolean excludeTrueLabel, double l1Alpha) {
        this(optimizer, epochs, batchSize, localSteps, order, excludeTrueLabel, l1Alpha, LrSchedule.Spec.CONSTANT);
    }

    /** A recipe with NegGrad+'s default β. */
    public Recipe(Optimizer optimizer, int epochs, int batchSize, int localSteps, DataOrder order,
                  boolean excludeTrueLabel, double l1Alpha, LrSchedule.Spec schedule) {
        this(optimizer, epochs, batchSize, localSteps, order, excludeTrueLabel, l1Alpha, schedule, NEGGRAD_BETA);
    }
}
