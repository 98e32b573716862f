package io.salun.unlearn;

import io.salun.eval.Forgetting;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.forget.ForgetSplit;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.report.Charts;
import io.salun.report.Html;
import io.salun.report.Manifest;
import io.salun.report.MaskLayers;
import io.salun.report.Provenance;
import io.salun.report.Report;
import io.salun.train.ParameterAveraging;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@code report.json} and {@code report.html} of one unlearn run, from one {@link Report}. */
public final class RunReport {
    private RunReport() {
    }

    /** What an unlearn run reports besides its trial: the scenario, the model, the split and the mask. */
    public record Run(ForgetSpec spec, String modelPath, ForgetSplit.Result split, long testCount, Optional<Bitset> mask,
                      double ratio, double saliencySeconds, Map<String, Object> devices, Model model) {
    }

    /**
     * The network unlearned: its architecture and width (as model.arch and model.width name
     * them), DL4J kind, the images it reads ({@code [rows, cols, channels]}), and whether it came
     * as PyTorch weights (then {@code model.safetensors} is published too).
     */
    public record Model(String arch, int width, String kind, List<Integer> inputShape, boolean pytorch) {
    }

    /** The forgetting profiles of the original ({@code before}) and the unlearned model ({@code after}). */
    public record Forgotten(Forgetting.Profile before, Forgetting.Profile after, Set<Integer> forgottenClasses) {
        /** The plain-language lines the report and the console show ({@link Forgetting#verdict}). */
        public List<String> verdict() {
            return Forgetting.verdict(before, after, forgottenClasses);
        }
    }

    /** The report of {@code trial} (judged against the original's {@code before}) in {@code run}. */
    public static Report of(Run run, NetworkSnapshot theta0, Metrics before, TrialOutcome<Metrics> trial,
                            Forgotten forgotten, Provenance provenance) {
        String method = trial.label();
        List<Map<String, Object>> layers = run.mask().map(m -> MaskLayers.fractions(m, theta0)).orElse(List.of());
        Report report = new Report("salun-spark: " + run.spec().scenario() + " with " + method);
        report.put("scenario", run.spec().scenario());
        report.put("method", method);
        report.put("originalModel", run.modelPath());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("arch", run.model().arch());
        model.put("width", run.model().width());
        model.put("kind", run.model().kind());
        model.put("inputShape", run.model().inputShape());
        model.put("pytorch", run.model().pytorch());
        report.put("model", model);
        report.put("counts", counts(run.spec(), run.split(), run.testCount()));
        Map<String, Object> m = new LinkedHashMap<>();
        long statistics = MaskLayers.count(theta0, "statistics");
        long fixed = MaskLayers.count(theta0, "fixed");
        long untrainable = statistics + fixed;
        m.put("parameters", theta0.size());
        m.put("statistics", statistics);
        m.put("fixed", fixed);
        m.put("trainableParameters", theta0.size() - untrainable);
        m.put("ratio", run.mask().isPresent() ? run.ratio() : null);
        m.put("kept", run.mask().map(x -> (long) x.cardinality() - untrainable).orElse(theta0.size() - untrainable));
        m.put("trainable", run.mask().map(Bitset::cardinality).orElse(theta0.size()));
        m.put("file", run.mask().isPresent() ? "mask.bin" : null);
        m.put("layers", layers);
        report.put("mask", m);
        // the outputs this report describes beside itself: verify checks each is published and listed
        List<String> files = new ArrayList<>(List.of("model.zip"));
        if (run.model().pytorch()) {
            files.add("model.safetensors");
        }
        run.mask().ifPresent(x -> files.add("mask.bin"));
        files.add("report.html");
        report.put("files", files);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("original", metrics(before));
        metrics.put("unlearned", metrics(trial.judgement()));
        report.put("metrics", metrics);
        Map<String, Object> seconds = new LinkedHashMap<>();
        seconds.put("saliency", run.saliencySeconds());
        seconds.put("unlearning", trial.seconds());
        report.put("seconds", seconds);
        report.put("driverMemory", io.salun.report.PeakMemory.ofThisJvm());
        List<Double> losses = new ArrayList<>();
        report.put("lossPerRound", lossRows(trial.losses(), losses));
        provenance.addTo(report);
        report.put("devices", run.devices());

        Metrics after = trial.judgement();
        report.table(List.of(List.of("model", "UA %", "RA %", "TA %", "MIA-Efficacy %"), row("original", before),
                row(method, after)));
        Map<String, List<Double>> bars = new LinkedHashMap<>();
        bars.put("original", before.gapMetrics());
        bars.put(method, after.gapMetrics());
        report.image(Charts.bars("Metrics before and after unlearning", "%", List.of("UA", "RA", "TA", "MIA-Efficacy"), bars),
                "metrics");
        if (!layers.isEmpty()) {
            report.image(MaskLayers.chart(layers), "mask per layer");
        }
        if (!losses.isEmpty()) {
            // a method that does not train (SSD) has no loss history to draw
            Map<String, List<Double>> loss = new LinkedHashMap<>();
            loss.put(method, losses);
            report.image(Charts.lines("Training loss per round (" + method + ")", "round", "mean loss", loss), "loss");
        }
        forgetting(report, forgotten, method);
        return report;
    }

