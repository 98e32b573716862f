package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.eval.EvaluationStage;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.report.BenchmarkReport;
import io.salun.report.OutputDir;
import io.salun.train.TrainingDivergedException;
import io.salun.unlearn.Method;
import io.salun.unlearn.Unlearning;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code benchmark}: the paper's table for one scenario. Trains (or loads) the original model,
 * runs Retrain and every method of {@code benchmark.methods} (each optionally over its learning-rate
 * grid, keeping the smallest Avg. Gap to Retrain, as the paper selects hyper-parameters), evaluates
 * UA, RA, TA and MIA-Efficacy, and publishes {@code benchmark.json}, {@code benchmark.md} and
 * {@code report.html}.
 */
public final class BenchmarkCommand {
    private static final Logger LOG = LoggerFactory.getLogger(BenchmarkCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private BenchmarkCommand() {
    }

    /** One entry of {@code benchmark.methods}: a method, optionally masked. */
    record Entry(Method method, boolean masked, io.salun.config.StageSettings keys) {
        String label() {
            return method.id() + (masked && !method.alwaysMasked() ? "+mask" : "");
        }
    }

    /** One run of a method at one learning rate. */
    public record Trial(String method, double lr, int epochs, Metrics metrics, double gap, double seconds,
                        double saliencySeconds, boolean diverged, boolean noEffect, Unlearning.Outcome outcome) {
        /** Whether the trial gave no model to compare: it diverged, or it changed nothing. */
        public boolean failed() {
            return diverged || noEffect;
        }

        /** RTE: the unlearning step plus, for masked methods, the saliency pass that made the mask. */
        public double rte() {
            return seconds + saliencySeconds;
        }
    }

    /** The methods' best trials and every trial of the sweep. */
    public record MethodResult(String method, Trial best, List<Trial> trials) {
    }

    static List<Entry> entries(Settings settings) {
        List<Entry> entries = new ArrayList<>();
        for (String raw : settings.get(JobSettings.BENCHMARK_METHODS).split(",")) {
            String name = raw.trim();
            if (name.isEmpty()) {
                continue;
            }
            boolean masked = name.endsWith("+mask");
            String id = masked ? name.substring(0, name.length() - "+mask".length()) : name;
            io.salun.config.StageSettings keys = JobSettings.BENCHMARK_METHOD_KEYS.get(id);
            if (keys == null) {
                throw new InvalidInputException("benchmark.methods: expected methods among "
                        + String.join(", ", JobSettings.BENCHMARK_METHOD_KEYS.keySet()) + " (optionally with +mask), found '"
                        + name + "'");
            }
            Method method = Method.parse(id);
            entries.add(new Entry(method, masked || method.alwaysMasked(), keys));
        }
        if (entries.isEmpty()) {
            throw new InvalidInputException("benchmark.methods: expected at least one method, found none");
        }
        return entries;
    }

    static List<Double> grid(Settings settings, Entry entry) {
        if (!settings.get(JobSettings.BENCHMARK_SWEEP)) {
            return List.of(settings.get(entry.keys().lr()));
        }
        List<Double> grid = new ArrayList<>();
        String text = settings.get(entry.keys().lrGrid());
        for (String part : text.split(",")) {
            try {
                double lr = Double.parseDouble(part.trim());
                if (!(lr > 0) || Double.isInfinite(lr)) {
                    throw new NumberFormatException();
                }
                grid.add(lr);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(entry.keys().lrGrid().key() + ": expected comma-separated learning rates > 0,"
                        + " found '" + text + "'");
            }
        }
        return grid;
    }

    /** Benchmarks every scenario of {@code benchmark.scenarios}; returns their output folders. */
    public static List<String> run(JavaSparkContext sc, Settings settings) {
        Instant started = Instant.now();
        List<ForgetSpec> specs = new ArrayList<>();
        String names = settings.get(JobSettings.BENCHMARK_SCENARIOS).trim();
        if (names.equals("current")) {
            specs.add(UnlearnCommand.forgetSpec(settings));
        } else {
            for (String name : names.split(",")) {
                try {
                    specs.add(ForgetSpec.parse(name, UnlearnCommand.deletionList(settings)));
                } catch (IllegalArgumentException e) {
                    throw new InvalidInputException("benchmark.scenarios: " + e.getMessage());
                }
            }
        }
        List<Entry> entries = entries(settings);
        for (Entry e : entries) {
            grid(settings, e);
        }
        String root = settings.get(JobSettings.BENCHMARK_OUTPUT).orElseGet(() -> "work/benchmarks/"
                + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started));
        List<String> outputs = new ArrayList<>();
        for (ForgetSpec spec : specs) {
            outputs.add(runScenario(sc, settings, spec, entries, root + "/" + spec.scenario()));
        }
        return outputs;
    }

