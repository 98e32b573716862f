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

    /** Short name for logs and reports. */
    String name();
}