    /**
     * The "was it forgotten?" section: the verdict lines, per-class accuracy of each set before and
     * after, and the confidence histograms (json {@code forgetting}; html table and charts).
     */
    static void forgetting(Report report, Forgotten f, String method) {
        List<String> verdict = f.verdict();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("bins", Forgetting.BINS);
        json.put("verdict", verdict);
        json.put("before", profile(f.before()));
        json.put("after", profile(f.after()));
        report.put("forgetting", json);

        report.heading("Was it forgotten?");
        for (String line : verdict) {
            report.paragraph(line);
        }
        List<List<String>> table = new ArrayList<>();
        table.add(List.of("class", "forget before %", "forget after %", "retain before %", "retain after %", "test before %",
                "test after %"));
        double[][] columns = {f.before().forget().perClass(), f.after().forget().perClass(), f.before().retain().perClass(),
            f.after().retain().perClass(), f.before().test().perClass(), f.after().test().perClass()};
        for (int c = 0; c < columns[0].length; c++) {
            List<String> row = new ArrayList<>(List.of(String.valueOf(c)));
            for (double[] col : columns) {
                row.add(Html.num(col[c]));
            }
            table.add(row);
        }
        report.table(table);
        List<String> bins = new ArrayList<>();
        for (int b = 0; b < Forgetting.BINS; b++) {
            bins.add(String.format(java.util.Locale.ROOT, "%.2f", (double) b / Forgetting.BINS));
        }
        for (String when : List.of("before", "after")) {
            Forgetting.Profile p = when.equals("before") ? f.before() : f.after();
            Map<String, List<Double>> series = new LinkedHashMap<>();
            series.put("forget", fractions(p.forget().histogram()));
            series.put("retain", fractions(p.retain().histogram()));
            series.put("test", fractions(p.test().histogram()));
            report.image(Charts.bars("True-label confidence " + when + " " + (when.equals("before") ? "unlearning"
                    : method) + " (fraction of each set per bin, from the bin's lower edge)", "fraction", bins, series),
                    "confidence " + when);
        }
    }

    private static Map<String, Object> profile(Forgetting.Profile p) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("forget", tally(p.forget()));
        out.put("retain", tally(p.retain()));
        out.put("test", tally(p.test()));
        return out;
    }

    private static Map<String, Object> tally(Forgetting.Tally t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("records", t.records());
        out.put("accuracy", finiteOrNull(t.accuracy()));
        List<Object> perClass = new ArrayList<>();
        for (double a : t.perClass()) {
            perClass.add(finiteOrNull(a));
        }
        out.put("perClassAccuracy", perClass);
        out.put("meanConfidence", finiteOrNull(t.meanConfidence()));
        List<Long> hist = new ArrayList<>();
        for (long v : t.histogram()) {
            hist.add(v);
        }
        out.put("confidenceHistogram", hist);
        return out;
    }

    private static Object finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static List<Double> fractions(long[] histogram) {
        long n = 0;
        for (long v : histogram) {
            n += v;
        }
        List<Double> out = new ArrayList<>();
        for (long v : histogram) {
            out.add(n == 0 ? 0.0 : (double) v / n);
        }
        return out;
    }

    /** Copies what an auditor needs from {@code report} into {@code manifest}: run, counts, mask size, metrics, provenance. */
    public static void fillManifest(Report report, Manifest manifest) {
        for (String key : List.of("scenario", "method", "model", "counts", "metrics", "settings", "settingsSha256", "versions",
                "sparkApplicationId", "sparkMaster", "devices", "started", "finished")) {
            manifest.put(key, report.get(key));
        }
        Map<?, ?> mask = (Map<?, ?>) report.get("mask");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", mask.get("parameters"));
        m.put("trainable", mask.get("trainable"));
        m.put("statistics", mask.get("statistics"));
        m.put("kept", mask.get("kept"));
        m.put("ratio", mask.get("ratio"));
        manifest.put("mask", m);
    }

    /** The record counts of a split: forget, retain, test, and for deletion lists the unknown (and earlier) IDs. */
    static Map<String, Object> counts(ForgetSpec spec, ForgetSplit.Result split, long testCount) {
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("forget", split.forget());
        counts.put("retain", split.retain());
        counts.put("test", testCount);
        if (spec instanceof ForgetSpec.Ids ids) {
            counts.put("unknownIds", split.unknownIds());
            if (ids.upToMicros().isPresent()) {
                counts.put("excludedEarlier", split.excluded());
            }
        }
        return counts;
    }

    /** Metrics as a JSON object; NaN (not defined for this scenario) is left out. */
    public static Map<String, Object> metrics(Metrics m) {
        Map<String, Object> out = new LinkedHashMap<>();
        put(out, "UA", m.ua());
        put(out, "RA", m.ra());
        put(out, "TA", m.ta());
        put(out, "MIA", m.mia());
        put(out, "forgottenClassTestAccuracy", m.forgottenClassTestAccuracy());
        put(out, "forgetLoss", m.forgetLoss());
        return out;
    }

    private static void put(Map<String, Object> out, String key, double v) {
        if (Double.isFinite(v)) {
            out.put(key, v);
        }
    }

    /** Loss per round as JSON rows; also appends the losses to {@code flat} for charts. */
    public static List<Map<String, Object>> lossRows(List<ParameterAveraging.RoundLoss> losses, List<Double> flat) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ParameterAveraging.RoundLoss loss : losses) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("epoch", loss.epoch() + 1);
            l.put("round", loss.round() + 1);
            l.put("loss", loss.meanLoss());
            rows.add(l);
            flat.add(loss.meanLoss());
        }
        return rows;
    }

    static List<String> row(String name, Metrics m) {
        return List.of(name, Html.num(m.ua()), Html.num(m.ra()), Html.num(m.ta()), Html.num(m.mia()));
    }
}
