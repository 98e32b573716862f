package io.salun.unlearn;

import io.salun.mask.Bitset;
import io.salun.mask.FrozenParameters;
import io.salun.mask.MaskFile;
import io.salun.model.NetworkSnapshot;
import io.salun.model.WeightedCrossEntropy;
import io.salun.spark.Devices;
import io.salun.train.Checkpoints;
import io.salun.train.ParameterAveraging;
import io.salun.train.TrainingDivergedException;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The one unlearning run every command goes through ({@code unlearn}, each scheduled slot, every
 * trial of {@code benchmark}, {@code unlearn-diffusion}): saliency mask → method on the engine →
 * audit of the frozen parameters → evaluation → an outcome with its timings, and the devices that
 * ran each stage. The task ({@link UnlearningTask}) says what the mask and the judgement are; the
 * run keeps the checkpoints (the mask, then each training's rounds) so a rerun after a crash
 * resumes to the same bits, and refuses to return a training that changed nothing.
 *
 * <p>A run may hold several trainings (a benchmark's Retrain and trials, a generation run's
 * methods): the mask is computed once and shared, and the original model is judged once.
 *
 * @param <M> the task's judgement
 */
public final class UnlearnRun<M> {
    private static final Logger LOG = LoggerFactory.getLogger(UnlearnRun.class);
    /** The mask's name among the kept checkpoint files. */
    static final String MASK = "mask.bin";

    private final JavaSparkContext sc;
    private final UnlearningTask<M> task;
    private final NetworkSnapshot original;
    private final Optional<Checkpoints> checkpoints;
    private final Map<String, Object> devices = new LinkedHashMap<>();
    private Optional<Bitset> mask = Optional.empty();
    private double saliencySeconds;
    private Optional<M> originalJudgement = Optional.empty();

    /**
     * A run of {@code task} on {@code original}, keeping checkpoints in {@code checkpoints} when
     * given (its fingerprint says which settings and inputs they belong to).
     */
    public UnlearnRun(JavaSparkContext sc, UnlearningTask<M> task, NetworkSnapshot original,
                      Optional<Checkpoints> checkpoints) {
        this.sc = sc;
        this.task = task;
        this.original = original;
        this.checkpoints = checkpoints;
        devices.put("driver", Devices.backend(Nd4j.getBackend().getClass().getSimpleName()));
    }

    public NetworkSnapshot original() {
        return original;
    }

    /**
     * The saliency mask of the original model: from the checkpoint when a crashed run left one,
     * else computed by the task (and kept), once per run.
     */
    public Bitset mask() {
        if (mask.isEmpty()) {
            long t0 = System.nanoTime();
            if (checkpoints.isPresent() && checkpoints.get().has(MASK)) {
                mask = Optional.of(MaskFile.read(checkpoints.get().file(MASK), sc.hadoopConfiguration()));
                LOG.info("saliency: resuming with the mask of the checkpoint ({} of {} parameters)",
                        mask.get().cardinality(), mask.get().size());
            } else {
                devices.put("saliency", Devices.probe(task.forgetSet()));
                Bitset computed = task.saliencyMask(sc, original);
                checkpoints.ifPresent(c -> c.keep(MASK, computed));
                mask = Optional.of(computed);
            }
            saliencySeconds = (System.nanoTime() - t0) / 1e9;
        }
        return mask.get();
    }

    /** Seconds the saliency pass took (0 before {@link #mask()}, or when it came from a checkpoint, its reading). */
    public double saliencySeconds() {
        return saliencySeconds;
    }

    /** The mask if one was made. */
    public Optional<Bitset> maskIfMade() {
        return mask;
    }

    /** The task's judgement of the original model, made once. */
    public M originalJudgement() {
        if (originalJudgement.isEmpty()) {
            devices.putIfAbsent("evaluation", Devices.probe(task.evaluationSet()));
            originalJudgement = Optional.of(task.evaluate(sc, original));
        }
        return originalJudgement.get();
    }

    /**
     * Trains {@code stage} on the engine (resuming from its checkpoint), audits the result
     * ({@link #audit}), judges it, and checks that the forget loss changed.
     *
     * @throws TrainingDivergedException if the training diverged
     * @throws NoEffectException         if it changed nothing
     */
    public TrialOutcome<M> train(Stage stage) {
        return train(stage, Optional.empty());
    }

    /**
     * As {@link #train(Stage)}, continuing from {@code prefix}: the outcome of {@code prefix}'s
     * stage, which this stage {@link Stage#continues continues} (a benchmark's point with more
     * epochs at the same learning rate). The result is the same bits as training from the start.
     *
     * @throws IllegalArgumentException if {@code stage} does not continue the prefix's stage
     */
    public TrialOutcome<M> train(Stage stage, Optional<Map.Entry<Stage, TrialOutcome<M>>> prefix) {
        if (prefix.isPresent() && !stage.continues(prefix.get().getKey())) {
            throw new IllegalArgumentException(stage.label() + ": the stage does not continue the one given as its prefix");
        }
        ParameterAveraging.Result result = run(stage, prefix.map(p -> new ParameterAveraging.Result(
                trainingForm(stage, p.getValue().model()), p.getValue().losses(), p.getValue().seconds())));
        return outcome(stage, result.network(), result.seconds(), result.losses());
    }

    /**
     * As {@link #train(Stage)} for a training in two parts (SCRUB: epochs with max-steps, then
     * min-steps alone): {@code then} gives the second part's stage from the first's result, or
     * nothing. Each part keeps its own checkpoints; the outcome's time and losses cover both.
     */
    public TrialOutcome<M> train(Stage first, java.util.function.Function<NetworkSnapshot, Optional<Stage>> then) {
        ParameterAveraging.Result a = run(first, Optional.empty());
        Optional<Stage> second = then.apply(a.network());
        if (second.isEmpty()) {
            return outcome(first, a.network(), a.seconds(), a.losses());
        }
        ParameterAveraging.Result b = run(second.get(), Optional.empty());
        java.util.List<ParameterAveraging.RoundLoss> losses = new java.util.ArrayList<>(a.losses());
        // the second part's epochs follow the first's in the history
        int offset = first.plan().epochs();
        b.losses().forEach(l -> losses.add(new ParameterAveraging.RoundLoss(l.epoch() + offset, l.round(), l.meanLoss(),
                l.examples())));
        return outcome(first, b.network(), a.seconds() + b.seconds(), losses);
    }

    private ParameterAveraging.Result run(Stage stage, Optional<ParameterAveraging.Result> prefix) {
        devices.putIfAbsent("unlearning", Devices.probe(stage.data()));
        Optional<Checkpoints> kept = checkpoints.map(c -> stage.checkpointScope().map(c::within).orElse(c));
        return ParameterAveraging.train(sc, stage.start(), stage.data(), stage.plan(), stage.mask(), kept, prefix);
    }

    private TrialOutcome<M> outcome(Stage stage, NetworkSnapshot network, double seconds,
                                    java.util.List<ParameterAveraging.RoundLoss> losses) {
        // a stage that trained with its own loss (NegGrad+, SCRUB) publishes the model with the original's
        NetworkSnapshot trained = WeightedCrossEntropy.restore(network, original.config());
        audit(stage.label(), stage.mask(), original, trained);
        M before = originalJudgement();
        M after = task.evaluate(sc, trained);
        requireForgetLossChanged(stage.label(), task.forgetLoss(before), task.forgetLoss(after));
        return new TrialOutcome<>(stage.label(), stage.mask().isPresent(), trained, seconds, losses, after);
    }

    /**
     * A model this stage trained in an earlier run (a benchmark's cached Retrain), judged and
     * checked as {@link #train} judges a fresh one, with the {@code seconds} and {@code losses} of
     * that training.
     *
     * @throws NoEffectException if it does not change the forget loss
     */
    public TrialOutcome<M> recorded(Stage stage, NetworkSnapshot trained, double seconds,
                                    java.util.List<ParameterAveraging.RoundLoss> losses) {
        audit(stage.label(), stage.mask(), original, trained);
        M after = task.evaluate(sc, trained);
        requireForgetLossChanged(stage.label(), task.forgetLoss(originalJudgement()), task.forgetLoss(after));
        return new TrialOutcome<>(stage.label(), stage.mask().isPresent(), trained, seconds, losses, after);
    }

    /**
     * A method that edits the original's weights without training (SSD): times {@code edit}, then
     * audits, judges and checks the result as {@link #train} does. Its outcome has no loss history.
     *
     * @param mask           the saliency mask the edit kept to, if any (for the audit)
     * @param earlierSeconds work done for this edit before (SSD's importances, computed once), counted in its time
     * @throws NoEffectException if the edit changed nothing
     */
    public TrialOutcome<M> apply(String label, Optional<Bitset> mask, double earlierSeconds,
                                 java.util.function.Function<JavaSparkContext, NetworkSnapshot> edit) {
        long t0 = System.nanoTime();
        NetworkSnapshot edited = edit.apply(sc);
        double seconds = earlierSeconds + (System.nanoTime() - t0) / 1e9;
        audit(label, mask, original, edited);
        M before = originalJudgement();
        M after = task.evaluate(sc, edited);
        requireForgetLossChanged(label, task.forgetLoss(before), task.forgetLoss(after));
        return new TrialOutcome<>(label, mask.isPresent(), edited, seconds, java.util.List.of(), after);
    }

    /** A published outcome's model as {@code stage} trains it: its parameters, state and counters under the stage's configuration. */
    private static NetworkSnapshot trainingForm(Stage stage, NetworkSnapshot published) {
        return new NetworkSnapshot(stage.start().config(), published.parameters(), published.updaterState(),
                published.iteration(), published.epoch());
    }

    /** Which ND4J backend and devices ran each stage so far (for {@code report.json}). */
    public Map<String, Object> devices() {
        return Collections.unmodifiableMap(devices);
    }

    /**
     * The audit of a finished training, before anything is published: every parameter the mask
     * froze is bit-identical to the original (exact masking), and at least one parameter it left
     * trainable moved. A training that moved nothing would publish the original model under a new
     * name.
     *
     * @param label the method as reported ({@code salun}, {@code ft+mask} …)
     * @throws IllegalStateException if a frozen parameter moved (a bug, never bad input)
     * @throws NoEffectException     if no trainable parameter moved
     */
    public static void audit(String label, Optional<Bitset> mask, NetworkSnapshot original, NetworkSnapshot unlearned) {
        float[] before = original.parameters();
        float[] after = unlearned.parameters();
        long frozenMoved = mask.map(m -> FrozenParameters.movedOutside(m, before, after)).orElse(0L);
        if (frozenMoved != 0) {
            throw new IllegalStateException(label + ": " + frozenMoved + " masked-out parameters moved: exact masking failed");
        }
        long trainable = mask.map(Bitset::cardinality).orElse(before.length);
        if (FrozenParameters.movedInside(mask, before, after) == 0) {
            throw new NoEffectException(label + ": none of the " + trainable + " parameters it could train moved, so"
                    + " the result would be the original model under a new name; nothing is published. " + remedy(label)
                    + (mask.isPresent() ? ", or the mask's saliency.ratio" : ""));
        }
    }

    /**
     * The second post-condition: the forget set's loss changed (measured on the same records,
     * before and after). Equal losses mean the moved parameters did not reach the forget set.
     *
     * @throws NoEffectException if the forget loss is bit-identical before and after
     */
    public static void requireForgetLossChanged(String label, double before, double after) {
        if (Double.isFinite(before) && Double.doubleToLongBits(before) == Double.doubleToLongBits(after)) {
            throw new NoEffectException(label + ": parameters moved but the forget set's loss did not change ("
                    + before + "), so nothing was unlearned; nothing is published. " + remedy(label));
        }
    }

    /** What to change when {@code label}'s run had no effect. */
    private static String remedy(String label) {
        if (label.startsWith(Method.SSD.id())) {
            return "Lower the selection weighting (unlearn.ssd-alpha, or benchmark.ssd.alpha-grid in a benchmark): no"
                    + " parameter mattered that much more to the forget set than to the training set";
        }
        return "Raise the learning rate (" + TrainingDivergedException.learningRateSetting(label) + ") or the epochs";
    }
}
