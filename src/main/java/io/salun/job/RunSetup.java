package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Setting;
import io.salun.config.Settings;
import io.salun.data.Datasets;
import io.salun.data.ImageShape;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetScenario;
import io.salun.forget.ForgetSpec;
import io.salun.mask.SaliencyMask;
import io.salun.model.NetworkSnapshot;
import io.salun.unlearn.ClassificationTask;
import io.salun.unlearn.UnlearnRun;
import io.salun.unlearn.Unlearning;
import io.salun.model.Compatibility;
import io.salun.model.ModelStore;
import io.salun.report.FileDigests;
import io.salun.report.Manifest;
import io.salun.report.OutputDir;
import io.salun.train.Checkpoints;
import io.salun.train.TrainingDivergedException;
import io.salun.unlearn.NoEffectException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import io.salun.model.Net;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * What every command builds from the settings before it runs: the data's location, the forget
 * set's description, the output folder and its lease, the checkpoint folder, the manifest's
 * inputs, the original model checked against the data. The typed values go to the stages; no
 * stage reads the settings.
 */
final class RunSetup {
    private static final Logger LOG = LoggerFactory.getLogger(RunSetup.class);

    private RunSetup() {
    }

    /** Where the data is ({@code data.*}). */
    static Datasets.Spec data(Settings settings) {
        return new Datasets.Spec(settings.get(JobSettings.DATA_FORMAT).equals("parquet"), settings.get(JobSettings.DATA_DIR),
                settings.get(JobSettings.DATA_TRAIN), settings.get(JobSettings.DATA_TEST),
                new ImageShape(settings.get(JobSettings.DATA_HEIGHT), settings.get(JobSettings.DATA_WIDTH),
                        settings.get(JobSettings.DATA_CHANNELS), settings.get(JobSettings.DATA_LAYOUT).equals("hwc")),
                settings.get(JobSettings.DATA_SUBSET), settings.get(JobSettings.SEED), settings.get(JobSettings.PARTITIONS));
    }

    static Datasets load(JavaSparkContext sc, Settings settings) {
        return Datasets.load(sc, data(settings));
    }

