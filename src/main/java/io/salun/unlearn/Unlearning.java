package io.salun.unlearn;

import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.train.GradientTerm;
import io.salun.train.Labelling;
import io.salun.train.ParameterAveraging;
import io.salun.train.SignedLabels;
import io.salun.train.Targets;
import io.salun.model.WeightedCrossEntropy;
import org.apache.spark.api.java.JavaRDD;
import io.salun.model.NetworkConfig;

import java.util.Optional;

/**
 * The unlearning methods (and Retrain) as stages of the engine: which records, labels, gradient
 * term and starting weights each one trains with (SALUN-SPEC §3).
 */
public final class Unlearning {
    private Unlearning() {
    }

    /** The original model and the cached sets every method draws from. */
    public record Inputs(NetworkSnapshot original, NetworkConfig originalConfiguration,
                         JavaRDD<Shard> all, JavaRDD<Shard> forget, JavaRDD<Shard> retain,
                         int classes, long seed, int treeDepth) {
    }



    /** The label reports give {@code method} run with or without the mask: {@code ga+mask}, {@code salun}. */
    public static String label(Method method, boolean masked) {
        return method.id() + (masked && !method.alwaysMasked() ? "+mask" : "");
    }

    /**
     * {@code method} as the engine runs it; with a mask (required by SalUn) only its set bits
     * move. Retrain starts from the original configuration's own initialisation (same seed, so the
     * same initial weights as the original training) and never takes a mask.
     */
    public static Stage stage(Method method, Optional<Bitset> mask, Recipe recipe, Inputs in) {
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
        Targets targets = method.term() == Method.Term.SIGNED ? new SignedLabels(recipe.negGradBeta())
                : method.randomLabels() ? Labelling.randomForgetLabels(in.seed(), in.classes(), recipe.excludeTrueLabel())
                : Labelling.trueLabels();
        GradientTerm term = switch (method.term()) {
            case NONE, SIGNED -> new GradientTerm.None();
            case ASCENT -> new GradientTerm.Ascent();
            case L1 -> new GradientTerm.L1Decay(recipe.l1Alpha(),
                    (long) recipe.epochs() * ParameterAveraging.stepsPerEpoch(data, recipe.batchSize()));
        };
        NetworkConfig conf = recipe.optimizer().applyTo(in.originalConfiguration());
        if (method.term() == Method.Term.SIGNED) {
            conf = WeightedCrossEntropy.onOutput(conf, method.id());
        }
        NetworkSnapshot start;
        if (method == Method.RETRAIN) {
            start = NetworkSnapshot.of(conf.init(0, 0));
        } else {
            start = NetworkSnapshot.fresh(conf, in.original().parameters());
        }
        String label = label(method, mask.isPresent());
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan(label, recipe.epochs(), recipe.batchSize(),
                recipe.localSteps(), in.classes(), in.seed(), recipe.order(), targets, term, in.treeDepth(),
                recipe.schedule());
        return new Stage(label, start, data, plan, mask, Optional.empty());
    }
}
