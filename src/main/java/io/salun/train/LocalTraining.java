package io.salun.train;

import io.salun.data.Shard;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;

/**
 * A whole training in one process, free of Spark: {@code plan} run on one shard as the engine runs
 * it on one partition (the same minibatches, order, seeds and schedule; the engine's one-partition
 * result equals plain DL4J's, which the engine's tests check), for work that trains many small
 * models side by side, one per task (the privacy audit's shadow models).
 */
public final class LocalTraining {
    private LocalTraining() {
    }

    /**
     * {@code start} trained by {@code plan} on {@code shard}, treated as partition 0.
     *
     * @throws TrainingDivergedException if an epoch's loss is not finite
     */
    public static NetworkSnapshot train(NetworkSnapshot start, Shard shard, ParameterAveraging.Plan plan) {
        int batches = LocalSteps.batchesPerEpoch(shard.size(), plan.batchSize());
        if (batches == 0) {
            throw new IllegalArgumentException("stage " + plan.stage() + " has no training records");
        }
        NetworkSnapshot scheduled = new NetworkSnapshot(plan.schedule().applyTo(start.config(), plan.epochs(), batches,
                start.iteration()), start.parameters(), start.updaterState(), start.iteration(), start.epoch());
        Net net = LocalSteps.prepare(scheduled, java.util.Optional.empty(), plan.term());
        for (int epoch = 0; epoch < plan.epochs(); epoch++) {
            LocalSteps.Round round = new LocalSteps.Round(plan.stage(), plan.seed(), epoch, 0, plan.batchSize(), batches,
                    plan.classes(), plan.order(), plan.targets(), plan.term());
            RoundAverage r = LocalSteps.run(net, shard, 0, round);
            if (!Double.isFinite(r.meanLoss())) {
                throw new TrainingDivergedException(plan.stage(), epoch, 0, r.meanLoss());
            }
        }
        return NetworkSnapshot.of(net);
    }
}