    /** The default output folder of a command: {@code work/<kind>/<name>-<UTC time>}. */
    static String defaultOutput(String kind, String name, Instant started) {
        return "work/" + kind + "/" + name + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started);
    }

    /** Opens {@code output} for {@code command}, holding its lease under this Spark application's name. */
    static OutputDir openOutput(JavaSparkContext sc, Settings settings, String output, String command) {
        return OutputDir.open(output, settings.get(JobSettings.OUTPUT_OVERWRITE),
                command + " of Spark application " + sc.sc().applicationId(),
                java.time.Duration.ofSeconds(settings.get(JobSettings.OUTPUT_LEASE_TIMEOUT)), sc.hadoopConfiguration());
    }

    /**
     * The number of classes of the original {@code net}, after checking that it reads the data's
     * images, has finite weights, and knows every label of the data.
     */
    static int classes(Net net, Datasets data, String modelPath, String setting) {
        int classes = Compatibility.classes(net, data.featureLength(), data.shape(), modelPath, setting);
        data.checkLabels(classes, "the model's (" + modelPath + ")");
        return classes;
    }

    /**
     * The manifest's inputs: SHA-256 of the original model, the data and the deletion list (its
     * hash and size, never its IDs), hashed before any training so the record says what was read.
     */
    static Manifest inputs(JavaSparkContext sc, Settings settings, String command, Map<String, String> models,
                           Optional<ForgetSpec> spec) {
        Configuration conf = sc.hadoopConfiguration();
        long t0 = System.nanoTime();
        Manifest manifest = new Manifest(command);
        models.forEach((name, uri) -> manifest.input(name, uri, FileDigests.of(uri, conf, null), Map.of()));
        if (settings.get(JobSettings.DATA_FORMAT).equals("parquet")) {
            for (Setting<Optional<String>> table : List.of(JobSettings.DATA_TRAIN, JobSettings.DATA_TEST)) {
                String uri = settings.get(table).orElseThrow();
                manifest.input(table.key(), uri, FileDigests.of(uri, conf, sc), Map.of());
            }
        } else {
            String dir = settings.get(JobSettings.DATA_DIR);
            Map<String, String> parts = new LinkedHashMap<>();
            for (String name : List.of(Datasets.TRAIN_IMAGES, Datasets.TRAIN_LABELS, Datasets.TEST_IMAGES,
                    Datasets.TEST_LABELS)) {
                parts.put(name, new Path(dir, name).toString());
            }
            manifest.input("data.dir", dir, FileDigests.ofParts(parts, conf), Map.of("parts", parts));
        }
        if (spec.isPresent() && spec.get() instanceof ForgetSpec.Ids ids) {
            if (!ModelStore.exists(ids.uri(), conf)) {
                throw new InvalidInputException("forget.ids: no deletion list at " + ids.uri());
            }
            manifest.input("forget.ids", ids.uri(), FileDigests.of(ids.uri(), conf, sc), Map.of());
        }
        LOG.info("manifest: hashed the inputs in {} s", String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        return manifest;
    }

    /**
     * The checkpoint folder of the run publishing to {@code output}, stamped with a fingerprint of
     * its settings and inputs, or none when checkpoint.rounds is 0.
     */
    static Optional<Checkpoints> checkpoints(JavaSparkContext sc, Settings settings, String output, Manifest manifest) {
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

    /**
     * Runs {@code body}; when it is refused, diverges or has no effect (a rerun would end the same
     * way) the checkpoint folder it created is removed. Any other failure (a crash, a full disk)
     * keeps the checkpoints a resume needs.
     */
    static <T> T keepingCheckpointsOnlyForResume(Optional<Checkpoints> checkpoints, java.util.function.Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            if (endsTheSameWhenRerun(e)) {
                checkpoints.ifPresent(Checkpoints::discardIfCreated);
            }
            throw e;
        }
    }

    /** Whether {@code e} (or what it wraps, from a Spark task) is a refusal, a divergence or a run without effect. */
    static boolean endsTheSameWhenRerun(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidInputException || t instanceof TrainingDivergedException || t instanceof NoEffectException) {
                return true;
            }
        }
        return false;
    }

    /** A classification run ready to train: everything the unlearn and benchmark commands share. */
    record Classification(Net original, NetworkSnapshot theta0, String modelPath, Manifest manifest,
                          Optional<Checkpoints> checkpoints, ForgetScenario scenario, ClassificationTask task,
                          UnlearnRun<Metrics> run, Unlearning.Inputs inputs, List<Integer> inputShape) {
    }

    /**
     * Loads the data and the original model (checked against the data and, when {@code masked},
     * against {@code saliency.ratio}), hashes the inputs into the manifest of {@code command},
     * opens the checkpoints of {@code output}, prepares the forget scenario of {@code spec} and the
     * unlearning run, and runs {@code body} with them. A refusal, divergence or run without effect
     * removes the checkpoints it created; the scenario's caches are released at the end.
     */
    static <T> T classification(JavaSparkContext sc, Settings settings, String command, String output, ForgetSpec spec,
                                boolean masked, java.util.function.Function<Classification, T> body) {
        return classifications(sc, settings, command, output, spec, masked, List.of(settings.get(JobSettings.SEED)),
                runs -> body.apply(runs.get(0)));
    }

    /**
     * As {@link #classification}, with one run per seed of {@code seeds}: the data, its subset,
     * the original model and the manifest are shared (they follow the {@code seed} setting); each
     * seed draws its own forget set (random scenarios), attack samples, random labels and data
     * order, and Retrain its own data order from the same initial weights. With more than one seed,
     * each run keeps its checkpoints (mask and trainings) under {@code seed-S}.
     */
    static <T> T classifications(JavaSparkContext sc, Settings settings, String command, String output, ForgetSpec spec,
                                 boolean masked, List<Long> seeds,
                                 java.util.function.Function<List<Classification>, T> body) {
        double ratio = settings.get(JobSettings.SALIENCY_RATIO);
        String modelPath = ModelPaths.original(settings);
        Datasets data = load(sc, settings);
        Net original = TrainCommand.loadOrTrain(sc, settings, data);
        int classes = classes(original, data, modelPath, "model.path");
        NetworkSnapshot theta0 = NetworkSnapshot.of(original);
        if (masked) {
            SaliencyMask.requireKeepsSome(ratio, trainable(original), "saliency.ratio");
        }
        Manifest manifest = inputs(sc, settings, command, Map.of("originalModel", modelPath), Optional.of(spec));
        Optional<Checkpoints> checkpoints = checkpoints(sc, settings, output, manifest);
        return keepingCheckpointsOnlyForResume(checkpoints, () -> {
            List<ForgetScenario> prepared = new ArrayList<>();
            try {
                List<Classification> runs = new ArrayList<>();
                for (long seed : seeds) {
                    ForgetScenario scenario = ForgetScenario.prepare(sc, data, spec, seed,
                            settings.get(JobSettings.FORGET_UNKNOWN_IDS).equals("fail"));
                    prepared.add(scenario);
                    ClassificationTask task = new ClassificationTask(scenario, classes, ratio,
                            settings.get(JobSettings.SALIENCY_BATCH), settings.get(JobSettings.EVAL_BATCH),
                            settings.get(JobSettings.TREE_DEPTH));
                    Optional<Checkpoints> kept = seeds.size() == 1 ? checkpoints
                            : checkpoints.map(c -> c.within("seed-" + seed));
                    runs.add(new Classification(original, theta0, modelPath, manifest, checkpoints, scenario, task,
                            new UnlearnRun<>(sc, task, theta0, kept), task.inputs(theta0, original.config(), seed),
                            List.of(data.rows(), data.cols(), data.channels())));
                }
                return body.apply(runs);
            } finally {
                for (ForgetScenario scenario : prepared) {
                    scenario.close();
                }
            }
        });
    }

    /** How many of {@code net}'s parameters are trainable (all but BatchNorm's running statistics). */
    static int trainable(Net net) {
        int n = 0;
        for (boolean statistics : io.salun.model.ParameterRoles.untrainable(net)) {
            n += statistics ? 0 : 1;
        }
        return n;
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
                settings.get(JobSettings.FORGET_IDS_TIME), OptionalLong.empty(), OptionalLong.empty()));
    }
}
