package io.salun.train;

import io.salun.data.Shard;
import io.salun.model.NetworkSnapshot;

import java.util.List;
import java.util.Optional;

/**
 * A whole training in one process, free of Spark: {@code plan} run as the engine runs it on
 * {@code shards} as its partitions (the same rounds of local steps from the same start on every
 * partition, the same weighted average after each round, the same seeds, order and schedule), only
 * one partition after another instead of side by side. For work that trains many small models,
 * one per task (the privacy audit's shadow models), so that each is trained the way the engine
 * trains Retrain: parameter averaging changes the model (its effective batch), so a single loop
 * would not be a like-for-like reference.
 */
public final class LocalTraining {
    private LocalTraining() {
    }

    /**
     * {@code start} trained by {@code plan} on {@code shards}, shard {@code p} as partition {@code p}.
     *
     * @throws TrainingDivergedException if a round's loss is not finite
     */
    public static NetworkSnapshot train(NetworkSnapshot start, List<Shard> shards, ParameterAveraging.Plan plan) {
        int maxRows = shards.stream().mapToInt(Shard::size).max().orElse(0);
        int batches = LocalSteps.batchesPerEpoch(maxRows, plan.batchSize());
        if (batches == 0) {
            throw new IllegalArgumentException("stage " + plan.stage() + " has no training records");
        }
        int rounds = (batches + plan.localSteps() - 1) / plan.localSteps();
        NetworkSnapshot current = new NetworkSnapshot(plan.schedule().applyTo(start.config(), plan.epochs(), batches,
                start.iteration()), start.parameters(), start.updaterState(), start.iteration(), start.epoch());
        for (int epoch = 0; epoch < plan.epochs(); epoch++) {
            for (int round = 0; round < rounds; round++) {
                LocalSteps.Round spec = new LocalSteps.Round(plan.stage(), plan.seed(), epoch, round, plan.batchSize(),
                        plan.localSteps(), plan.classes(), plan.order(), plan.targets(), plan.term());
                RoundAverage average = RoundAverage.empty(current.size(), current.updaterState().length);
                for (int p = 0; p < shards.size(); p++) {
                    average.merge(LocalSteps.run(current, Optional.empty(), shards.get(p), p, spec));
                }
                average.result();
                if (!Double.isFinite(average.meanLoss())) {
                    throw new TrainingDivergedException(plan.stage(), epoch, round, average.meanLoss());
                }
                current = current.with(average.parameters(), average.updaterState(), current.iteration() + average.steps());
            }
        }
        return current;
    }
}
