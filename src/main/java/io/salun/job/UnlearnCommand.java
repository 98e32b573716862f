package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Setting;
import io.salun.report.FileDigests;
import io.salun.report.Manifest;
import io.salun.spark.Devices;
import io.salun.train.Checkpoints;
import org.apache.hadoop.conf.Configuration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        if (settings.get(JobSettings.SCHEDULE_DIR).isPresent()) {
            return Schedule.run(sc, settings);
        }
        return run(sc, settings, forgetSpec(settings));
    }

    /** Runs the command with forget set {@code spec} (a scheduled run's window of the deletion log). */
    static String run(JavaSparkContext sc, Settings settings, ForgetSpec spec) {
        Instant started = Instant.now();
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
        try (OutputDir out = openOutput(sc, settings, output, "unlearn")) {
            Datasets data = Datasets.load(sc, settings);
            MultiLayerNetwork original = TrainCommand.loadOrTrain(sc, settings, data);
            int classes = checkCompatible(original, data, modelPath);
            NetworkSnapshot theta0 = NetworkSnapshot.of(original);
            if (masked) {
                requireMaskKeepsSome(settings.get(JobSettings.SALIENCY_RATIO), theta0.size(), "saliency.ratio");
            }
            Manifest manifest = inputs(sc, settings, spec, modelPath);
            Optional<Checkpoints> checkpoints = checkpoints(sc, settings, output, manifest);
            try (Scenario scenario = Scenario.prepare(sc, settings, data, spec)) {
                Map<String, Object> devices = new LinkedHashMap<>();
                devices.put("driver", Devices.backend(Nd4j.getBackend().getClass().getSimpleName()));
                Optional<Bitset> mask = Optional.empty();
                double saliencySeconds = 0;
                if (masked) {
                    long t0 = System.nanoTime();
                    if (checkpoints.isPresent() && checkpoints.get().has("mask.bin")) {
                        mask = Optional.of(MaskFile.read(checkpoints.get().file("mask.bin"), sc.hadoopConfiguration()));
                        LOG.info("saliency: resuming with the mask of the checkpoint ({} of {} parameters)",
                                mask.get().cardinality(), mask.get().size());
                    } else {
                        devices.put("saliency", Devices.probe(scenario.forget));
                        Bitset computed = saliencyMask(sc, settings, theta0, scenario, classes);
                        mask = Optional.of(computed);
                        checkpoints.ifPresent(c -> c.keep("mask.bin", computed));
                    }
                    saliencySeconds = (System.nanoTime() - t0) / 1e9;
                    Bitset m = mask.get();
                    out.write("mask.bin", o -> o.write(MaskFile.encode(m)));
                }
                Unlearning.Inputs inputs = new Unlearning.Inputs(theta0, original.getLayerWiseConfigurations(),
                        scenario.all, scenario.forget, scenario.retain, classes, settings.get(JobSettings.SEED), depth);
                devices.put("unlearning", Devices.probe(scenario.all));
                Unlearning.Outcome outcome = Unlearning.run(sc, method, mask, Recipes.forUnlearnCommand(settings, method),
                        inputs, checkpoints);
                NetworkSnapshot unlearned = outcome.model();
                Unlearning.audit(label, mask, theta0, unlearned);

                LOG.info("evaluating the original and the unlearned model");
                devices.put("evaluation", Devices.probe(scenario.test));
                Metrics before = EvaluationStage.evaluate(sc, theta0, scenario.sets(), evalBatch, classes, depth);
                Metrics after = EvaluationStage.evaluate(sc, unlearned, scenario.sets(), evalBatch, classes, depth);
                Unlearning.requireForgetLossChanged(label, before.forgetLoss(), after.forgetLoss());

                MultiLayerNetwork unlearnedNet = new MultiLayerNetwork(original.getLayerWiseConfigurations().clone());
                unlearnedNet.init(Nd4j.createFromArray(unlearned.parameters()).reshape(1, unlearned.size()), false);
                out.write("model.zip", o -> ModelStore.write(unlearnedNet, false, o));

                RunReport report = new RunReport(settings, spec, label, modelPath, scenario.split, scenario.testCount,
                        mask, theta0, before, after, saliencySeconds, outcome, started, sc).withDevices(devices);
                out.writeText("report.json", report.json());
                out.writeText("report.html", report.html());
                report.fillManifest(manifest);
                out.writeManifest(manifest);
                out.publish();
                checkpoints.ifPresent(Checkpoints::clear);
                printTable(spec, label, before, after, saliencySeconds, outcome.seconds(), out.published("report.json"));
                return out.uri();
            } catch (Exception e) {
                // a refusal or a divergence ends the same way when rerun: keep nothing it made;
                // any other failure (a crash, a full disk) keeps the checkpoints a resume needs
                if (endsTheSameWhenRerun(e)) {
                    checkpoints.ifPresent(Checkpoints::discardIfCreated);
                }
                throw e;
            }
        }
    }

    /** Whether {@code e} (or what it wraps, from a Spark task) is a refusal, a divergence or a run without effect. */
    static boolean endsTheSameWhenRerun(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidInputException || t instanceof io.salun.train.TrainingDivergedException
                    || t instanceof io.salun.unlearn.NoEffectException) {
                return true;
            }
        }
        return false;
    }

    /** Opens {@code output} for {@code command}, holding its lease under this Spark application's name. */
    static OutputDir openOutput(JavaSparkContext sc, Settings settings, String output, String command) {
        return OutputDir.open(output, settings.get(JobSettings.OUTPUT_OVERWRITE),
                command + " of Spark application " + sc.sc().applicationId(),
                java.time.Duration.ofSeconds(settings.get(JobSettings.OUTPUT_LEASE_TIMEOUT)), sc.hadoopConfiguration());
    }

    /**
     * Refuses a saliency ratio that keeps no parameter of a model of {@code parameters}: the mask
     * would freeze every weight and the run would publish the original unchanged.
     */
    static void requireMaskKeepsSome(double ratio, int parameters, String setting) {
        if (io.salun.mask.SaliencyMask.kept(parameters, ratio) == 0) {
            throw new InvalidInputException("setting '" + setting + "': " + ratio + " keeps floor(" + parameters + " x "
                    + ratio + ") = 0 of the model's " + parameters + " parameters, so nothing would be unlearned;"
                    + " expected at least 1/" + parameters + " = " + String.format(java.util.Locale.ROOT, "%.3g",
                    1.0 / parameters) + " (one parameter)");
        }
    }

    /**
     * The manifest's inputs: SHA-256 of the original model, the data and the deletion list (its
     * hash and size, never its IDs), hashed before any training so the record says what was read.
     */
    static Manifest inputs(JavaSparkContext sc, Settings settings, ForgetSpec spec, String modelPath) {
        Configuration conf = sc.hadoopConfiguration();
        long t0 = System.nanoTime();
        Manifest manifest = new Manifest("unlearn");
        manifest.input("originalModel", modelPath, FileDigests.of(modelPath, conf, null), Map.of());
        if (settings.get(JobSettings.DATA_FORMAT).equals("parquet")) {
            for (Setting<Optional<String>> table : List.of(JobSettings.DATA_TRAIN, JobSettings.DATA_TEST)) {
                String uri = settings.get(table).orElseThrow();
                manifest.input(table.key(), uri, FileDigests.of(uri, conf, sc), Map.of());
            }
        } else {
            String dir = settings.get(JobSettings.DATA_DIR);
            Map<String, String> parts = new LinkedHashMap<>();
            for (String name : List.of(Datasets.TRAIN_IMAGES, Datasets.TRAIN_LABELS, Datasets.TEST_IMAGES, Datasets.TEST_LABELS)) {
                parts.put(name, new Path(dir, name).toString());
            }
            manifest.input("data.dir", dir, digestOfFiles(parts, conf), Map.of("parts", parts));
        }
        if (spec instanceof ForgetSpec.Ids ids) {
            if (!ModelStore.exists(ids.uri(), conf)) {
                throw new InvalidInputException("forget.ids: no deletion list at " + ids.uri());
            }
            manifest.input("forget.ids", ids.uri(), FileDigests.of(ids.uri(), conf, sc), Map.of());
        }
        LOG.info("manifest: hashed the inputs in {} s", String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        return manifest;
    }

    /** One digest over named files: SHA-256 of the lines {@code name size sha256} in the given order. */
    static FileDigests.Digest digestOfFiles(Map<String, String> parts, Configuration conf) {
        StringBuilder lines = new StringBuilder();
        long bytes = 0;
        for (Map.Entry<String, String> p : parts.entrySet()) {
            FileDigests.Digest d = FileDigests.of(p.getValue(), conf, null);
            lines.append(p.getKey()).append(' ').append(d.bytes()).append(' ').append(d.sha256()).append('\n');
            bytes += d.bytes();
        }
        return new FileDigests.Digest(Settings.sha256Hex(lines.toString()), parts.size(), bytes);
    }

    /**
     * The run's checkpoint folder, stamped with a fingerprint of its settings and inputs, or none
     * when checkpoint.rounds is 0.
     */
    private static Optional<Checkpoints> checkpoints(JavaSparkContext sc, Settings settings, String output,
                                                     Manifest manifest) {
        int every = settings.get(JobSettings.CHECKPOINT_ROUNDS);
        if (every == 0) {
            return Optional.empty();
        }
        Path out = new Path(output);
        String dir = settings.get(JobSettings.CHECKPOINT_DIR)
                .orElseGet(() -> new Path(out.getParent(), "." + out.getName() + ".checkpoint").toString());
        String fingerprint = Settings.sha256Hex(settings.sha256() + "\n" + manifest.inputsFingerprint());
        return Optional.of(Checkpoints.open(dir, fingerprint, every, sc.hadoopConfiguration()));
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
                settings.get(JobSettings.FORGET_IDS_FORMAT), settings.get(JobSettings.FORGET_IDS_COLUMN),
                settings.get(JobSettings.FORGET_IDS_TIME), java.util.OptionalLong.empty(), java.util.OptionalLong.empty()));
    }

    /**
     * The model's number of classes, after checking that it reads images of the data's shape, that
     * its weights are finite and that every label of the data is one of its classes.
     */
    static int checkCompatible(MultiLayerNetwork net, Datasets data, String modelPath) {
        return checkCompatible(net, data, modelPath, "model.path");
    }

    /** As {@link #checkCompatible(MultiLayerNetwork, Datasets, String)}, naming {@code setting} in errors. */
    static int checkCompatible(MultiLayerNetwork net, Datasets data, String modelPath, String setting) {
        if (!(net.getOutputLayer().conf().getLayer() instanceof FeedForwardLayer out)) {
            throw new InvalidInputException(setting + ": " + modelPath + " does not end in a classification output layer");
        }
        int features = data.featureLength();
        try {
            net.output(Nd4j.zeros(1, features), false);
        } catch (RuntimeException e) {
            throw new InvalidInputException(setting + ": " + modelPath + " does not accept " + data.shape()
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
            throw new InvalidInputException(setting + ": " + modelPath + " has " + nonFinite + " NaN or infinite"
                    + " parameters of " + params.length + "; expected a trained model with finite weights");
        }
        int classes = (int) out.getNOut();
        data.checkLabels(classes, "the model's (" + modelPath + ")");
        return classes;
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
