package io.salun.unlearn;

import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.train.ParameterAveraging;
import org.apache.spark.api.java.JavaRDD;

import java.util.Optional;

/**
 * One training of a run: a method (or Retrain) as the engine runs it, from {@code start} on
 * {@code data} following {@code plan}, under {@code mask} when it has one.
 *
 * @param label           the method as reports name it ({@code salun}, {@code ft+mask}, {@code retrain} …)
 * @param checkpointScope where its checkpoints are kept apart from the run's other trainings; empty
 *                        for a run that trains once
 */
public record Stage(String label, NetworkSnapshot start, JavaRDD<Shard> data, ParameterAveraging.Plan plan,
                    Optional<Bitset> mask, Optional<String> checkpointScope) {

    /**
     * Whether {@code shorter}'s training is exactly this one's beginning (same method, start,
     * records and mask; a plan that {@link ParameterAveraging.Plan#continues continues} it), so
     * its result can be trained on instead of starting again.
     */
    public boolean continues(Stage shorter) {
        return label.equals(shorter.label) && data == shorter.data && mask.equals(shorter.mask)
                && start.config().equals(shorter.start.config()) && start.iteration() == shorter.start.iteration()
                && java.util.Arrays.equals(start.parameters(), shorter.start.parameters())
                && java.util.Arrays.equals(start.updaterState(), shorter.start.updaterState())
                && plan.continues(shorter.plan);
    }

    /** The same stage, its checkpoints kept under {@code scope}. */
    public Stage scoped(String scope) {
        return new Stage(label, start, data, plan, mask, Optional.of(scope));
    }
}
