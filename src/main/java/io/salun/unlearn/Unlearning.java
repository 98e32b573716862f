package io.salun.unlearn;

import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.train.GradientTerm;
import io.salun.train.Labelling;
import io.salun.train.ParameterAveraging;
import io.salun.train.SignedLabels;
import io.salun.train.Distillation;
import io.salun.train.DataOrder;
import io.salun.train.Targets;
import io.salun.model.WeightedCrossEntropy;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import io.salun.saliency.FisherDiagonal;
import io.salun.saliency.FisherRatio;
import io.salun.train.ForgetSteps;
import io.salun.saliency.GradientSum;
import io.salun.saliency.SaliencyStage;
import io.salun.model.ParameterRoles;
import io.salun.model.NetworkConfig;

import java.util.Optional;

/**
 * The unlearning methods (and Retrain) as stages of the engine: which records, labels, gradient
 * term and starting weights each one trains with (SALUN-SPEC §3).
 */
public final class Unlearning {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Unlearning.class);

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
        if (!method.trains()) {
            throw new IllegalArgumentException(method.id() + " does not train: see Unlearning.dampen");
        }
        if (method == Method.SFRON) {
            throw new IllegalArgumentException("sfron trains under its own Fisher-ratio mask: see Unlearning.sfron");
        }
        JavaRDD<Shard> data = switch (method.records()) {
            case ALL -> in.all();
            case RETAIN -> in.retain();
            case FORGET -> in.forget();
        };
        Targets targets = switch (method.term()) {
            case SIGNED -> new SignedLabels(recipe.negGradBeta());
            case DISTILL -> teacher(recipe, in);
            default -> method.randomLabels() ? Labelling.randomForgetLabels(in.seed(), in.classes(),
                    recipe.excludeTrueLabel()) : Labelling.trueLabels();
        };
        int epochs = method == Method.SCRUB ? Math.min(recipe.epochs(), recipe.scrub().maxEpochs()) : recipe.epochs();
        // SCRUB and NegGrad+ define their own order: max-steps then min-steps, and both parts in every minibatch
        DataOrder order = switch (method) {
            case SCRUB -> DataOrder.SEQUENTIAL;
            case NEGGRAD_PLUS -> DataOrder.MIXED;
            default -> recipe.order();
        };
        GradientTerm term = switch (method.term()) {
            case NONE, SIGNED, DISTILL, FORGET_STEPS -> new GradientTerm.None();
            case ASCENT -> new GradientTerm.Ascent();
            case L1 -> new GradientTerm.L1Decay(recipe.l1Alpha(),
                    (long) recipe.epochs() * ParameterAveraging.stepsPerEpoch(data, recipe.batchSize()));
        };
        NetworkConfig conf = recipe.optimizer().applyTo(in.originalConfiguration());
        if (method.term().weightedRows()) {
            conf = WeightedCrossEntropy.onOutput(conf, method.id());
        }
        NetworkSnapshot start;
        if (method == Method.RETRAIN) {
            start = NetworkSnapshot.of(conf.init(0, 0));
        } else {
            start = NetworkSnapshot.fresh(conf, in.original().parameters());
        }
        String label = label(method, mask.isPresent());
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan(label, epochs, recipe.batchSize(),
                recipe.localSteps(), in.classes(), in.seed(), order, targets, term, in.treeDepth(),
                recipe.schedule());
        return new Stage(label, start, data, plan, mask, Optional.empty());
    }

    /**
     * SCRUB's second part, when its recipe has more epochs than max-step epochs: min-steps on Dr
     * alone for the remaining epochs, continuing {@code first}'s training from {@code after} (its
     * parameters, updater state and counters). Empty when every epoch had its max-step pass.
     */
    public static Optional<Stage> scrubMinSteps(Stage first, NetworkSnapshot after, Recipe recipe, Inputs in) {
        int rest = recipe.epochs() - first.plan().epochs();
        if (rest <= 0) {
            return Optional.empty();
        }
        ParameterAveraging.Plan p = first.plan();
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan(first.label() + "/min-steps", rest, p.batchSize(),
                p.localSteps(), p.classes(), p.seed(), DataOrder.MIXED, p.targets(), p.term(), p.treeDepth(), p.schedule());
        NetworkSnapshot start = new NetworkSnapshot(first.start().config(), after.parameters(), after.updaterState(),
                after.iteration(), after.epoch());
        return Optional.of(new Stage(first.label(), start, in.retain(), plan, first.mask(),
                first.checkpointScope().map(s -> s + "+min-steps").or(() -> Optional.of("min-steps"))));
    }

    /** SCRUB's targets: the original as the frozen teacher (without its updater state). */
    private static Distillation teacher(Recipe recipe, Inputs in) {
        NetworkSnapshot o = in.original();
        return new Distillation(new NetworkSnapshot(o.config(), o.parameters(), new float[0], o.iteration(), o.epoch()),
                recipe.scrub().alpha(), recipe.scrub().gamma());
    }

    /**
     * SFR-on's Fisher-ratio mask ({@link FisherRatio}) of the original model and what computing it
     * took (part of SFR-on's time).
     */
    public record SfrOnMask(Bitset mask, long salient, double seconds) {
    }

    /**
     * SFR-on's mask: the diagonal Fisher information of the forget set and of the retain set, each
     * one pass of per-example squared gradients ({@code treeReduce}d, the network in inference
     * form, as SSD's), compared entry by entry at {@code threshold}. It depends on neither the
     * learning rate nor the epochs, so a search computes it once.
     */
    public static SfrOnMask sfronMask(JavaSparkContext sc, Inputs in, double threshold) {
        long t0 = System.nanoTime();
        NetworkSnapshot inference = in.original().inferenceForm();
        boolean[] untrainable = ParameterRoles.untrainable(in.original());
        GradientSum forget = fisherSum(sc, inference, in.forget(), in);
        GradientSum retain = fisherSum(sc, inference, in.retain(), in);
        Bitset mask = FisherRatio.mask(SelectiveDampening.mean(forget.result(), forget.examples()),
                SelectiveDampening.mean(retain.result(), retain.examples()), untrainable, threshold);
        long fixed = 0;
        for (boolean u : untrainable) {
            fixed += u ? 1 : 0;
        }
        SfrOnMask m = new SfrOnMask(mask, mask.cardinality() - fixed, (System.nanoTime() - t0) / 1e9);
        LOG.info("sfron: Fisher-ratio mask (threshold {}): {} of {} trainable parameters salient, in {} s", threshold,
                m.salient(), mask.size() - fixed, String.format("%.1f", m.seconds()));
        return m;
    }

    /** The squared per-example gradients of {@code network} summed over {@code set} ({@link FisherDiagonal}). */
    private static GradientSum fisherSum(JavaSparkContext sc, NetworkSnapshot network, JavaRDD<Shard> set, Inputs in) {
        int classes = in.classes();
        SaliencyStage.Kernel fisher = (net, shard) -> FisherDiagonal.over(net, shard, classes);
        return SaliencyStage.gradientSum(sc, network, set, fisher, in.treeDepth());
    }

    /**
     * SFR-on as the engine runs it ({@link ForgetSteps}): from θo, epochs of minibatch steps over Dr
     * with the true labels, a forget step of adaptive, clipped gradient ascent under
     * {@code forgetMask} before every {@code forgetEvery}-th; every weight trains (the mask is on
     * the forget steps' gradient only), so the stage has no engine mask.
     */
    public static Stage sfron(SfrOnMask forgetMask, Recipe recipe, Inputs in) {
        Recipe.SfrOn k = recipe.sfron();
        int steps = ParameterAveraging.stepsPerEpoch(in.all(), recipe.batchSize(), DataOrder.RETAIN);
        ForgetSteps targets = new ForgetSteps(k.alpha(), k.forgetEvery(), steps, (long) Math.max(1, recipe.epochs()) * steps);
        NetworkConfig conf = WeightedCrossEntropy.onOutput(recipe.optimizer().applyTo(in.originalConfiguration()),
                Method.SFRON.id(), new WeightedCrossEntropy(k.lambda()));
        String label = label(Method.SFRON, false);
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan(label, recipe.epochs(), recipe.batchSize(),
                recipe.localSteps(), in.classes(), in.seed(), DataOrder.RETAIN, targets,
                new GradientTerm.AscentStepMask(forgetMask.mask(), k.maxNorm()), in.treeDepth(), recipe.schedule());
        return new Stage(label, NetworkSnapshot.fresh(conf, in.original().parameters()), in.all(), plan, Optional.empty(),
                Optional.empty());
    }

    /**
     * SSD's importances of the original model: the diagonal Fisher information of the forget set
     * and of the whole training set, each one pass of per-example squared gradients over its
     * partitions ({@code treeReduce}d like the saliency pass, the network in inference form), as
     * means. They do not depend on SSD's α or λ, so a search computes them once.
     */
    public static SelectiveDampening.Importances importances(JavaSparkContext sc, Inputs in) {
        long t0 = System.nanoTime();
        NetworkSnapshot inference = in.original().inferenceForm();
        GradientSum forget = fisherSum(sc, inference, in.forget(), in);
        GradientSum all = fisherSum(sc, inference, in.all(), in);
        SelectiveDampening.Importances imp = new SelectiveDampening.Importances(
                SelectiveDampening.mean(forget.result(), forget.examples()),
                SelectiveDampening.mean(all.result(), all.examples()), ParameterRoles.untrainable(in.original()),
                forget.examples(), all.examples(), (System.nanoTime() - t0) / 1e9);
        LOG.info("ssd: Fisher information over {} forget and {} training records in {} s", forget.examples(),
                all.examples(), String.format("%.1f", imp.seconds()));
        return imp;
    }

    /** SSD ({@link SelectiveDampening}) of the original model at {@code importances}, under {@code mask} if given. */
    public static NetworkSnapshot dampen(SelectiveDampening ssd, SelectiveDampening.Importances importances,
                                         Optional<Bitset> mask, Inputs in) {
        NetworkSnapshot original = in.original();
        double bound = (double) importances.allExamples() / importances.forgetExamples();
        if (ssd.alpha() >= bound) {
            // D holds Df, so I_D >= (|Df|/|D|)·I_f entry by entry: I_f > α·I_D cannot hold
            throw new NoEffectException(String.format(java.util.Locale.ROOT, "ssd: alpha %s selects nothing here: the"
                    + " training set's Fisher information includes the forget set's, so a parameter can matter at most"
                    + " |D|/|Df| = %d/%d = %.2f times more to the forget set; nothing is published. Choose alpha below"
                    + " %.2f (unlearn.ssd-alpha, or benchmark.ssd.alpha-grid in a benchmark)", ssd.alpha(),
                    importances.allExamples(), importances.forgetExamples(), bound, bound));
        }
        SelectiveDampening.Result r = ssd.dampen(original.parameters(), importances, mask);
        LOG.info("ssd: alpha {} lambda {}: dampened {} of {} parameters", ssd.alpha(), ssd.lambda(), r.selected(),
                original.size());
        return new NetworkSnapshot(original.config(), r.parameters(), new float[0], original.iteration(), original.epoch());
    }
}
