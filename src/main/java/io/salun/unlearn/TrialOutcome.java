package io.salun.unlearn;

import io.salun.model.NetworkSnapshot;
import io.salun.train.ParameterAveraging;

import java.util.List;

/**
 * What one training of a run gave: the model, the seconds it took (RTE), its loss per round, and
 * its judgement by the run's task.
 *
 * @param <M> the judgement's type (classification metrics, generation scores)
 */
public record TrialOutcome<M>(String label, boolean masked, NetworkSnapshot model, double seconds,
                              List<ParameterAveraging.RoundLoss> losses, M judgement) {

    /** The same outcome with {@code earlier} seconds of the method's own preparation (SFR-on's mask) counted in its time. */
    public TrialOutcome<M> plusSeconds(double earlier) {
        return new TrialOutcome<>(label, masked, model, seconds + earlier, losses, judgement);
    }
}
