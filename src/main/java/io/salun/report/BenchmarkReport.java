package io.salun.report;

import io.salun.config.Settings;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.forget.ForgetSplit;
import io.salun.job.BenchmarkCommand;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.unlearn.Unlearning;
import org.apache.spark.api.java.JavaSparkContext;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code benchmark.json}, {@code benchmark.md} and {@code report.html} of one benchmark: the
 * paper-style table (UA, RA, TA, MIA-Efficacy, Avg. Gap to Retrain, RTE), with the untouched
 * original model as a row — a method farther from Retrain than doing nothing has not helped.
 */
public final class BenchmarkReport {
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final String scenario;
    private final Metrics original;
    private final Unlearning.Outcome retrain;
    private final Metrics retrainMetrics;
    private final List<BenchmarkCommand.MethodResult> results;
    private final List<Map<String, Object>> layers;

    public BenchmarkReport(Settings settings, ForgetSpec spec, ForgetSplit.Result split, long testCount,
                           Metrics original, Unlearning.Outcome retrain, Metrics retrainMetrics,
                           List<BenchmarkCommand.MethodResult> results, Optional<Bitset> mask, NetworkSnapshot theta0,
                           double saliencySeconds, Instant started, JavaSparkContext sc) {
        this.scenario = spec.scenario();
        this.original = original;
        this.retrain = retrain;
        this.retrainMetrics = retrainMetrics;
        this.results = results;
        this.layers = mask.map(m -> MaskLayers.fractions(m, theta0)).orElse(List.of());
        json.put("scenario", scenario);
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("forget", split.forget());
        counts.put("retain", split.retain());
        counts.put("test", testCount);
        json.put("counts", counts);
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(row("original", original, Double.NaN, Double.NaN, null));
        rows.add(row("retrain", retrainMetrics, retrain.seconds(), settings.get(io.salun.job.JobSettings.TRAIN.lr()), retrain));
        for (BenchmarkCommand.MethodResult r : results) {
            if (r.best() == null) {
                Map<String, Object> diverged = new LinkedHashMap<>();
                diverged.put("method", r.method());
                diverged.put("diverged", true);
                rows.add(diverged);
            } else {
                rows.add(row(r.method(), r.best().metrics(), r.best().rte(), r.best().lr(), r.best().outcome()));
            }
        }
        json.put("table", rows);
        List<Map<String, Object>> sweep = new ArrayList<>();
        for (BenchmarkCommand.MethodResult r : results) {
            for (BenchmarkCommand.Trial t : r.trials()) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("method", t.method());
                s.put("lr", t.lr());
                s.put("epochs", t.epochs());
                s.put("diverged", t.diverged());
                if (t.noEffect()) {
                    s.put("noEffect", true);
                }
                if (!t.failed()) {
                    s.put("metrics", RunReport.metrics(t.metrics()));
                    s.put("avgGap", t.gap());
                    s.put("rteSeconds", t.rte());
                }
                s.put("chosen", r.best() == t);
                sweep.add(s);
            }
        }
        json.put("sweep", sweep);
        json.put("saliencySeconds", saliencySeconds);
        json.put("maskLayers", layers);
        BuildInfo.addProvenance(json, settings, sc, started);
    }

    private Map<String, Object> row(String method, Metrics m, double seconds, double lr, Unlearning.Outcome outcome) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("method", method);
        r.putAll(RunReport.metrics(m));
        r.put("avgGap", m.averageGap(retrainMetrics));
        if (Double.isFinite(seconds)) {
            r.put("rteSeconds", seconds);
            r.put("rteOverRetrain", seconds / retrain.seconds());
        }
        if (Double.isFinite(lr)) {
            r.put("lr", lr);
        }
        if (outcome != null) {
            List<Double> flat = new ArrayList<>();
            r.put("lossPerRound", RunReport.lossRows(outcome.losses(), flat));
        }
        return r;
    }

    public String json() {
        return RunReport.toJson(json);
    }

    /** The table in Markdown. */
    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("| ").append(scenario).append(" | UA | RA | TA | MIA-Efficacy | Avg. Gap | RTE (s) | RTE / Retrain | lr |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        md.append(line("original", original, Double.NaN, Double.NaN));
        md.append(line("retrain", retrainMetrics, retrain.seconds(), Double.NaN));
        for (BenchmarkCommand.MethodResult r : results) {
            if (r.best() == null) {
                md.append("| ").append(r.method()).append(" | diverged or changed nothing at every learning rate tried | | | | | | | |\n");
            } else {
                md.append(line(r.method(), r.best().metrics(), r.best().rte(), r.best().lr()));
            }
        }
        if (Double.isFinite(original.forgottenClassTestAccuracy())) {
            md.append("\nAccuracy on the forgotten classes' test images: original ")
                    .append(Html.num(original.forgottenClassTestAccuracy())).append(", retrain ")
                    .append(Html.num(retrainMetrics.forgottenClassTestAccuracy()));
            for (BenchmarkCommand.MethodResult r : results) {
                if (r.best() != null) {
                    md.append(", ").append(r.method()).append(' ').append(Html.num(r.best().metrics().forgottenClassTestAccuracy()));
                }
            }
            md.append(".\n");
        }
        return md.toString();
    }

    private String line(String name, Metrics m, double seconds, double lr) {
        return String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, Html.num(m.ua()),
                Html.num(m.ra()), Html.num(m.ta()), Html.num(m.mia()), Html.num(m.averageGap(retrainMetrics)),
                Double.isFinite(seconds) ? String.format(Locale.ROOT, "%.1f", seconds) : "–",
                Double.isFinite(seconds) ? String.format(Locale.ROOT, "%.3f", seconds / retrain.seconds()) : "–",
                Double.isFinite(lr) ? String.valueOf(lr) : "–");
    }

    public String html() {
        Html page = new Html("salun-spark benchmark: " + scenario);
        List<List<String>> table = new ArrayList<>();
        table.add(List.of("method", "UA %", "RA %", "TA %", "MIA-Efficacy %", "Avg. Gap", "RTE (s)", "RTE / Retrain"));
        table.add(htmlRow("original", original, Double.NaN));
        table.add(htmlRow("retrain", retrainMetrics, retrain.seconds()));
        Map<String, Metrics> shown = new LinkedHashMap<>();
        shown.put("original", original);
        shown.put("retrain", retrainMetrics);
        Map<String, List<Double>> losses = new LinkedHashMap<>();
        for (BenchmarkCommand.MethodResult r : results) {
            if (r.best() != null) {
                table.add(htmlRow(r.method(), r.best().metrics(), r.best().rte()));
                shown.put(r.method(), r.best().metrics());
                List<Double> flat = new ArrayList<>();
                RunReport.lossRows(r.best().outcome().losses(), flat);
                losses.put(r.method(), flat);
            }
        }
        page.table(table);
        List<String> metricNames = List.of("UA", "RA", "TA", "MIA-Efficacy");
        Map<String, List<Double>> bars = new LinkedHashMap<>();
        for (Map.Entry<String, Metrics> e : shown.entrySet()) {
            bars.put(e.getKey(), e.getValue().gapMetrics());
        }
        page.image(Charts.bars("Each metric vs Retrain (" + scenario + ")", "%", metricNames, bars), "metrics");
        List<String> names = new ArrayList<>();
        List<Double> gaps = new ArrayList<>();
        for (Map.Entry<String, Metrics> e : shown.entrySet()) {
            if (!e.getKey().equals("retrain")) {
                names.add(e.getKey());
                gaps.add(e.getValue().averageGap(retrainMetrics));
            }
        }
        page.image(Charts.bars("Avg. Gap to Retrain (lower is better)", "points", "avg gap", names, gaps), "avg gap");
        if (!layers.isEmpty()) {
            page.image(MaskLayers.chart(layers), "mask per layer");
        }
        if (!losses.isEmpty()) {
            page.image(Charts.lines("Training loss per round of each method's chosen run", "round", "mean loss", losses), "loss");
        }
        page.heading("benchmark.json").preformatted(json());
        return page.render();
    }

    private List<String> htmlRow(String name, Metrics m, double seconds) {
        return List.of(name, Html.num(m.ua()), Html.num(m.ra()), Html.num(m.ta()), Html.num(m.mia()),
                Html.num(m.averageGap(retrainMetrics)),
                Double.isFinite(seconds) ? String.format(Locale.ROOT, "%.1f", seconds) : "–",
                Double.isFinite(seconds) ? String.format(Locale.ROOT, "%.3f", seconds / retrain.seconds()) : "–");
    }
}