    private static String runScenario(JavaSparkContext sc, Settings settings, ForgetSpec spec, List<Entry> entries,
                                      String output) {
        Instant started = Instant.now();
        int depth = settings.get(JobSettings.TREE_DEPTH);
        int evalBatch = settings.get(JobSettings.EVAL_BATCH);
        try (OutputDir out = UnlearnCommand.openOutput(sc, settings, output, "benchmark")) {
            Datasets data = Datasets.load(sc, settings);
            MultiLayerNetwork original = TrainCommand.loadOrTrain(sc, settings, data);
            int classes = UnlearnCommand.checkCompatible(original, data, ModelPaths.original(settings));
            NetworkSnapshot theta0 = NetworkSnapshot.of(original);
            if (entries.stream().anyMatch(Entry::masked)) {
                UnlearnCommand.requireMaskKeepsSome(settings.get(JobSettings.SALIENCY_RATIO), theta0.size(), "saliency.ratio");
            }
            try (Scenario scenario = Scenario.prepare(sc, settings, data, spec)) {
                Unlearning.Inputs inputs = new Unlearning.Inputs(theta0, original.getLayerWiseConfigurations(),
                        scenario.all, scenario.forget, scenario.retain, classes, settings.get(JobSettings.SEED), depth);
                Metrics originalMetrics = EvaluationStage.evaluate(sc, theta0, scenario.sets(), evalBatch, classes, depth);
                LOG.info("benchmark: retraining from scratch on the retain set (the gold standard)");
                Unlearning.Outcome retrain = Unlearning.run(sc, Method.RETRAIN, Optional.empty(), Recipes.training(settings), inputs);
                Metrics retrainMetrics = EvaluationStage.evaluate(sc, retrain.model(), scenario.sets(), evalBatch, classes, depth);
                LOG.info("benchmark: retrain took {} s: {}", String.format("%.1f", retrain.seconds()), retrainMetrics);

                Optional<Bitset> mask = Optional.empty();
                double saliencySeconds = 0;
                if (entries.stream().anyMatch(Entry::masked)) {
                    long t0 = System.nanoTime();
                    mask = Optional.of(UnlearnCommand.saliencyMask(sc, settings, theta0, scenario, classes));
                    saliencySeconds = (System.nanoTime() - t0) / 1e9;
                }
                List<MethodResult> results = new ArrayList<>();
                for (Entry entry : entries) {
                    List<Trial> trials = new ArrayList<>();
                    int epochs = settings.get(entry.keys().epochs());
                    for (double lr : grid(settings, entry)) {
                        Optional<Bitset> m = entry.masked() ? mask : Optional.empty();
                        double sal = entry.masked() ? saliencySeconds : 0;
                        try {
                            Unlearning.Outcome o = Unlearning.run(sc, entry.method(), m,
                                    Recipes.unlearning(settings, lr, epochs), inputs);
                            Unlearning.audit(entry.label(), m, theta0, o.model());
                            Metrics metrics = EvaluationStage.evaluate(sc, o.model(), scenario.sets(), evalBatch, classes, depth);
                            Unlearning.requireForgetLossChanged(entry.label(), originalMetrics.forgetLoss(), metrics.forgetLoss());
                            double gap = metrics.averageGap(retrainMetrics);
                            LOG.info("benchmark: {} lr {}: {} avg gap {}", entry.label(), lr, metrics, String.format("%.2f", gap));
                            trials.add(new Trial(entry.label(), lr, epochs, metrics, gap, o.seconds(), sal, false, false, o));
                        } catch (TrainingDivergedException e) {
                            LOG.warn("benchmark: {} lr {} diverged: {}", entry.label(), lr, e.getMessage());
                            trials.add(new Trial(entry.label(), lr, epochs, null, Double.NaN, 0, sal, true, false, null));
                        } catch (io.salun.unlearn.NoEffectException e) {
                            // a trial that changed nothing is no candidate: the untouched original is a row already
                            LOG.warn("benchmark: {} lr {} had no effect: {}", entry.label(), lr, e.getMessage());
                            trials.add(new Trial(entry.label(), lr, epochs, null, Double.NaN, 0, sal, false, true, null));
                        }
                    }
                    Trial best = trials.stream().filter(t -> !t.failed())
                            .min((a, b) -> Double.compare(a.gap(), b.gap())).orElse(null);
                    results.add(new MethodResult(entry.label(), best, trials));
                }
                BenchmarkReport report = new BenchmarkReport(settings, spec, scenario.split, scenario.testCount,
                        originalMetrics, retrain, retrainMetrics, results, mask, theta0, saliencySeconds, started, sc);
                out.writeText("benchmark.json", report.json());
                out.writeText("benchmark.md", report.markdown());
                out.writeText("report.html", report.html());
                out.publish();
                CONSOLE.info("");
                CONSOLE.info(report.markdown());
                CONSOLE.info("benchmark: {}", out.published("benchmark.json"));
                return out.uri();
            }
        }
    }
}
