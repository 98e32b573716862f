package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.config.StageSettings;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.mask.Bitset;
import io.salun.report.OutputDir;
import io.salun.report.Provenance;
import io.salun.report.Report;
import io.salun.train.Checkpoints;
import io.salun.train.TrainingDivergedException;
import io.salun.unlearn.BenchmarkReport;
import io.salun.unlearn.BenchmarkReport.MethodResult;
import io.salun.unlearn.BenchmarkReport.Trial;
import io.salun.unlearn.Method;
import io.salun.unlearn.NoEffectException;
import io.salun.unlearn.TrialOutcome;
import io.salun.unlearn.UnlearnRun;
import io.salun.unlearn.Unlearning;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * {@code benchmark}: the paper's table for each scenario. Trains (or loads) the original model,
 * runs Retrain and every method of {@code benchmark.methods} (each optionally over its
 * learning-rate grid, keeping the smallest Avg. Gap to Retrain, as the paper selects
 * hyper-parameters) as trainings of one {@link UnlearnRun} per scenario (one mask, checkpoints
 * for every training, so a rerun after a crash resumes), and publishes {@code benchmark.json},
 * {@code benchmark.md}, {@code report.html}, {@code manifest.json} and {@code _SUCCESS}.
 */
public final class BenchmarkCommand {
    private static final Logger LOG = LoggerFactory.getLogger(BenchmarkCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private BenchmarkCommand() {
    }

    /** One entry of {@code benchmark.methods}: a method, optionally masked. */
    record Entry(Method method, boolean masked, StageSettings keys) {
        String label() {
            return Unlearning.label(method, masked);
        }
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
            StageSettings keys = JobSettings.BENCHMARK_METHOD_KEYS.get(id);
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
            specs.add(RunSetup.forgetSpec(settings));
        } else {
            for (String name : names.split(",")) {
                try {
                    specs.add(ForgetSpec.parse(name, RunSetup.deletionList(settings)));
                } catch (IllegalArgumentException e) {
                    throw new InvalidInputException("benchmark.scenarios: " + e.getMessage());
                }
            }
        }
        List<Entry> entries = entries(settings);
        for (Entry e : entries) {
            grid(settings, e);
        }
        String root = settings.get(JobSettings.BENCHMARK_OUTPUT).orElseGet(() -> RunSetup.defaultOutput("benchmarks", "",
                started));
        List<String> outputs = new ArrayList<>();
        for (ForgetSpec spec : specs) {
            outputs.add(runScenario(sc, settings, spec, entries, root + "/" + spec.scenario()));
        }
        return outputs;
    }

    private static String runScenario(JavaSparkContext sc, Settings settings, ForgetSpec spec, List<Entry> entries,
                                      String output) {
        Instant started = Instant.now();
        boolean anyMasked = entries.stream().anyMatch(Entry::masked);
        try (OutputDir out = RunSetup.openOutput(sc, settings, output, "benchmark")) {
            return RunSetup.classification(sc, settings, "benchmark", output, spec, anyMasked, c -> {
                UnlearnRun<Metrics> run = c.run();
                Metrics originalMetrics = run.originalJudgement();
                LOG.info("benchmark: retraining from scratch on the retain set (the gold standard)");
                TrialOutcome<Metrics> retrain = run.train(Unlearning.stage(Method.RETRAIN, Optional.empty(),
                        Recipes.training(settings), c.inputs()).scoped("retrain"));
                LOG.info("benchmark: retrain took {} s: {}", String.format("%.1f", retrain.seconds()), retrain.judgement());
                Optional<Bitset> mask = anyMasked ? Optional.of(run.mask()) : Optional.empty();
                List<MethodResult> results = new ArrayList<>();
                for (Entry entry : entries) {
                    results.add(sweep(settings, run, entry, mask, c.inputs(), retrain.judgement()));
                }
                Report report = BenchmarkReport.of(spec, c.scenario().split(), c.scenario().testCount(), originalMetrics,
                        retrain, settings.get(JobSettings.TRAIN.lr()), results, mask, c.theta0(), run.saliencySeconds(),
                        Provenance.of(settings, sc, started));
                out.writeText("benchmark.json", report.json());
                out.writeText("benchmark.md", report.markdown());
                out.writeText("report.html", report.html());
                for (String key : List.of("scenario", "counts", "settings", "settingsSha256", "versions",
                        "sparkApplicationId", "sparkMaster", "started", "finished")) {
                    c.manifest().put(key, report.get(key));
                }
                out.writeManifest(c.manifest());
                out.publish();
                c.checkpoints().ifPresent(Checkpoints::clear);
                CONSOLE.info("");
                CONSOLE.info(report.markdown());
                CONSOLE.info("benchmark: {}", out.published("benchmark.json"));
                return out.uri();
            });
        }
    }

    /** Every learning rate of {@code entry}'s grid, each a training of {@code run}; the best by Avg. Gap. */
    private static MethodResult sweep(Settings settings, UnlearnRun<Metrics> run, Entry entry, Optional<Bitset> mask,
                                      Unlearning.Inputs inputs, Metrics retrain) {
        List<Trial> trials = new ArrayList<>();
        int epochs = settings.get(entry.keys().epochs());
        Optional<Bitset> m = entry.masked() ? mask : Optional.empty();
        double saliency = entry.masked() ? run.saliencySeconds() : 0;
        for (double lr : grid(settings, entry)) {
            try {
                TrialOutcome<Metrics> o = run.train(Unlearning.stage(entry.method(), m, Recipes.unlearning(settings, lr, epochs),
                        inputs).scoped(entry.label() + "@" + lr));
                double gap = o.judgement().averageGap(retrain);
                LOG.info("benchmark: {} lr {}: {} avg gap {}", entry.label(), lr, o.judgement(), String.format("%.2f", gap));
                trials.add(new Trial(entry.label(), lr, epochs, Optional.of(o), gap, saliency, false, false));
            } catch (TrainingDivergedException e) {
                LOG.warn("benchmark: {} lr {} diverged: {}", entry.label(), lr, e.getMessage());
                trials.add(new Trial(entry.label(), lr, epochs, Optional.empty(), Double.NaN, saliency, true, false));
            } catch (NoEffectException e) {
                // a trial that changed nothing is no candidate: the untouched original is a row already
                LOG.warn("benchmark: {} lr {} had no effect: {}", entry.label(), lr, e.getMessage());
                trials.add(new Trial(entry.label(), lr, epochs, Optional.empty(), Double.NaN, saliency, false, true));
            }
        }
        Optional<Trial> best = trials.stream().filter(t -> !t.failed()).min(Comparator.comparingDouble(Trial::gap));
        return new MethodResult(entry.label(), best, trials);
    }
}
