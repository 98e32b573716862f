package io.salun.train;

import io.salun.data.Shard;
import io.salun.model.Net;

import java.io.Serializable;

/**
 * What a training step fits: the minibatch (inputs, targets and optional per-example weights) that
 * rows {@code order[from..to)} of a shard become in an epoch. Classification fits labels
 * ({@link Labelling}); a diffusion model fits noise, or its own predictions under another condition
 * ({@code io.salun.diffusion.DiffusionTargets}). Every random draw must depend only on the seed,
 * the epoch and the record ID, never on partitioning.
 */
public interface Targets extends Serializable {

    /**
     * The minibatch of rows {@code order[from..to)} of {@code shard} in {@code epoch}; {@code net} is the
     * network being trained, at its current parameters (targets that depend on the model read it).
     */
    Minibatch minibatch(Net net, Shard shard, int[] order, int from, int to, int classes, int epoch);

    /**
     * A minibatch fitted as a step of its own just before the epoch's step {@code step} (0-based
     * within the epoch), or none: SFR-on's forget steps ({@link ForgetSteps}); every other method
     * fits one minibatch per step.
     *
     * @param seed seeds the draw; derived per (stage, epoch, partition) by the caller
     */
    default java.util.Optional<Minibatch> before(Net net, Shard shard, int step, int batchSize, int classes, int epoch,
                                                 long seed) {
        return java.util.Optional.empty();
    }

    /** The optimiser steps an epoch of {@code steps} minibatch steps takes, counting the {@link #before} ones. */
    default int fitsPerEpoch(int steps) {
        return steps;
    }

    /** Short name for logs and reports. */
    String name();
}
