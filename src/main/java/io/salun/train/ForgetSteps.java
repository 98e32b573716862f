package io.salun.train;

import io.salun.config.Seeds;
import io.salun.data.Shard;
import io.salun.model.Net;

import java.util.Optional;

/**
 * SFR-on's two kinds of step (Huang et al., NeurIPS 2024, "Unified Gradient-Based Machine Unlearning
 * with Remain Geometry Enhancement"; official {@code Classification/unlearn/sfron.py}). The epoch's
 * steps are minibatches of the retain rows ({@link DataOrder#RETAIN}) with their true labels; before
 * every {@code every}-th of them (steps 0, every, 2·every …) comes a step of its own on a forget
 * minibatch whose label rows are {@code −α_t·e_y}: gradient ascent, scaled by
 * {@code α_t = α·(1 + cos(π t / T))/2} (the official cosine over the {@code T} retain steps of the
 * stage, {@code t} the retain step's index in it), and reweighted per record by the adaptive ascent
 * of {@code io.salun.model.WeightedCrossEntropy}. The forget step's gradient is masked and clipped
 * by {@link GradientTerm.AscentStepMask}.
 *
 * <p>Forget minibatches cycle through the partition's forget rows, shuffled afresh each epoch (the
 * official {@code cycle(forget_loader)}); each holds {@code min(b, f)} rows for a partition of
 * {@code f} forget rows. A partition without forget rows takes retain steps only.
 *
 * @param alpha         α, the forget steps' initial scale (official: 25)
 * @param every         a forget step before every this many retain steps (official: 5)
 * @param stepsPerEpoch the retain steps of an epoch (the largest partition's), for {@code t}
 * @param totalSteps    {@code T}, the retain steps of the whole stage
 */
public record ForgetSteps(double alpha, int every, int stepsPerEpoch, long totalSteps) implements Targets {
    public ForgetSteps {
        if (!(alpha > 0) || Double.isInfinite(alpha) || every < 1 || stepsPerEpoch < 1 || totalSteps < 1) {
            throw new IllegalArgumentException("sfron: alpha > 0 (finite), every >= 1, steps >= 1 expected, found "
                    + alpha + ", " + every + ", " + stepsPerEpoch + ", " + totalSteps);
        }
    }

    /** α_t at the stage's retain step {@code t} (0-based). */
    public double alphaAt(long t) {
        return alpha * (1 + Math.cos(Math.PI * Math.min(t, totalSteps) / totalSteps)) / 2;
    }

    @Override
    public Minibatch minibatch(Net net, Shard shard, int[] order, int from, int to, int classes, int epoch) {
        return Minibatch.of(shard, order, from, to, classes, shard::label);
    }

    @Override
    public Optional<Minibatch> before(Net net, Shard shard, int step, int batchSize, int classes, int epoch, long seed) {
        if (step % every != 0) {
            return Optional.empty();
        }
        int[] forget = DataOrder.rowsOfKind(shard, true, Seeds.derive(seed, "sfron/forget"));
        if (forget.length == 0) {
            return Optional.empty();
        }
        int size = Math.min(batchSize, forget.length);
        int first = (int) ((long) (step / every) * size % forget.length);
        int[] rows = new int[size];
        for (int i = 0; i < size; i++) {
            rows[i] = forget[(first + i) % forget.length];
        }
        float weight = (float) -alphaAt((long) epoch * stepsPerEpoch + step);
        return Optional.of(Minibatch.weighted(shard, rows, 0, size, classes, shard::label, row -> weight));
    }

    @Override
    public int fitsPerEpoch(int steps) {
        return steps + (steps + every - 1) / every;
    }

    @Override
    public String name() {
        return "sfron(alpha=" + alpha + ", every " + every + ")";
    }
}
