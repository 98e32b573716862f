package io.salun.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.data.Example;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.eval.EvaluationStage;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.forget.ForgetSplit;
import io.salun.mask.Bitset;
import io.salun.mask.MaskFile;
import io.salun.mask.SaliencyMask;
import io.salun.model.ModelStore;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.report.BuildInfo;
import io.salun.report.OutputDir;
import io.salun.saliency.SaliencyStage;
import io.salun.train.DataOrder;
import io.salun.train.Labelling;
import io.salun.train.ParameterAveraging;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
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
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code unlearn}: saliency mask on the forget set, SalUn (random labels under the mask) on
 * Spark, evaluation of the original and unlearned models; publishes {@code model.zip},
 * {@code mask.bin} and {@code report.json} in {@code output.dir}.
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
        String method = settings.get(JobSettings.UNLEARN_METHOD);
        String modelPath = ModelPaths.original(settings);
        String output = settings.get(JobSettings.OUTPUT_DIR).orElseGet(() -> "work/runs/" + spec.scenario() + "-" + method
                + "-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started));
        if (new Path(output).equals(new Path(modelPath))) {
            throw new InvalidInputException("output.dir: " + output + " is the original model's path (model.path);"
                    + " the original model is never overwritten");
        }
        long seed = settings.get(JobSettings.SEED);
        int depth = settings.get(JobSettings.TREE_DEPTH);
        int evalBatch = settings.get(JobSettings.EVAL_BATCH);
        try (OutputDir out = OutputDir.open(output, settings.get(JobSettings.OUTPUT_OVERWRITE), sc.hadoopConfiguration())) {
            Datasets data = Datasets.load(sc, settings);
            if (!ModelStore.exists(modelPath, sc.hadoopConfiguration())) {
                if (!settings.get(JobSettings.TRAIN_IF_MISSING)) {
                    throw new InvalidInputException("model.path: no model at " + modelPath + "; run the train command"
                            + " first or set model.train-if-missing=true");
                }
                LOG.info("no original model at {} yet: training it first", modelPath);
                TrainCommand.trainAndSave(sc, settings, data, modelPath);
            }
            MultiLayerNetwork original = ModelStore.load(modelPath, "model.path", sc.hadoopConfiguration());
            int classes = checkCompatible(original, data, modelPath);
            NetworkSnapshot theta0 = NetworkSnapshot.of(original);

            ForgetSplit.Result split = ForgetSplit.apply(sc, data.training(), spec, seed);
            if (split.forget() == 0) {
                throw new InvalidInputException("forget set is empty: scenario " + spec.scenario()
                        + " selects none of the " + split.retain() + " training records"
                        + (spec instanceof ForgetSpec.Ids ? " (" + split.unknownIds() + " listed IDs are not in the training set)" : ""));
            }
            if (split.retain() == 0) {
                throw new InvalidInputException("forget set is the whole training set (" + split.forget()
                        + " records): nothing would be retained; choose a smaller forget set");
            }
            LOG.info("scenario {}: {} records to forget, {} to retain", spec.scenario(), split.forget(), split.retain());
            JavaRDD<Shard> training = Shards.cache(split.flagged(), "D shards (flagged)");
            JavaRDD<Shard> forget = Shards.cache(split.flagged().filter(Example::forget), "Df shards");
            JavaRDD<Shard> test = Shards.cache(data.test(), "Dt shards");
            try {
                Optional<Bitset> mask = Optional.empty();
                double saliencySeconds = 0;
                if (method.equals("salun")) {
                    long t0 = System.nanoTime();
                    LOG.info("saliency: summing forget-set gradients over {} parameters", theta0.size());
                    Bitset m = SaliencyStage.mask(sc, theta0, forget, settings.get(JobSettings.SALIENCY_BATCH), classes,
                            settings.get(JobSettings.SALIENCY_RATIO), depth);
                    saliencySeconds = (System.nanoTime() - t0) / 1e9;
                    LOG.info("saliency: mask keeps {} of {} parameters ({} s)", m.cardinality(), m.size(),
                            String.format("%.1f", saliencySeconds));
                    MaskFile.write(m, out.staged("mask.bin"), sc.hadoopConfiguration());
                    mask = Optional.of(m);
                }

                Optimizer optimizer = new Optimizer(settings.get(JobSettings.UNLEARN_OPTIMIZER),
                        settings.get(JobSettings.UNLEARN_LR), settings.get(JobSettings.UNLEARN_MOMENTUM),
                        settings.get(JobSettings.UNLEARN_WEIGHT_DECAY), 0);
                ParameterAveraging.Plan plan = new ParameterAveraging.Plan("unlearn",
                        settings.get(JobSettings.UNLEARN_EPOCHS), settings.get(JobSettings.UNLEARN_BATCH),
                        settings.get(JobSettings.UNLEARN_LOCAL_STEPS), classes, seed,
                        DataOrder.parse(settings.get(JobSettings.UNLEARN_ORDER)),
                        Labelling.randomForgetLabels(seed, classes, settings.get(JobSettings.UNLEARN_EXCLUDE_TRUE_LABEL)),
                        depth);
                NetworkSnapshot start = NetworkSnapshot.fresh(optimizer.applyTo(original.getLayerWiseConfigurations()),
                        theta0.parameters());
                long t1 = System.nanoTime();
                ParameterAveraging.Result result = ParameterAveraging.train(sc, start, training, plan, mask);
                double unlearnSeconds = (System.nanoTime() - t1) / 1e9;
                NetworkSnapshot unlearned = result.network();
                long changedMasked = mask.map(m -> countChangedOutside(m, theta0.parameters(), unlearned.parameters())).orElse(0L);
                if (changedMasked != 0) {
                    throw new IllegalStateException(changedMasked + " masked-out parameters moved: exact masking failed");
                }

                LOG.info("evaluating the original and the unlearned model");
                Set<Integer> forgotten = spec.forgottenClasses();
                Metrics before = EvaluationStage.evaluate(sc, theta0, training, test, forgotten, evalBatch, classes, depth);
                Metrics after = EvaluationStage.evaluate(sc, unlearned, training, test, forgotten, evalBatch, classes, depth);

                MultiLayerNetwork unlearnedNet = new MultiLayerNetwork(original.getLayerWiseConfigurations().clone());
                unlearnedNet.init(Nd4j.createFromArray(unlearned.parameters()).reshape(1, unlearned.size()), false);
                ModelStore.save(unlearnedNet, out.staged("model.zip"), false, sc.hadoopConfiguration());

                Map<String, Object> report = report(settings, spec, method, modelPath, split, test, mask, theta0, before,
                        after, saliencySeconds, unlearnSeconds, result, started, sc, plan, optimizer);
                out.writeText("report.json", new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(report) + "\n");
                out.publish();
                printTable(spec, method, before, after, saliencySeconds, unlearnSeconds, out.published("report.json"));
                return out.uri();
            } finally {
                training.unpersist();
                forget.unpersist();
                test.unpersist();
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("could not write report.json", e);
        }
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
                return new ForgetSpec.Ids(settings.get(JobSettings.FORGET_IDS).orElseThrow(() -> new InvalidInputException(
                        "forget.ids: the ids scenario needs a file of record IDs (forget.ids=PATH), found none")));
        }
    }

    /** The model's number of classes, after checking it can read this data. */
    private static int checkCompatible(MultiLayerNetwork net, Datasets data, String modelPath) {
        Layer last = net.getOutputLayer();
        if (!(last.conf().getLayer() instanceof FeedForwardLayer out)) {
            throw new InvalidInputException("model.path: " + modelPath + " does not end in a classification output layer");
        }
        int features = data.rows() * data.cols();
        try {
            net.output(Nd4j.zeros(1, features), false);
        } catch (RuntimeException e) {
            throw new InvalidInputException("model.path: " + modelPath + " does not accept " + data.rows() + "x"
                    + data.cols() + " images (" + features + " features): " + e.getMessage(), e);
        }
        return (int) out.getNOut();
    }

    private static long countChangedOutside(Bitset mask, float[] before, float[] after) {
        long changed = 0;
        for (int i = 0; i < before.length; i++) {
            if (!mask.get(i) && Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i])) {
                changed++;
            }
        }
        return changed;
    }

    private static Map<String, Object> report(Settings settings, ForgetSpec spec, String method, String modelPath,
                                              ForgetSplit.Result split, JavaRDD<Shard> test, Optional<Bitset> mask,
                                              NetworkSnapshot theta0, Metrics before, Metrics after,
                                              double saliencySeconds, double unlearnSeconds,
                                              ParameterAveraging.Result result, Instant started, JavaSparkContext sc,
                                              ParameterAveraging.Plan plan, Optimizer optimizer) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("scenario", spec.scenario());
        r.put("method", method);
        r.put("originalModel", modelPath);
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("forget", split.forget());
        counts.put("retain", split.retain());
        counts.put("test", test.map(Shard::size).fold(0, Integer::sum));
        if (spec instanceof ForgetSpec.Ids) {
            counts.put("unknownIds", split.unknownIds());
        }
        r.put("counts", counts);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", theta0.size());
        m.put("ratio", settings.get(JobSettings.SALIENCY_RATIO));
        m.put("trainable", mask.map(Bitset::cardinality).orElse(theta0.size()));
        m.put("file", mask.isPresent() ? "mask.bin" : null);
        m.put("layers", mask.map(b -> layerFractions(b, theta0)).orElse(List.of()));
        r.put("mask", m);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("original", metrics(before));
        metrics.put("unlearned", metrics(after));
        r.put("metrics", metrics);
        Map<String, Object> seconds = new LinkedHashMap<>();
        seconds.put("saliency", saliencySeconds);
        seconds.put("unlearning", unlearnSeconds);
        r.put("seconds", seconds);
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("optimizer", optimizer.toString());
        training.put("labelling", plan.labelling().name());
        training.put("order", plan.order().name().toLowerCase());
        List<Map<String, Object>> losses = new ArrayList<>();
        for (ParameterAveraging.RoundLoss loss : result.losses()) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("epoch", loss.epoch() + 1);
            l.put("round", loss.round() + 1);
            l.put("loss", loss.meanLoss());
            losses.add(l);
        }
        training.put("lossPerRound", losses);
        r.put("unlearning", training);
        r.put("settings", settings.effective());
        r.put("settingsSha256", settings.sha256());
        r.put("versions", BuildInfo.versions());
        r.put("sparkApplicationId", sc.sc().applicationId());
        r.put("sparkMaster", sc.master());
        r.put("started", started.toString());
        r.put("finished", Instant.now().toString());
        return r;
    }

    private static Map<String, Object> metrics(Metrics m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("UA", m.ua());
        out.put("RA", m.ra());
        out.put("TA", m.ta());
        if (!Double.isNaN(m.forgottenClassTestAccuracy())) {
            out.put("forgottenClassTestAccuracy", m.forgottenClassTestAccuracy());
        }
        return out;
    }

    /** Fraction of each layer's parameters the mask keeps, in parameter order. */
    private static List<Map<String, Object>> layerFractions(Bitset mask, NetworkSnapshot network) {
        MultiLayerNetwork net = network.build();
        List<Map<String, Object>> layers = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < net.getnLayers(); i++) {
            for (Map.Entry<String, org.nd4j.linalg.api.ndarray.INDArray> p : net.getLayer(i).paramTable().entrySet()) {
                int n = (int) p.getValue().length();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("layer", i);
                row.put("param", p.getKey());
                row.put("count", n);
                row.put("fraction", SaliencyMask.fractionSet(mask, offset, offset + n));
                layers.add(row);
                offset += n;
            }
        }
        return layers;
    }

    private static void printTable(ForgetSpec spec, String method, Metrics before, Metrics after,
                                   double saliencySeconds, double unlearnSeconds, String reportPath) {
        CONSOLE.info("");
        CONSOLE.info(String.format("%-10s %8s %8s %8s", spec.scenario(), "UA %", "RA %", "TA %"));
        CONSOLE.info(String.format("%-10s %8.2f %8.2f %8.2f", "original", before.ua(), before.ra(), before.ta()));
        CONSOLE.info(String.format("%-10s %8.2f %8.2f %8.2f", method, after.ua(), after.ra(), after.ta()));
        if (!Double.isNaN(after.forgottenClassTestAccuracy())) {
            CONSOLE.info(String.format("forgotten classes' test accuracy: %.2f%% -> %.2f%%",
                    before.forgottenClassTestAccuracy(), after.forgottenClassTestAccuracy()));
        }
        CONSOLE.info(String.format("saliency %.1f s, unlearning %.1f s", saliencySeconds, unlearnSeconds));
        CONSOLE.info("report: {}", reportPath);
    }
}
