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
 */
public record Recipe(Optimizer optimizer, int epochs, int batchSize, int localSteps, DataOrder order,
                     boolean excludeTrueLabel, double l1Alpha, LrSchedule.Spec schedule, double negGradBeta)
        implements java.io.Serializable {
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
