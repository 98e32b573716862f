package io.salun.train;

import io.salun.mask.Bitset;
import io.salun.model.Net;
import io.salun.model.NetworkConfig;
import io.salun.model.NetworkSnapshot;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * The networks an executor keeps between the rounds of one training stage, so that a round does
 * not rebuild its network from JSON, re-derive the mask arrays and re-attach the listeners: after
 * the first round only the parameters, the updater state and the iteration counter travel
 * ({@link Start}), and are loaded into a kept network.
 *
 * <p>A kept network of a stage differs from a freshly built one only in those three, which every
 * round overwrites (the mask's anchor is the stage's start at every masked position, which rounds
 * never move). So a task gets the same bits whether it finds a network here or builds one: a
 * retried task, a task moved to another executor, or one that meets an executor that has evicted
 * the stage. A network is taken out while a task uses it (two concurrent tasks of a stage, a
 * speculative copy among them, each get their own) and put back when the task succeeds; a failed
 * task's network is dropped with it.
 *
 * <p>Networks are kept for the most recent stage only: putting one back for a new stage evicts
 * the others (stages of one job run one after the other), and the driver releases its own JVM's
 * networks when a stage ends (local mode runs the tasks there).
 */
final class StageNets {
    private static final Object LOCK = new Object();
    private static String stageKey;
    private static final Deque<Net> IDLE = new ArrayDeque<>();

    private StageNets() {
    }

    /**
     * What every round of a stage shares, broadcast once per stage: how to build its network, the
     * mask and the gradient term.
     *
     * @param key a key unique to this run of the stage (not part of any seed)
     */
    record Stage(String key, NetworkConfig config, int epoch, Bitset mask, GradientTerm term) implements Serializable {
        Optional<Bitset> maskIfAny() {
            return Optional.ofNullable(mask);
        }
    }

    /** What a round starts from: the averaged parameters and updater state, and the iteration counter. */
    record Start(float[] parameters, float[] updaterState, int iteration) implements Serializable {
    }

    /** A network of {@code stage} at {@code start}: a kept one loaded with it, or a new one. */
    static Net take(Stage stage, Start start) {
        Net kept;
        synchronized (LOCK) {
            kept = stage.key().equals(stageKey) ? IDLE.pollFirst() : null;
        }
        if (kept == null) {
            return LocalSteps.prepare(new NetworkSnapshot(stage.config(), start.parameters(), start.updaterState(),
                    start.iteration(), stage.epoch()), stage.maskIfAny(), stage.term());
        }
        load(kept, start, stage.epoch());
        return kept;
    }

    /** Keeps {@code net} for the next round of {@code stage}. */
    static void give(Stage stage, Net net) {
        synchronized (LOCK) {
            if (!stage.key().equals(stageKey)) {
                IDLE.clear();
                stageKey = stage.key();
            }
            IDLE.addFirst(net);
        }
    }

    /** Forgets the networks of the stage {@code key} in this JVM. */
    static void release(String key) {
        synchronized (LOCK) {
            if (key.equals(stageKey)) {
                IDLE.clear();
                stageKey = null;
            }
        }
    }

    /** Networks kept in this JVM (for tests). */
    static int kept() {
        synchronized (LOCK) {
            return IDLE.size();
        }
    }

    private static void load(Net net, Start start, int epoch) {
        INDArray params = net.params();
        if (params.length() != start.parameters().length) {
            throw new IllegalStateException("a kept network has " + params.length() + " parameters, the round "
                    + start.parameters().length);
        }
        params.assign(Nd4j.createFromArray(start.parameters()).reshape(params.shape()).castTo(params.dataType()));
        INDArray state = net.updaterState();
        int stateLength = state == null ? 0 : (int) state.length();
        if (stateLength != start.updaterState().length) {
            throw new IllegalStateException("a kept network has " + stateLength + " updater state values, the round "
                    + start.updaterState().length);
        }
        if (stateLength > 0) {
            state.assign(Nd4j.createFromArray(start.updaterState()).reshape(state.shape()).castTo(state.dataType()));
        }
        net.setCounters(start.iteration(), epoch);
    }
}
