package io.salun.diffusion;

import io.salun.config.InvalidInputException;
import io.salun.data.Datasets;
import io.salun.data.Example;
import io.salun.data.SelectionStage;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.report.Html;
import io.salun.train.DataOrder;
import io.salun.train.GradientTerm;
import io.salun.train.ParameterAveraging;
import io.salun.unlearn.Stage;
import io.salun.unlearn.UnlearningTask;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Unlearning a class-conditional diffusion model (SALUN-SPEC §5) as a task of the one unlearning
 * run: the mask keeps the top {@code ratio} of the guided diffusion loss's summed gradient over the
 * forgotten class's images, a model is judged by generating every class's images and having the
 * classifier label them (generation UA, the other classes' accuracy, FID), and the stages fine-tune
 * towards the next class's prediction plus β × the ordinary loss on retain images (Adam, clipped).
 */
public final class GenerationTask implements UnlearningTask<GenerationTask.Generated>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationTask.class);

    /** A model's generations and their scores. */
    public record Generated(GenerationEval.Scores scores, float[][][] images) {
    }

    /**
     * How SalUn-gen and its unmasked variant fine-tune.
     *
     * @param pUncond probability of the null condition for retain images (as in training)
     * @param beta    weight of the retain images' ordinary diffusion loss
     * @param clip    bound on the L2 norm of each step's mean gradient
     */
    public record Recipe(double lr, int epochs, int batch, int localSteps, double pUncond, double beta, double clip) {
    }

    /**
     * The images a judgement makes and the saliency pass's settings.
     *
     * @param realRemaining classifier features of real test images of the classes kept
     */
    public record Spec(int forgetClass, int classes, int features, Generation.Spec sampling, int partitions,
                       int saliencyBatch, double saliencyRatio, double guidance, long seed, int evalBatch,
                       int treeDepth) {
    }

    private final JavaRDD<Shard> forget;
    private final JavaRDD<Shard> unlearnSet;
    private final long forgetImages;
    private final MultiLayerNetwork classifier;
    private final double[][] realRemaining;
    private final Spec spec;
    private final int[] allClasses;

    private GenerationTask(JavaRDD<Shard> forget, JavaRDD<Shard> unlearnSet, long forgetImages, MultiLayerNetwork classifier,
                           double[][] realRemaining, Spec spec) {
        this.forget = forget;
        this.unlearnSet = unlearnSet;
        this.forgetImages = forgetImages;
        this.classifier = classifier;
        this.realRemaining = realRemaining;
        this.spec = spec;
        this.allClasses = new int[spec.classes()];
        for (int c = 0; c < spec.classes(); c++) {
            allClasses[c] = c;
        }
    }

    /**
     * The task on {@code data}: the forgotten class's training images (Df), those with an
     * equal-sized seeded sample of the others (what fine-tuning reads), cached; and the
     * classifier's features of the other classes' real test images (FID's reference).
     *
     * @throws InvalidInputException if no training image has the forgotten class
     */
    public static GenerationTask prepare(Datasets data, MultiLayerNetwork classifier, Spec spec) {
        int forgetClass = spec.forgetClass();
        JavaRDD<Example> flagged = data.training().map(e -> e.withForget(e.label() == forgetClass));
        JavaRDD<Example> forgetRecords = flagged.filter(Example::forget);
        long forgetCount = forgetRecords.count();
        if (forgetCount == 0) {
            throw new InvalidInputException("diffusion.forget-class: no training record of " + data.source()
                    + " has label " + forgetClass + "; nothing to forget");
        }
        JavaRDD<Example> retainSample = SelectionStage.take(flagged.filter(e -> !e.forget()), spec.seed(), "diffusion-retain",
                forgetCount);
        JavaRDD<Shard> forget = Shards.cache(forgetRecords, "Df shards");
        JavaRDD<Shard> unlearnSet = Shards.cache(forgetRecords.union(retainSample)
                .repartition(Math.max(1, data.partitions())), "Df+Dr shards");
        double[][] realRemaining = GenerationEval.features(classifier, data.test()
                .filter(e -> e.label() != forgetClass).map(Example::features).collect().toArray(new float[0][]),
                spec.evalBatch());
        return new GenerationTask(forget, unlearnSet, forgetCount, classifier, realRemaining, spec);
    }

    /** How many training images the forgotten class has. */
    public long forgetImages() {
        return forgetImages;
    }

    @Override
    public void close() {
        forget.unpersist();
        unlearnSet.unpersist();
    }

    @Override
    public JavaRDD<Shard> forgetSet() {
        return forget;
    }

    @Override
    public JavaRDD<Shard> evaluationSet() {
        return unlearnSet;
    }

    @Override
    public Bitset saliencyMask(JavaSparkContext sc, NetworkSnapshot original) {
        long t0 = System.nanoTime();
        LOG.info("saliency: summing the guided diffusion loss's gradient over the images of class {} ({} parameters)",
                spec.forgetClass(), original.size());
        Bitset mask = GuidedSaliency.mask(sc, original, forget, spec.saliencyBatch(), spec.classes(), spec.guidance(),
                spec.saliencyRatio(), spec.seed(), spec.treeDepth());
        LOG.info("saliency: mask keeps {} of {} parameters ({} s)", mask.cardinality(), mask.size(),
                String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        return mask;
    }

    @Override
    public Generated evaluate(JavaSparkContext sc, NetworkSnapshot model) {
        LOG.info("generating {} images per class", spec.sampling().perClass());
        float[][][] images = Generation.generate(sc, model, allClasses, spec.classes(), spec.features(), spec.sampling(),
                spec.partitions());
        GenerationEval.Scores scores = GenerationEval.score(classifier, allClasses, images, spec.forgetClass(),
                realRemaining, spec.evalBatch());
        LOG.info("generation UA {}, remaining classes' accuracy {}, FID {}", Html.num(scores.unlearningAccuracy()),
                Html.num(scores.remainingAccuracy()), Html.num(scores.fid()));
        return new Generated(scores, images);
    }

    /** Generation measures no forget loss: the post-condition is that trainable parameters moved. */
    @Override
    public double forgetLoss(Generated judgement) {
        return Double.NaN;
    }

    /**
     * The fine-tuning of {@code method} ({@code salun} under {@code mask}, {@code rl} without), from
     * the original {@code theta0} of configuration {@code configuration}, its checkpoints kept
     * under the method's name.
     */
    public Stage stage(String method, Optional<Bitset> mask, NetworkSnapshot theta0, Recipe recipe) {
        Optimizer adam = new Optimizer("adam", recipe.lr(), 0, 0, 0);
        NetworkSnapshot start = NetworkSnapshot.fresh(adam.applyTo(theta0.config()), theta0.parameters());
        String label = method + "-gen";
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan(label, recipe.epochs(), recipe.batch(),
                recipe.localSteps(), spec.classes(), spec.seed(), DataOrder.MIXED,
                new DiffusionTargets.Forgetting(spec.seed(), NoiseSchedule.DDPM, recipe.pUncond(), recipe.beta()),
                new GradientTerm.ClipNorm(recipe.clip()), spec.treeDepth());
        return new Stage(label, start, unlearnSet, plan, mask, Optional.of(label));
    }
}
