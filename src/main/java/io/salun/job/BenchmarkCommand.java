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
import io.salun.unlearn.Stage;
import io.salun.unlearn.Sweep;
import io.salun.unlearn.Unlearning;
import io.salun.unlearn.SelectiveDampening;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code benchmark}: the paper's table for each scenario. Trains (or loads) the original model,
 * and for every seed of {@code benchmark.seeds} runs Retrain and every method of
 * {@code benchmark.methods}: each at its recipe for the scenario's kind, or with {@code --sweep}
 * at every point of its learning-rate × epochs grid (extended past an edge the best point sits
 * on), keeping the point of smallest mean Avg. Gap to Retrain ({@link Sweep}), as the paper
 * selects hyper-parameters. All of a scenario's trainings belong to one {@link UnlearnRun} per
 * seed (one mask, checkpoints for every training, so a rerun after a crash resumes); it publishes
 * {@code benchmark.json}, {@code benchmark.md}, {@code report.html}, {@code manifest.json} and
 * {@code _SUCCESS}.
 */
public final class BenchmarkCommand {
    private static final Logger LOG = LoggerFactory.getLogger(BenchmarkCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private BenchmarkCommand() {
    }

    /**
     * One entry of {@code benchmark.methods}: a method, optionally masked, with its grids and
     * random-kind recipe ({@code keys}) and its class-kind recipe ({@code classKeys}).
     */
    record Entry(Method method, boolean masked, Optional<StageSettings> keys, Optional<StageSettings> classKeys) {
        String label() {
            return Unlearning.label(method, masked);
        }

        /** The training group of a method that trains (every one but SSD, whose knob is α). */
        StageSettings training() {
            return keys.orElseThrow(() -> new IllegalStateException(method.id() + " does not train"));
        }

        /** The recipe group for scenarios like {@code spec}: class-wise ones have their own. */
        StageSettings recipe(ForgetSpec spec) {
            return (spec instanceof ForgetSpec.Classes ? classKeys : keys)
                    .orElseThrow(() -> new IllegalStateException(method.id() + " does not train"));
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
            if (id.equals(Method.SSD.id())) {
                entries.add(new Entry(Method.SSD, masked, Optional.empty(), Optional.empty()));
                continue;
            }
            StageSettings keys = JobSettings.BENCHMARK_METHOD_KEYS.get(id);
            if (keys == null) {
                throw new InvalidInputException("benchmark.methods: expected methods among "
                        + String.join(", ", JobSettings.BENCHMARK_METHOD_KEYS.keySet()) + ", ssd (optionally with +mask), found '"
                        + name + "'");
            }
            Method method = Method.parse(id);
            if (method == Method.SFRON && masked) {
                throw new InvalidInputException("benchmark.methods: sfron masks its forget steps with its own Fisher-ratio"
                        + " mask (unlearn.sfron-threshold) and trains every weight on Dr; found '" + name + "'");
            }
            entries.add(new Entry(method, masked || method.alwaysMasked(), Optional.of(keys),
                    Optional.of(JobSettings.BENCHMARK_CLASS_KEYS.get(id))));
        }
        if (entries.isEmpty()) {
            throw new InvalidInputException("benchmark.methods: expected at least one method, found none");
        }
        return entries;
    }

    /** The points {@code entry} starts with on scenarios like {@code spec}: its recipe, or with --sweep its grid. */
    static List<Sweep.Point> grid(Settings settings, Entry entry, ForgetSpec spec) {
        boolean sweep = settings.get(JobSettings.BENCHMARK_SWEEP);
        if (!entry.method().trains()) {
            // SSD's knob is its selection weighting α, carried where the others carry the learning rate
            if (!sweep) {
                return List.of(new Sweep.Point(settings.get(spec instanceof ForgetSpec.Classes
                        ? JobSettings.BENCHMARK_SSD_CLASS_ALPHA : JobSettings.BENCHMARK_SSD_ALPHA), 0));
            }
            return Sweep.grid(positives(settings, JobSettings.BENCHMARK_SSD_ALPHA_GRID, "selection weightings"), List.of(0));
        }
        if (!sweep) {
            StageSettings recipe = entry.recipe(spec);
            return List.of(new Sweep.Point(settings.get(recipe.lr()), settings.get(recipe.epochs())));
        }
        List<Double> lrs = positives(settings, entry.training().lrGrid(), "learning rates");
        String epochs = settings.get(entry.training().epochsGrid());
        return Sweep.grid(lrs, epochs.isBlank() ? List.of(settings.get(entry.training().epochs()))
                : StageSettings.epochList(epochs));
    }

    /** The distinct finite values &gt; 0 of the comma-separated setting {@code key}. */
    private static List<Double> positives(Settings settings, io.salun.config.Setting<String> key, String what) {
        String text = settings.get(key);
        List<Double> values = StageSettings.positiveList(text);
        if (values == null) {
            throw new InvalidInputException(key.key() + ": expected comma-separated distinct " + what + " > 0, found '"
                    + text + "'");
        }
        return values;
    }

    /** The seeds of {@code benchmark.seeds} (distinct), or the {@code seed} setting alone. */
    static List<Long> seeds(Settings settings) {
        Optional<String> text = settings.get(JobSettings.BENCHMARK_SEEDS);
        if (text.isEmpty() || text.get().isBlank()) {
            return List.of(settings.get(JobSettings.SEED));
        }
        List<Long> seeds = new ArrayList<>();
        for (String part : text.get().split(",", -1)) {
            try {
                long seed = Long.parseLong(part.trim());
                if (seeds.contains(seed)) {
                    throw new NumberFormatException();
                }
                seeds.add(seed);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(JobSettings.BENCHMARK_SEEDS.key() + ": expected comma-separated distinct"
                        + " integer seeds, found '" + text.get() + "'");
            }
        }
        return seeds;
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
        int shadows = settings.get(JobSettings.BENCHMARK_AUDIT_SHADOWS);
        if (shadows != 0 && (shadows < 4 || shadows % 2 != 0)) {
            throw new InvalidInputException(JobSettings.BENCHMARK_AUDIT_SHADOWS.key() + ": shadows train in complementary"
                    + " pairs; expected 0 (no audit) or an even number >= 4, found " + shadows);
        }
        for (Entry e : entries) {
            for (ForgetSpec spec : specs) {
                grid(settings, e, spec);
            }
        }
        List<Long> seeds = seeds(settings);
        String root = settings.get(JobSettings.BENCHMARK_OUTPUT).orElseGet(() -> RunSetup.defaultOutput("benchmarks", "",
                started));
        List<String> outputs = new ArrayList<>();
        for (ForgetSpec spec : specs) {
            outputs.add(runScenario(sc, settings, spec, entries, seeds, root + "/" + spec.scenario()));
        }
        return outputs;
    }

    private static String runScenario(JavaSparkContext sc, Settings settings, ForgetSpec spec, List<Entry> entries,
                                      List<Long> seeds, String output) {
        Instant started = Instant.now();
        boolean anyMasked = entries.stream().anyMatch(Entry::masked);
        try (OutputDir out = RunSetup.openOutput(sc, settings, output, "benchmark")) {
            return RunSetup.classifications(sc, settings, "benchmark", output, spec, anyMasked, seeds, runs -> {
                List<Seeded> seeded = new ArrayList<>();
                double saliencySeconds = 0;
                for (int i = 0; i < runs.size(); i++) {
                    RunSetup.Classification c = runs.get(i);
                    long seed = seeds.get(i);
                    Metrics original = c.run().originalJudgement();
                    TrialOutcome<Metrics> retrain = RetrainCache.retrain(sc, settings, c, seed);
                    LOG.info("benchmark: seed {}: retrain took {} s: {}", seed, String.format("%.1f", retrain.seconds()),
                            retrain.judgement());
                    Optional<Bitset> mask = anyMasked ? Optional.of(c.run().mask()) : Optional.empty();
                    saliencySeconds += c.run().saliencySeconds() / runs.size();
                    seeded.add(new Seeded(sc, seed, c, mask, new BenchmarkReport.Baseline(seed, c.scenario().split(), original,
                            retrain)));
                }
                List<MethodResult> results = new ArrayList<>();
                for (Entry entry : entries) {
                    results.add(search(settings, seeded, entry, spec));
                }
                RunSetup.Classification first = runs.get(0);
                int shadows = settings.get(JobSettings.BENCHMARK_AUDIT_SHADOWS);
                Optional<BenchmarkReport.Audit> audit = shadows == 0 ? Optional.empty()
                        : Optional.of(audit(sc, settings, spec, seeded, results, shadows));
                Report report = BenchmarkReport.of(spec, first.scenario().testCount(),
                        seeded.stream().map(Seeded::baseline).toList(), settings.get(JobSettings.TRAIN.lr()), results,
                        seeded.get(0).mask(), first.theta0(), saliencySeconds, Provenance.of(settings, sc, started), audit);
                out.writeText("benchmark.json", report.json());
                out.writeText("benchmark.md", report.markdown());
                out.writeText("report.html", report.html());
                for (String key : List.of("scenario", "seeds", "counts", "settings", "settingsSha256", "versions",
                        "sparkApplicationId", "sparkMaster", "started", "finished")) {
                    first.manifest().put(key, report.get(key));
                }
                out.writeManifest(first.manifest());
                out.publish();
                first.checkpoints().ifPresent(Checkpoints::clear);
                CONSOLE.info("");
                CONSOLE.info(report.markdown());
                CONSOLE.info("benchmark: {}", out.published("benchmark.json"));
                return out.uri();
            });
        }
    }

    /**
     * The per-example audit of every seed's original, Retrain and each method's chosen model against
     * {@code k} shadow models of that seed (cached like the audit command's).
     */
    private static BenchmarkReport.Audit audit(JavaSparkContext sc, Settings settings, ForgetSpec spec,
                                               List<Seeded> seeded, List<MethodResult> results, int k) {
        Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
        Map<String, List<Boolean>> passes = new java.util.LinkedHashMap<>();
        List<Double> neverSeen = new ArrayList<>();
        List<Double> trainedOn = new ArrayList<>();
        int records = 0;
        for (int i = 0; i < seeded.size(); i++) {
            Seeded s = seeded.get(i);
            LOG.info("benchmark: seed {}: privacy audit against {} shadow models", s.seed(), k);
            PrivacyAudit audit = PrivacyAudit.prepare(sc, settings, s.c(), k, settings.get(JobSettings.BENCHMARK_AUDIT_SHADOW_DIR)
                    .map(root -> root + "/" + spec.scenario() + "-seed" + s.seed()));
            records = audit.forgetRecords();
            neverSeen.add(audit.calibration().falsePositiveRate());
            trainedOn.add(audit.calibration().truePositiveRate());
            Map<String, io.salun.model.Net> models = new java.util.LinkedHashMap<>();
            models.put("original", s.c().original());
            models.put("retrain", s.baseline().retrain().model().net());
            for (MethodResult r : results) {
                int seed = i;
                r.best().flatMap(b -> b.trials().get(seed).outcome()).ifPresent(o -> models.put(r.method(), o.model().net()));
            }
            models.forEach((name, net) -> {
                PrivacyAudit.Result a = audit.of(net);
                rates.computeIfAbsent(name, n -> new ArrayList<>()).add(a.rate());
                passes.computeIfAbsent(name, n -> new ArrayList<>()).add(a.indistinguishable());
                LOG.info("benchmark: seed {}: {}: {}% of the forget records look trained on", s.seed(), name,
                        String.format("%.1f", 100 * a.rate()));
            });
        }
        List<BenchmarkReport.AuditRow> rows = new ArrayList<>();
        rates.forEach((name, r) -> rows.add(new BenchmarkReport.AuditRow(name, r, passes.get(name))));
        return new BenchmarkReport.Audit(k, records, neverSeen, trainedOn, rows);
    }

    /** One seed's run of a scenario: its classification, mask and baselines. */
    private static final class Seeded {
        private final long seed;
        private final RunSetup.Classification c;
        private final Optional<Bitset> mask;
        private final BenchmarkReport.Baseline baseline;
        private final JavaSparkContext sc;
        private Optional<SelectiveDampening.Importances> importances = Optional.empty();
        private final Map<Double, Unlearning.SfrOnMask> sfronMasks = new HashMap<>();

        Seeded(JavaSparkContext sc, long seed, RunSetup.Classification c, Optional<Bitset> mask,
               BenchmarkReport.Baseline baseline) {
            this.sc = sc;
            this.seed = seed;
            this.c = c;
            this.mask = mask;
            this.baseline = baseline;
        }

        long seed() {
            return seed;
        }

        RunSetup.Classification c() {
            return c;
        }

        Optional<Bitset> mask() {
            return mask;
        }

        BenchmarkReport.Baseline baseline() {
            return baseline;
        }

        /** SSD's importances of this seed's original and sets, computed on first use. */
        SelectiveDampening.Importances importances() {
            if (importances.isEmpty()) {
                importances = Optional.of(Unlearning.importances(sc, c.inputs()));
            }
            return importances.get();
        }

        /** SFR-on's Fisher-ratio mask at {@code threshold} for this seed, computed on first use. */
        Unlearning.SfrOnMask sfronMask(double threshold) {
            return sfronMasks.computeIfAbsent(threshold, t -> Unlearning.sfronMask(sc, c.inputs(), t));
        }
    }

    /**
     * Every point of {@code entry}'s grid on every seed, then (with --sweep) the extensions while
     * the best point sits on an edge; the best by mean Avg. Gap. A point with more epochs at a
     * learning rate already run continues that run where its stage allows ({@link Stage#continues}:
     * constant or step schedule, no l1 decay) instead of training again: the same bits, and the
     * RTE it reports still counts every epoch.
     */
    private static MethodResult search(Settings settings, List<Seeded> seeded, Entry entry, ForgetSpec spec) {
        Map<Long, List<Map.Entry<Stage, TrialOutcome<Metrics>>>> done = new HashMap<>();
        List<Sweep.PointResult> points = new ArrayList<>();
        for (Sweep.Point p : grid(settings, entry, spec)) {
            points.add(point(settings, seeded, entry, p, done));
        }
        int extensions = settings.get(JobSettings.BENCHMARK_SWEEP) ? settings.get(JobSettings.BENCHMARK_GRID_EXTENSIONS) : 0;
        for (int i = 0; i < extensions; i++) {
            Optional<Sweep.PointResult> best = Sweep.best(points);
            if (best.isEmpty()) {
                break;
            }
            List<Sweep.Point> more = Sweep.extension(points.stream().map(Sweep.PointResult::point).toList(),
                    best.get().point());
            if (more.isEmpty()) {
                break;
            }
            LOG.info("benchmark: {}: the best point ({}) is on the grid's edge; extending to {}", entry.label(),
                    best.get().point(), more);
            for (Sweep.Point p : more) {
                points.add(point(settings, seeded, entry, p, done));
            }
        }
        Optional<Sweep.PointResult> best = Sweep.best(points);
        best.ifPresent(b -> LOG.info("benchmark: {}: chose {} (avg gap {} ± {})", entry.label(), b.point(),
                String.format("%.2f", b.meanGap()), String.format("%.2f", b.gapStd())));
        return new MethodResult(entry.label(), best, points);
    }

    /**
     * One point of {@code entry} on every seed, each a training of that seed's run, continuing the
     * longest earlier training of {@code done} (per seed) that it extends.
     */
    private static Sweep.PointResult point(Settings settings, List<Seeded> seeded, Entry entry, Sweep.Point p,
                                           Map<Long, List<Map.Entry<Stage, TrialOutcome<Metrics>>>> done) {
        List<Trial> trials = new ArrayList<>();
        for (Seeded s : seeded) {
            UnlearnRun<Metrics> run = s.c().run();
            Optional<Bitset> m = entry.masked() ? s.mask() : Optional.empty();
            double saliency = entry.masked() ? run.saliencySeconds() : 0;
            Metrics retrain = s.baseline().retrain().judgement();
            String what = (entry.method().trains() ? entry.label() + " lr " + p.lr() + " " + p.epochs() + " epochs"
                    : entry.label() + " alpha " + p.lr()) + (seeded.size() > 1 ? " seed " + s.seed() : "");
            if (!entry.method().trains()) {
                trials.add(dampening(settings, s, entry, p, m, saliency, what));
                continue;
            }
            String scope = entry.label() + "@" + p.lr() + (p.epochs() == settings.get(entry.training().epochs()) ? ""
                    : "x" + p.epochs());
            io.salun.unlearn.Recipe recipe = Recipes.unlearning(settings, p.lr(), p.epochs());
            Optional<Unlearning.SfrOnMask> forgetMask = entry.method() == Method.SFRON
                    ? Optional.of(s.sfronMask(recipe.sfron().threshold())) : Optional.empty();
            Stage stage = (forgetMask.isPresent() ? Unlearning.sfron(forgetMask.get(), recipe, s.c().inputs())
                    : Unlearning.stage(entry.method(), m, recipe, s.c().inputs())).scoped(scope);
            List<Map.Entry<Stage, TrialOutcome<Metrics>>> earlier = done.computeIfAbsent(s.seed(), k -> new ArrayList<>());
            Optional<Map.Entry<Stage, TrialOutcome<Metrics>>> prefix = earlier.stream()
                    .filter(e -> stage.continues(e.getKey()))
                    .max(java.util.Comparator.comparingInt(e -> e.getKey().plan().epochs()));
            prefix.ifPresent(e -> LOG.info("benchmark: {}: continuing its {}-epoch run", what, e.getKey().plan().epochs()));
            try {
                // SCRUB trains in two parts and is not continued across points
                TrialOutcome<Metrics> o = entry.method() == Method.SCRUB
                        ? run.train(stage, after -> Unlearning.scrubMinSteps(stage, after, recipe, s.c().inputs()))
                        : run.train(stage, prefix);
                // SFR-on's mask is its own work, once per seed: every point counts it, as SSD's importances
                o = o.plusSeconds(forgetMask.map(Unlearning.SfrOnMask::seconds).orElse(0.0));
                if (entry.method() != Method.SCRUB) {
                    earlier.add(Map.entry(stage, o));
                }
                double gap = o.judgement().averageGap(retrain);
                LOG.info("benchmark: {}: {} avg gap {}", what, o.judgement(), String.format("%.2f", gap));
                trials.add(new Trial(entry.label(), p.lr(), p.epochs(), s.seed(), Optional.of(o), gap, saliency, false, false));
            } catch (TrainingDivergedException e) {
                LOG.warn("benchmark: {} diverged: {}", what, e.getMessage());
                trials.add(new Trial(entry.label(), p.lr(), p.epochs(), s.seed(), Optional.empty(), Double.NaN, saliency,
                        true, false));
            } catch (NoEffectException e) {
                // a trial that changed nothing is no candidate: the untouched original is a row already
                LOG.warn("benchmark: {} had no effect: {}", what, e.getMessage());
                trials.add(new Trial(entry.label(), p.lr(), p.epochs(), s.seed(), Optional.empty(), Double.NaN, saliency,
                        false, true));
            }
        }
        return new Sweep.PointResult(p, trials);
    }

    /** One SSD point on one seed: its importances computed once per seed, then dampened at α = the point's value. */
    private static Trial dampening(Settings settings, Seeded s, Entry entry, Sweep.Point p, Optional<Bitset> mask,
                                   double saliency, String what) {
        UnlearnRun<Metrics> run = s.c().run();
        SelectiveDampening.Importances imp = s.importances();
        SelectiveDampening ssd = new SelectiveDampening(p.lr(), settings.get(JobSettings.UNLEARN_SSD_LAMBDA));
        try {
            TrialOutcome<Metrics> o = run.apply(entry.label(), mask, imp.seconds(),
                    sc -> Unlearning.dampen(ssd, imp, mask, s.c().inputs()));
            double gap = o.judgement().averageGap(s.baseline().retrain().judgement());
            LOG.info("benchmark: {}: {} avg gap {}", what, o.judgement(), String.format("%.2f", gap));
            return new Trial(entry.label(), p.lr(), p.epochs(), s.seed(), Optional.of(o), gap, saliency, false, false);
        } catch (NoEffectException e) {
            LOG.warn("benchmark: {} had no effect: {}", what, e.getMessage());
            return new Trial(entry.label(), p.lr(), p.epochs(), s.seed(), Optional.empty(), Double.NaN, saliency, false, true);
        }
    }
}
