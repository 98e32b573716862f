package io.salun.unlearn;

import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.forget.ForgetSplit;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.report.Charts;
import io.salun.report.Html;
import io.salun.report.MaskLayers;
import io.salun.report.Provenance;
import io.salun.report.Report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code benchmark.json}, {@code benchmark.md} and {@code report.html} of one benchmark scenario,
 * from one {@link Report}: the paper-style table (UA, RA, TA, MIA-Efficacy, Avg. Gap to Retrain,
 * RTE), with the untouched original model as a row — a method farther from Retrain than doing
 * nothing has not helped — and every point of the search. Over several seeds every figure is the
 * mean ± the sample standard deviation over the seeds, and the Avg. Gap is computed per seed (each
 * seed's method against its own Retrain) and then averaged; {@code perSeed} keeps each seed's table.
 */
public final class BenchmarkReport {
    private BenchmarkReport() {
    }

    /**
     * One run of a method at one learning rate and number of epochs on one seed; {@code outcome}
     * is absent for a failed trial.
     */
    public record Trial(String method, double lr, int epochs, long seed, Optional<TrialOutcome<Metrics>> outcome,
                        double gap, double saliencySeconds, boolean diverged, boolean noEffect) {
        /** Whether the trial gave no model to compare: it diverged, or it changed nothing. */
        public boolean failed() {
            return diverged || noEffect;
        }

        public Metrics metrics() {
            return outcome.orElseThrow().judgement();
        }

        /** RTE: the unlearning step plus, for masked methods, the saliency pass that made the mask. */
        public double rte() {
            return outcome.map(TrialOutcome::seconds).orElse(0.0) + saliencySeconds;
        }
    }

    /** A method's points and the best of them (smallest mean Avg. Gap), if any did not fail. */
    public record MethodResult(String method, Optional<Sweep.PointResult> best, List<Sweep.PointResult> points) {
    }

    /** One seed's baselines: its split, the original model and Retrain judged on it. */
    public record Baseline(long seed, ForgetSplit.Result split, Metrics original, TrialOutcome<Metrics> retrain) {
    }

    /**
     * The per-example privacy audit of the benchmark's models (docs/METHODS.md §4c), one value per
     * seed: the fraction of forget records that look trained on, and whether that is within what
     * never-seen records show at the 5 % level.
     */
    public record AuditRow(String method, List<Double> rates, List<Boolean> indistinguishable) {
    }

    /**
     * The audit of a scenario: {@code shadows} shadow models per seed, the calibration rates per seed
     * (records the shadows never saw, and records they trained on), and a row per model.
     */
    public record Audit(int shadows, int forgetRecords, List<Double> neverSeen, List<Double> trainedOn,
                        List<AuditRow> rows) {
    }

    /** As {@link #of(ForgetSpec, long, List, double, List, Optional, NetworkSnapshot, double, Provenance, Optional)} without an audit. */
    public static Report of(ForgetSpec spec, long testCount, List<Baseline> baselines, double retrainLr,
                            List<MethodResult> results, Optional<Bitset> mask, NetworkSnapshot theta0,
                            double saliencySeconds, Provenance provenance) {
        return of(spec, testCount, baselines, retrainLr, results, mask, theta0, saliencySeconds, provenance,
                Optional.empty());
    }

    /**
     * The report of one scenario over the seeds of {@code baselines} (the trials of every point in
     * the same seed order); {@code mask} and {@code theta0} are the first seed's.
     */
    public static Report of(ForgetSpec spec, long testCount, List<Baseline> baselines, double retrainLr,
                            List<MethodResult> results, Optional<Bitset> mask, NetworkSnapshot theta0,
                            double saliencySeconds, Provenance provenance, Optional<Audit> audit) {
        String scenario = spec.scenario();
        boolean several = baselines.size() > 1;
        List<Long> seeds = baselines.stream().map(Baseline::seed).toList();
        List<Metrics> retrains = baselines.stream().map(b -> b.retrain().judgement()).toList();
        List<Double> retrainSeconds = baselines.stream().map(b -> b.retrain().seconds()).toList();
        List<Metrics> originals = baselines.stream().map(Baseline::original).toList();

        Report report = new Report("salun-spark benchmark: " + scenario, "benchmark.json");
        report.put("scenario", scenario);
        report.put("seeds", seeds);
        report.put("counts", RunReport.counts(spec, baselines.get(0).split(), testCount));
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(row("original", originals, retrains, null, retrainSeconds, Double.NaN, 0, Optional.empty()));
        rows.add(row("retrain", retrains, retrains, retrainSeconds, retrainSeconds, retrainLr, 0,
                Optional.of(baselines.get(0).retrain())));
        for (MethodResult r : results) {
            if (r.best().isEmpty()) {
                Map<String, Object> failed = new LinkedHashMap<>();
                failed.put("method", r.method());
                failed.put("diverged", true);
                rows.add(failed);
            } else {
                Sweep.PointResult best = r.best().get();
                rows.add(row(r.method(), metricsOf(best), retrains, rtes(best), retrainSeconds, best.point().lr(),
                        best.point().epochs(), best.trials().get(0).outcome()));
            }
        }
        report.put("table", rows);
        if (several) {
            report.put("perSeed", perSeed(baselines, results));
        }
        List<Map<String, Object>> sweep = new ArrayList<>();
        List<Map<String, Object>> points = new ArrayList<>();
        for (MethodResult r : results) {
            for (Sweep.PointResult p : r.points()) {
                boolean chosen = r.best().map(b -> b == p).orElse(false);
                Map<String, Object> pt = new LinkedHashMap<>();
                pt.put("method", r.method());
                pt.put("lr", p.point().lr());
                pt.put("epochs", p.point().epochs());
                pt.put("failed", p.failed());
                if (!p.failed()) {
                    pt.put("avgGap", p.meanGap());
                    pt.put("avgGapStd", p.gapStd());
                }
                pt.put("chosen", chosen);
                points.add(pt);
                for (Trial t : p.trials()) {
                    Map<String, Object> s = new LinkedHashMap<>();
                    s.put("method", t.method());
                    s.put("lr", t.lr());
                    s.put("epochs", t.epochs());
                    s.put("seed", t.seed());
                    s.put("diverged", t.diverged());
                    if (t.noEffect()) {
                        s.put("noEffect", true);
                    }
                    if (!t.failed()) {
                        s.put("metrics", RunReport.metrics(t.metrics()));
                        s.put("avgGap", t.gap());
                        s.put("rteSeconds", t.rte());
                    }
                    s.put("chosen", chosen);
                    sweep.add(s);
                }
            }
        }
        report.put("points", points);
        report.put("sweep", sweep);
        report.put("saliencySeconds", saliencySeconds);
        List<Map<String, Object>> layers = mask.map(m -> MaskLayers.fractions(m, theta0)).orElse(List.of());
        report.put("maskLayers", layers);
        provenance.addTo(report);

        if (several) {
            report.paragraph("Mean ± standard deviation over " + seeds.size() + " seeds (" + seeds.stream()
                    .map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + "): each seed draws"
                    + " its own forget set, attack samples, labels and data order from the shared original model;"
                    + " the Avg. Gap is computed per seed against that seed's Retrain, then averaged.");
        }
        List<List<String>> table = new ArrayList<>();
        table.add(List.of(scenario, "UA", "RA", "TA", "MIA-Efficacy", "Avg. Gap", "RTE (s)", "RTE / Retrain", "lr",
                "epochs"));
        table.add(line("original", originals, retrains, null, retrainSeconds, Double.NaN, 0));
        table.add(line("retrain", retrains, retrains, retrainSeconds, retrainSeconds, Double.NaN, 0));
        Map<String, Metrics> shown = new LinkedHashMap<>();
        shown.put("original", mean(originals));
        shown.put("retrain", mean(retrains));
        Map<String, Double> shownGaps = new LinkedHashMap<>();
        shownGaps.put("original", gaps(originals, retrains).stream().mapToDouble(Double::doubleValue).average()
                .orElse(Double.NaN));
        Map<String, List<Double>> losses = new LinkedHashMap<>();
        for (MethodResult r : results) {
            if (r.best().isEmpty()) {
                List<String> failed = new ArrayList<>(List.of(r.method(),
                        "diverged or changed nothing at every point tried"));
                while (failed.size() < 10) {
                    failed.add("");
                }
                table.add(failed);
            } else {
                Sweep.PointResult best = r.best().get();
                table.add(line(r.method(), metricsOf(best), retrains, rtes(best), retrainSeconds, best.point().lr(),
                        best.point().epochs()));
                shown.put(r.method(), mean(metricsOf(best)));
                shownGaps.put(r.method(), best.meanGap());
                List<Double> flat = new ArrayList<>();
                RunReport.lossRows(best.trials().get(0).outcome().orElseThrow().losses(), flat);
                if (!flat.isEmpty()) {
                    losses.put(r.method(), flat);
                }
            }
        }
        report.table(table);
        Metrics originalMean = shown.get("original");
        if (Double.isFinite(originalMean.forgottenClassTestAccuracy())) {
            StringBuilder note = new StringBuilder("Accuracy on the forgotten classes' test images: original ")
                    .append(Html.num(originalMean.forgottenClassTestAccuracy())).append(", retrain ")
                    .append(Html.num(shown.get("retrain").forgottenClassTestAccuracy()));
            for (MethodResult r : results) {
                r.best().ifPresent(b -> note.append(", ").append(r.method()).append(' ')
                        .append(Html.num(mean(metricsOf(b)).forgottenClassTestAccuracy())));
            }
            report.paragraph(note.append('.').toString());
        }
        audit.ifPresent(a -> addAudit(report, a, several));
        if (results.stream().anyMatch(r -> r.method().startsWith(Method.SSD.id()))) {
            report.paragraph("SSD does not train: its lr column holds its selection weighting alpha, at 0 epochs.");
        }
        report.paragraph("Every point of the search" + (several ? " (Avg. Gap: mean ± std over the seeds)" : "")
                + "; the chosen one has the smallest mean Avg. Gap:");
        List<List<String>> pointTable = new ArrayList<>();
        pointTable.add(List.of("method", "lr", "epochs", "UA", "RA", "TA", "MIA-Efficacy", "Avg. Gap", "chosen"));
        for (MethodResult r : results) {
            for (Sweep.PointResult p : r.points()) {
                List<String> cells = new ArrayList<>(List.of(r.method(), String.valueOf(p.point().lr()),
                        String.valueOf(p.point().epochs())));
                if (p.failed()) {
                    boolean diverged = p.trials().stream().anyMatch(Trial::diverged);
                    cells.addAll(List.of("–", "–", "–", "–", diverged ? "diverged" : "no effect", ""));
                } else {
                    List<Metrics> ms = metricsOf(p);
                    Metrics m = mean(ms);
                    Metrics sd = std(ms);
                    cells.add(cell(m.ua(), sd.ua(), several));
                    cells.add(cell(m.ra(), sd.ra(), several));
                    cells.add(cell(m.ta(), sd.ta(), several));
                    cells.add(cell(m.mia(), sd.mia(), several));
                    cells.add(cell(p.meanGap(), p.gapStd(), several));
                    cells.add(r.best().map(b -> b == p).orElse(false) ? "✓" : "");
                }
                pointTable.add(cells);
            }
        }
        report.table(pointTable);
        Map<String, List<Double>> bars = new LinkedHashMap<>();
        shown.forEach((name, m) -> bars.put(name, m.gapMetrics()));
        report.image(Charts.bars("Each metric vs Retrain (" + scenario + (several ? ", mean over seeds" : "") + ")", "%",
                List.of("UA", "RA", "TA", "MIA-Efficacy"), bars), "metrics");
        report.image(Charts.bars("Avg. Gap to Retrain (lower is better)", "points", "avg gap",
                new ArrayList<>(shownGaps.keySet()), new ArrayList<>(shownGaps.values())), "avg gap");
        if (!layers.isEmpty()) {
            report.image(MaskLayers.chart(layers), "mask per layer");
        }
        if (!losses.isEmpty()) {
            report.image(Charts.lines("Training loss per round of each method's chosen run" + (several ? " (first seed)" : ""),
                    "round", "mean loss", losses), "loss");
        }
        return report;
    }

    private static void addAudit(Report report, Audit a, boolean several) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("shadows", a.shadows());
        json.put("forgetRecords", a.forgetRecords());
        json.put("neverSeen", a.neverSeen());
        json.put("trainedOn", a.trainedOn());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (AuditRow r : a.rows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("method", r.method());
            row.put("looksTrainedOn", r.rates());
            row.put("indistinguishable", r.indistinguishable());
            rows.add(row);
        }
        json.put("rows", rows);
        report.put("audit", json);
        int seeds = a.neverSeen().size();
        report.paragraph(String.format(Locale.ROOT, "Per-example privacy audit (docs/METHODS.md 4c): %d shadow models"
                + " per seed, each trained with the original recipe on the retain set and half of the %d forget records;"
                + " the share of forget records that look trained on, against %s for records the shadows never saw and"
                + " %s for records they trained on. A model that forgot them shows the never-seen share"
                + " (\"indistinguishable\": within it at the 5%% level%s).", a.shadows(), a.forgetRecords(),
                percent(a.neverSeen(), several), percent(a.trainedOn(), several), several ? ", seeds that pass" : ""));
        List<List<String>> table = new ArrayList<>();
        table.add(List.of("model", "forget records that look trained on", "indistinguishable from never seen"));
        for (AuditRow r : a.rows()) {
            long pass = r.indistinguishable().stream().filter(b -> b).count();
            table.add(List.of(r.method(), percent(r.rates(), several),
                    several ? pass + " of " + seeds : pass == 1 ? "yes" : "no"));
        }
        report.table(table);
    }

    /** Fractions as a percentage, mean ± std over seeds when there are several. */
    private static String percent(List<Double> fractions, boolean several) {
        List<Double> pc = fractions.stream().map(f -> 100 * f).toList();
        return cell(Sweep.mean(pc), Sweep.std(pc), several) + " %";
    }

    private static List<Map<String, Object>> perSeed(List<Baseline> baselines, List<MethodResult> results) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < baselines.size(); i++) {
            Baseline b = baselines.get(i);
            Metrics reference = b.retrain().judgement();
            List<Map<String, Object>> rows = new ArrayList<>();
            rows.add(single("original", b.original(), reference));
            rows.add(single("retrain", reference, reference));
            for (MethodResult r : results) {
                if (r.best().isPresent()) {
                    rows.add(single(r.method(), r.best().get().trials().get(i).metrics(), reference));
                }
            }
            Map<String, Object> seed = new LinkedHashMap<>();
            seed.put("seed", b.seed());
            seed.put("retrainSeconds", b.retrain().seconds());
            seed.put("table", rows);
            out.add(seed);
        }
        return out;
    }

    private static Map<String, Object> single(String method, Metrics m, Metrics reference) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("method", method);
        r.putAll(RunReport.metrics(m));
        r.put("avgGap", m.averageGap(reference));
        return r;
    }

    private static List<Metrics> metricsOf(Sweep.PointResult p) {
        return p.trials().stream().map(Trial::metrics).toList();
    }

    private static List<Double> rtes(Sweep.PointResult p) {
        return p.trials().stream().map(Trial::rte).toList();
    }

    private static List<Double> gaps(List<Metrics> ms, List<Metrics> references) {
        List<Double> gaps = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            gaps.add(ms.get(i).averageGap(references.get(i)));
        }
        return gaps;
    }

    /** The metrics averaged over seeds, field by field. */
    static Metrics mean(List<Metrics> ms) {
        return combine(ms, Sweep::mean);
    }

    /** The sample standard deviation over seeds, field by field (0 for one seed). */
    static Metrics std(List<Metrics> ms) {
        return combine(ms, Sweep::std);
    }

    private static Metrics combine(List<Metrics> ms, java.util.function.Function<List<Double>, Double> f) {
        return new Metrics(f.apply(ms.stream().map(Metrics::ua).toList()), f.apply(ms.stream().map(Metrics::ra).toList()),
                f.apply(ms.stream().map(Metrics::ta).toList()), f.apply(ms.stream().map(Metrics::mia).toList()),
                f.apply(ms.stream().map(Metrics::forgottenClassTestAccuracy).toList()),
                f.apply(ms.stream().map(Metrics::forgetLoss).toList()));
    }

    private static Map<String, Object> row(String method, List<Metrics> ms, List<Metrics> references, List<Double> seconds,
                                           List<Double> retrainSeconds, double lr, int epochs,
                                           Optional<TrialOutcome<Metrics>> outcome) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("method", method);
        r.putAll(RunReport.metrics(mean(ms)));
        List<Double> gaps = gaps(ms, references);
        r.put("avgGap", Sweep.mean(gaps));
        if (ms.size() > 1) {
            Map<String, Object> sd = RunReport.metrics(std(ms));
            sd.put("avgGap", Sweep.std(gaps));
            r.put("std", sd);
        }
        if (seconds != null) {
            r.put("rteSeconds", Sweep.mean(seconds));
            r.put("rteOverRetrain", Sweep.mean(ratios(seconds, retrainSeconds)));
        }
        if (Double.isFinite(lr)) {
            r.put("lr", lr);
        }
        if (epochs > 0) {
            r.put("epochs", epochs);
        }
        outcome.ifPresent(o -> r.put("lossPerRound", RunReport.lossRows(o.losses(), new ArrayList<>())));
        return r;
    }

    private static List<Double> ratios(List<Double> a, List<Double> b) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            out.add(a.get(i) / b.get(i));
        }
        return out;
    }

    private static List<String> line(String name, List<Metrics> ms, List<Metrics> references, List<Double> seconds,
                                     List<Double> retrainSeconds, double lr, int epochs) {
        boolean several = ms.size() > 1;
        Metrics m = mean(ms);
        Metrics sd = std(ms);
        List<Double> gaps = gaps(ms, references);
        return List.of(name, cell(m.ua(), sd.ua(), several), cell(m.ra(), sd.ra(), several), cell(m.ta(), sd.ta(), several),
                cell(m.mia(), sd.mia(), several), cell(Sweep.mean(gaps), Sweep.std(gaps), several),
                seconds != null ? String.format(Locale.ROOT, "%.1f", Sweep.mean(seconds)) : "–",
                seconds != null ? String.format(Locale.ROOT, "%.3f", Sweep.mean(ratios(seconds, retrainSeconds))) : "–",
                Double.isFinite(lr) ? String.valueOf(lr) : "–", epochs > 0 ? String.valueOf(epochs) : "–");
    }

    /** A mean, with "± std" when there are several seeds. */
    static String cell(double mean, double std, boolean several) {
        return several && Double.isFinite(mean) ? Html.num(mean) + " ± " + Html.num(std) : Html.num(mean);
    }
}
