package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.eval.EvaluationStage;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.mask.Bitset;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.model.NetworkSnapshot;
import io.salun.report.OutputDir;
import io.salun.report.RunReport;
import io.salun.saliency.SaliencyStage;
import io.salun.unlearn.Method;
import io.salun.unlearn.Unlearning;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code unlearn}: saliency mask on the forget set, then the chosen method (SalUn by default) on
 * Spark, evaluation of the original and unlearned models; publishes {@code model.zip},
 * {@code mask.bin}, {@code report.json} and {@code report.html} in {@code output.dir}.
 */
public final class UnlearnCommand {
    private static final Logger LOG = LoggerFactory.getLogger(UnlearnCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private UnlearnCommand() {
    }

    /** Runs the command and returns the published output folder. */
    public static String run(JavaSparkContext sc, Settings settings) {
        Instant started = Instant.now();
        ForgetSpec spec = forgetSpec(settings);
        Method method = Method.parse(settings.get(JobSettings.UNLEARN_METHOD));
        boolean masked = method.alwaysMasked() || settings.get(JobSettings.UNLEARN_MASK);
        if (method == Method.RETRAIN && masked) {
            throw new InvalidInputException("unlearn.mask: retrain trains every weight from scratch; found unlearn.mask=true");
        }
        String label = method.id() + (masked && !method.alwaysMasked() ? "+mask" : "");
        String modelPath = ModelPaths.original(settings);
        String output = settings.get(JobSettings.OUTPUT_DIR).orElseGet(() -> "work/runs/" + spec.scenario() + "-" + label
                + "-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started));
        if (new Path(output).equals(new Path(modelPath))) {
            throw new InvalidInputException("output.dir: " + output + " is the original model's path (model.path);"
                    + " the original model is never overwritten");
        }
        int depth = settings.get(JobSettings.TREE_DEPTH);
        int evalBatch = settings.get(JobSettings.EVAL_BATCH);
        try (OutputDir out = OutputDir.open(output, settings.get(JobSettings.OUTPUT_OVERWRITE), sc.hadoopConfiguration())) {
            Datasets data = Datasets.load(sc, settings);
            MultiLayerNetwork original = TrainCommand.loadOrTrain(sc, settings, data);
            int classes = checkCompatible(original, data, modelPath);
            NetworkSnapshot theta0 = NetworkSnapshot.of(original);
            try (Scenario scenario = Scenario.prepare(sc, settings, data, spec)) {
                Optional<Bitset> mask = Optional.empty();
                double saliencySeconds = 0;
                if (masked) {
                    long t0 = System.nanoTime();
                    mask = Optional.of(saliencyMask(sc, settings, theta0, scenario, classes));
                    saliencySeconds = (System.nanoTime() - t0) / 1e9;
                    MaskFile.write(mask.get(), out.staged("mask.bin"), sc.hadoopConfiguration());
                }
                Unlearning.Inputs inputs = new Unlearning.Inputs(theta0, original.getLayerWiseConfigurations(),
                        scenario.all, scenario.forget, scenario.retain, classes, settings.get(JobSettings.SEED), depth);
                Unlearning.Outcome outcome = Unlearning.run(sc, method, mask, Recipes.forUnlearnCommand(settings, method), inputs);
                NetworkSnapshot unlearned = outcome.model();
                long moved = mask.map(m -> changedOutside(m, theta0.parameters(), unlearned.parameters())).orElse(0L);
                if (moved != 0) {
                    throw new IllegalStateException(moved + " masked-out parameters moved: exact masking failed");
                }

                LOG.info("evaluating the original and the unlearned model");
                Metrics before = EvaluationStage.evaluate(sc, theta0, scenario.sets(), evalBatch, classes, depth);
                Metrics after = EvaluationStage.evaluate(sc, unlearned, scenario.sets(), evalBatch, classes, depth);

                MultiLayerNetwork unlearnedNet = new MultiLayerNetwork(original.getLayerWiseConfigurations().clone());
                unlearnedNet.init(Nd4j.createFromArray(unlearned.parameters()).reshape(1, unlearned.size()), false);
                ModelStore.save(unlearnedNet, out.staged("model.zip"), false, sc.hadoopConfiguration());

                RunReport report = new RunReport(settings, spec, label, modelPath, scenario.split, scenario.testCount,
                        mask, theta0, before, after, saliencySeconds, outcome, started, sc);
                out.writeText("report.json", report.json());
                out.writeText("report.html", report.html());
                out.publish();
                printTable(spec, label, before, after, saliencySeconds, outcome.seconds(), out.published("report.json"));
                return out.uri();
            }
        }
    }

    static Bitset saliencyMask(JavaSparkContext sc, Settings settings, NetworkSnapshot theta0, Scenario scenario,
                               int classes) {
        long t0 = System.nanoTime();
        LOG.info("saliency: summing forget-set gradients over {} parameters", theta0.size());
        Bitset m = SaliencyStage.mask(sc, theta0, scenario.forget, settings.get(JobSettings.SALIENCY_BATCH), classes,
                settings.get(JobSettings.SALIENCY_RATIO), settings.get(JobSettings.TREE_DEPTH));
        LOG.info("saliency: mask keeps {} of {} parameters ({} s)", m.cardinality(), m.size(),
                String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        return m;
    }

    static ForgetSpec forgetSpec(Settings settings) {
        switch (settings.get(JobSettings.FORGET_SCENARIO)) {
            case "random":
                return new ForgetSpec.Random(settings.get(JobSettings.FORGET_FRACTION));
            case "class": {
                Set<Integer> labels = new TreeSet<>();
                for (String part : settings.get(JobSettings.FORGET_CLASSES).split(",")) {
                    try {
                        labels.add(Integer.parseInt(part.trim()));
                    } catch (NumberFormatException e) {
                        throw new InvalidInputException("forget.classes: expected comma-separated class labels, found '"
                                + settings.get(JobSettings.FORGET_CLASSES) + "'");
                    }
                }
                return new ForgetSpec.Classes(labels);
            }
            default:
                return deletionList(settings).orElseThrow(() -> new InvalidInputException(
                        "forget.ids: the ids scenario needs a deletion list of record IDs (forget.ids=PATH), found none"));
        }
    }

    /** The deletion list forget.ids names, with its format and ID column, if set. */
    static Optional<ForgetSpec.Ids> deletionList(Settings settings) {
        return settings.get(JobSettings.FORGET_IDS).map(uri -> new ForgetSpec.Ids(uri,
                settings.get(JobSettings.FORGET_IDS_FORMAT), settings.get(JobSettings.FORGET_IDS_COLUMN)));
    }

    /**
     * The model's number of classes, after checking that it reads images of the data's shape, that
     * its weights are finite and that every label of the data is one of its classes.
     */
    static int checkCompatible(MultiLayerNetwork net, Datasets data, String modelPath) {
        if (!(net.getOutputLayer().conf().getLayer() instanceof FeedForwardLayer out)) {
            throw new InvalidInputException("model.path: " + modelPath + " does not end in a classification output layer");
        }
        int features = data.featureLength();
        try {
            net.output(Nd4j.zeros(1, features), false);
        } catch (RuntimeException e) {
            throw new InvalidInputException("model.path: " + modelPath + " does not accept " + data.shape()
                    + " images (" + features + " features): " + e.getMessage(), e);
        }
        float[] params = net.params().toFloatVector();
        long nonFinite = 0;
        for (float p : params) {
            if (!Float.isFinite(p)) {
                nonFinite++;
            }
        }
        if (nonFinite > 0) {
            throw new InvalidInputException("model.path: " + modelPath + " has " + nonFinite + " NaN or infinite"
                    + " parameters of " + params.length + "; expected a trained model with finite weights");
        }
        int classes = (int) out.getNOut();
        data.checkLabels(classes, "the model's (" + modelPath + ")");
        return classes;
    }

    static long changedOutside(Bitset mask, float[] before, float[] after) {
        long changed = 0;
        for (int i = 0; i < before.length; i++) {
            if (!mask.get(i) && Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i])) {
                changed++;
            }
        }
        return changed;
    }

    private static void printTable(ForgetSpec spec, String method, Metrics before, Metrics after,
                                   double saliencySeconds, double unlearnSeconds, String reportPath) {
        CONSOLE.info("");
        CONSOLE.info(String.format("%-10s %8s %8s %8s %8s", spec.scenario(), "UA %", "RA %", "TA %", "MIA %"));
        CONSOLE.info(String.format("%-10s %8.2f %8.2f %8.2f %8.2f", "original", before.ua(), before.ra(), before.ta(), before.mia()));
        CONSOLE.info(String.format("%-10s %8.2f %8.2f %8.2f %8.2f", method, after.ua(), after.ra(), after.ta(), after.mia()));
        if (!Double.isNaN(after.forgottenClassTestAccuracy())) {
            CONSOLE.info(String.format("forgotten classes' test accuracy: %.2f%% -> %.2f%%",
                    before.forgottenClassTestAccuracy(), after.forgottenClassTestAccuracy()));
        }
        CONSOLE.info(String.format("saliency %.1f s, unlearning %.1f s", saliencySeconds, unlearnSeconds));
        CONSOLE.info("report: {}", reportPath);
    }
}
