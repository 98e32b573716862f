package io.salun.model;

import io.salun.config.InvalidInputException;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Arrays;

/**
 * A learning-rate schedule over a training stage's epochs, as PyTorch's schedulers step once per
 * epoch: {@code step:E1,E2,…} multiplies the rate by 0.1 at each listed epoch (PyTorch's
 * {@code MultiStepLR(milestones=[E1, E2, …], gamma=0.1)}, the reference code's), {@code cosine}
 * anneals it to 0 over the stage ({@code CosineAnnealingLR(T_max=epochs, eta_min=0)}:
 * {@code lr·(1 + cos(π·e/E))/2} in epoch {@code e} of {@code E}).
 *
 * <p>The engine counts minibatch steps, not epochs: epoch {@code e} of a stage is iteration
 * {@code start + e·S} to {@code start + (e+1)·S − 1}, with {@code S} the steps of one epoch (the
 * largest partition's minibatches), so the schedule is a function of the iteration counter that
 * travels with every round and is restored by a resume. A DL4J {@link ISchedule} (bean properties,
 * for DL4J's JSON).
 */
public final class LrSchedule implements ISchedule {
    private static final long serialVersionUID = 1L;
    /** MultiStepLR's default factor. */
    public static final double GAMMA = 0.1;

    private String kind;
    private double baseLr;
    private int[] milestones;
    private int epochs;
    private int stepsPerEpoch;
    private int startIteration;

    /** For DL4J's JSON. */
    public LrSchedule() {
        this("cosine", 0.1, new int[0], 1, 1, 0);
    }

    private LrSchedule(String kind, double baseLr, int[] milestones, int epochs, int stepsPerEpoch, int startIteration) {
        this.kind = kind;
        this.baseLr = baseLr;
        this.milestones = milestones;
        this.epochs = epochs;
        this.stepsPerEpoch = stepsPerEpoch;
        this.startIteration = startIteration;
    }

    /**
     * A stage's schedule as a setting gives it: {@code constant} (no schedule), {@code cosine}, or
     * {@code step:E1,E2,…} with increasing epochs ≥ 1.
     */
    public record Spec(String kind, int[] milestones) implements java.io.Serializable {
        public static final Spec CONSTANT = new Spec("constant", new int[0]);

        /** Reads {@code text} (the grammar of {@code StageSettings.scheduleMilestones}); a malformed value is an error naming {@code setting}. */
        public static Spec parse(String text, String setting) {
            int[] milestones = io.salun.config.StageSettings.scheduleMilestones(text);
            if (milestones == null) {
                throw new InvalidInputException(setting + ": expected constant, cosine, or step:E1,E2,... (epochs where"
                        + " the rate is multiplied by " + GAMMA + ", increasing, >= 1), found '" + text + "'");
            }
            String t = text.trim();
            return t.equals("constant") ? CONSTANT : new Spec(t.startsWith("step:") ? "step" : "cosine", milestones);
        }

        public boolean constant() {
            return kind.equals("constant");
        }

        /** The schedule of a stage of {@code epochs} epochs of {@code stepsPerEpoch} steps from {@code startIteration}. */
        public LrSchedule at(double baseLr, int epochs, int stepsPerEpoch, int startIteration) {
            if (constant()) {
                throw new IllegalStateException("a constant rate has no schedule");
            }
            return new LrSchedule(kind, baseLr, milestones.clone(), Math.max(1, epochs), Math.max(1, stepsPerEpoch),
                    startIteration);
        }

        /**
         * {@code configuration} with this schedule on every trainable layer's update rule, from
         * that rule's own learning rate ({@code configuration} itself when constant).
         */
        public NetworkConfig applyTo(NetworkConfig configuration, int epochs, int stepsPerEpoch, int startIteration) {
            if (constant()) {
                return configuration;
            }
            return configuration.editLayers(c -> {
                if (c.getLayer() instanceof BaseLayer base && base.getIUpdater() != null
                        && base.getIUpdater().hasLearningRate()) {
                    double lr = base.getIUpdater().getLearningRate(0, 0);
                    base.getIUpdater().setLrAndSchedule(lr, at(lr, epochs, stepsPerEpoch, startIteration));
                }
            });
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Spec s && s.kind.equals(kind) && Arrays.equals(s.milestones, milestones);
        }

        @Override
        public int hashCode() {
            return kind.hashCode() * 31 + Arrays.hashCode(milestones);
        }

        @Override
        public String toString() {
            return kind.equals("step") ? "step:" + String.join(",", Arrays.stream(milestones).mapToObj(String::valueOf).toList())
                    : kind;
        }
    }

    /** The epoch of the stage that {@code iteration} falls in (0-based). */
    public int epochOf(int iteration) {
        return Math.max(0, iteration - startIteration) / stepsPerEpoch;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        int e = epochOf(iteration);
        if (kind.equals("cosine")) {
            return baseLr * (1 + Math.cos(Math.PI * Math.min(e, epochs) / epochs)) / 2;
        }
        double lr = baseLr;
        for (int m : milestones) {
            if (e >= m) {
                lr *= GAMMA;
            }
        }
        return lr;
    }

    @Override
    public LrSchedule clone() {
        return new LrSchedule(kind, baseLr, milestones.clone(), epochs, stepsPerEpoch, startIteration);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LrSchedule s && s.kind.equals(kind) && s.baseLr == baseLr && Arrays.equals(s.milestones, milestones)
                && s.epochs == epochs && s.stepsPerEpoch == stepsPerEpoch && s.startIteration == startIteration;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(kind, baseLr, Arrays.hashCode(milestones), epochs, stepsPerEpoch, startIteration);
    }

    @Override
    public String toString() {
        return kind + "(lr=" + baseLr + (kind.equals("step") ? ", milestones=" + Arrays.toString(milestones) : "")
                + ", epochs=" + epochs + ", steps/epoch=" + stepsPerEpoch + ")";
    }

    public String getKind() {
        return kind;
    }

    public void setKind(String kind) {
        this.kind = kind;
    }

    public double getBaseLr() {
        return baseLr;
    }

    public void setBaseLr(double baseLr) {
        this.baseLr = baseLr;
    }

    public int[] getMilestones() {
        return milestones;
    }

    public void setMilestones(int[] milestones) {
        this.milestones = milestones;
    }

    public int getEpochs() {
        return epochs;
    }

    public void setEpochs(int epochs) {
        this.epochs = epochs;
    }

    public int getStepsPerEpoch() {
        return stepsPerEpoch;
    }

    public void setStepsPerEpoch(int stepsPerEpoch) {
        this.stepsPerEpoch = stepsPerEpoch;
    }

    public int getStartIteration() {
        return startIteration;
    }

    public void setStartIteration(int startIteration) {
        this.startIteration = startIteration;
    }
}
