package io.salun.unlearn;

import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.mask.FrozenParameters;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.train.Checkpoints;
import io.salun.train.DataOrder;
import io.salun.train.GradientTerm;
import io.salun.train.Labelling;
import io.salun.train.ParameterAveraging;
import io.salun.train.TrainingDivergedException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.util.List;
import java.util.Optional;

/**
 * Runs one unlearning method (or Retrain) through the parameter-averaging engine and times it.
 */
public final class Unlearning {
    private Unlearning() {
    }

    /** The original model and the cached sets every method draws from. */
    public record Inputs(NetworkSnapshot original, MultiLayerConfiguration originalConfiguration,
                         JavaRDD<Shard> all, JavaRDD<Shard> forget, JavaRDD<Shard> retain,
                         int classes, long seed, int treeDepth) {
    }

    /**
     * How a method trains.
     *
     * @param l1Alpha          α of l1-sparse (ignored by the other methods)
     * @param excludeTrueLabel random labels y' ≠ y (paper) rather than any of K (reference code)
     */
    public record Recipe(Optimizer optimizer, int epochs, int batchSize, int localSteps, DataOrder order,
                         boolean excludeTrueLabel, double l1Alpha) implements java.io.Serializable {
    }

    /** The unlearned (or retrained) model, the wall-clock seconds it took, and its loss per round. */
    public record Outcome(Method method, boolean masked, NetworkSnapshot model, double seconds,
                          List<ParameterAveraging.RoundLoss> losses) {
    }

    /**
     * The audit of a finished run, before anything is published: every parameter the mask froze is
     * bit-identical to the original (exact masking), and at least one parameter it left trainable
     * moved. A run that moved nothing would publish the original model under a new name.
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
                    + " the result would be the original model under a new name; nothing is published. Raise the"
                    + " learning rate (" + TrainingDivergedException.learningRateSetting(label) + ") or the epochs"
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
                    + before + "), so nothing was unlearned; nothing is published. Raise the learning rate ("
                    + TrainingDivergedException.learningRateSetting(label) + ") or the epochs");
        }
    }

    /**
     * Runs {@code method}; with a mask (required by SalUn) only its set bits move. Retrain starts
     * from the original configuration's own initialisation (same seed, so the same initial weights
     * as the original training) and never takes a mask.
     */
    public static Outcome run(JavaSparkContext sc, Method method, Optional<Bitset> mask, Recipe recipe, Inputs in) {
        return run(sc, method, mask, recipe, in, Optional.empty());
    }

    /** As {@link #run(JavaSparkContext, Method, Optional, Recipe, Inputs)}, checkpointing and resuming its rounds. */
    public static Outcome run(JavaSparkContext sc, Method method, Optional<Bitset> mask, Recipe recipe, Inputs in,
                              Optional<Checkpoints> checkpoints) {
        if (method.alwaysMasked() && mask.isEmpty()) {
            throw new IllegalArgumentException(method.id() + " needs a saliency mask");
        }
        if (method == Method.RETRAIN && mask.isPresent()) {
            throw new IllegalArgumentException("retrain takes no mask");
        }
        JavaRDD<Shard> data = switch (method.records()) {
            case ALL -> in.all();
            case RETAIN -> in.retain();
            case FORGET -> in.forget();
        };
        Labelling labelling = method.randomLabels()
                ? Labelling.randomForgetLabels(in.seed(), in.classes(), recipe.excludeTrueLabel())
                : Labelling.trueLabels();
        GradientTerm term = switch (method.term()) {
            case NONE -> new GradientTerm.None();
            case ASCENT -> new GradientTerm.Ascent();
            case L1 -> new GradientTerm.L1Decay(recipe.l1Alpha(),
                    (long) recipe.epochs() * ParameterAveraging.stepsPerEpoch(data, recipe.batchSize()));
        };
        MultiLayerConfiguration conf = recipe.optimizer().applyTo(in.originalConfiguration());
        NetworkSnapshot start;
        if (method == Method.RETRAIN) {
            MultiLayerNetwork fresh = new MultiLayerNetwork(conf);
            fresh.init();
            start = NetworkSnapshot.of(fresh);
        } else {
            start = NetworkSnapshot.fresh(conf, in.original().parameters());
        }
        String stage = method.id() + (mask.isPresent() && !method.alwaysMasked() ? "+mask" : "");
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan(stage, recipe.epochs(), recipe.batchSize(),
                recipe.localSteps(), in.classes(), in.seed(), recipe.order(), labelling, term, in.treeDepth());
        long began = System.nanoTime();
        ParameterAveraging.Result result = ParameterAveraging.train(sc, start, data, plan, mask, checkpoints);
        double seconds = (System.nanoTime() - began) / 1e9;
        return new Outcome(method, mask.isPresent(), result.network(), seconds, result.losses());
    }
}
