package io.salun.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.salun.config.Settings;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.forget.ForgetSplit;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.train.ParameterAveraging;
import io.salun.unlearn.Unlearning;
import org.apache.spark.api.java.JavaSparkContext;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code report.json} and {@code report.html} of one unlearn run. */
public final class RunReport {
    private final Map<String, Object> report = new LinkedHashMap<>();
    private final Metrics before;
    private final Metrics after;
    private final String method;
    private final List<Map<String, Object>> layers;
    private final List<Double> losses = new ArrayList<>();

    public RunReport(Settings settings, ForgetSpec spec, String method, String modelPath, ForgetSplit.Result split,
                     long testCount, Optional<Bitset> mask, NetworkSnapshot theta0, Metrics before, Metrics after,
                     double saliencySeconds, Unlearning.Outcome outcome, Instant started, JavaSparkContext sc) {
        this.before = before;
        this.after = after;
        this.method = method;
        this.layers = mask.map(m -> MaskLayers.fractions(m, theta0)).orElse(List.of());
        report.put("scenario", spec.scenario());
        report.put("method", method);
        report.put("originalModel", modelPath);
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
        report.put("counts", counts);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", theta0.size());
        m.put("ratio", mask.isPresent() ? settings.get(io.salun.job.JobSettings.SALIENCY_RATIO) : null);
        m.put("trainable", mask.map(Bitset::cardinality).orElse(theta0.size()));
        m.put("file", mask.isPresent() ? "mask.bin" : null);
        m.put("layers", layers);
        report.put("mask", m);
        // the outputs this report describes beside itself: verify checks each is published and listed
        List<String> files = new ArrayList<>(List.of("model.zip"));
        mask.ifPresent(x -> files.add("mask.bin"));
        files.add("report.html");
        report.put("files", files);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("original", metrics(before));
        metrics.put("unlearned", metrics(after));
        report.put("metrics", metrics);
        Map<String, Object> seconds = new LinkedHashMap<>();
        seconds.put("saliency", saliencySeconds);
        seconds.put("unlearning", outcome.seconds());
        report.put("seconds", seconds);
        report.put("lossPerRound", lossRows(outcome.losses(), losses));
        BuildInfo.addProvenance(report, settings, sc, started);
    }

    /** Records which ND4J backend and devices ran each stage ({@code Devices.probe}). */
    public RunReport withDevices(Map<String, Object> devices) {
        report.put("devices", devices);
        return this;
    }

    /** Copies what an auditor needs from the report into {@code manifest}: run, counts, mask size, metrics, provenance. */
    public void fillManifest(Manifest manifest) {
        for (String key : List.of("scenario", "method", "counts", "metrics", "settings", "settingsSha256", "versions",
                "sparkApplicationId", "sparkMaster", "devices", "started", "finished")) {
            manifest.put(key, report.get(key));
        }
        Map<?, ?> mask = (Map<?, ?>) report.get("mask");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", mask.get("parameters"));
        m.put("trainable", mask.get("trainable"));
        m.put("ratio", mask.get("ratio"));
        manifest.put("mask", m);
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

    public String json() {
        return toJson(report);
    }

    /** {@code value} as indented JSON. */
    public static String toJson(Object value) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write JSON", e);
        }
    }

    public String html() {
        List<String> names = List.of("UA", "RA", "TA", "MIA-Efficacy");
        Map<String, List<Double>> bars = new LinkedHashMap<>();
        bars.put("original", before.gapMetrics());
        bars.put(method, after.gapMetrics());
        Html page = new Html("salun-spark: " + report.get("scenario") + " with " + method);
        page.table(List.of(
                List.of("model", "UA %", "RA %", "TA %", "MIA-Efficacy %"),
                row("original", before), row(method, after)));
        page.image(Charts.bars("Metrics before and after unlearning", "%", names, bars), "metrics");
        if (!layers.isEmpty()) {
            page.image(MaskLayers.chart(layers), "mask per layer");
        }
        Map<String, List<Double>> loss = new LinkedHashMap<>();
        loss.put(method, losses);
        page.image(Charts.lines("Training loss per round (" + method + ")", "round", "mean loss", loss), "loss");
        page.heading("report.json").preformatted(json());
        return page.render();
    }

    static List<String> row(String name, Metrics m) {
        return List.of(name, Html.num(m.ua()), Html.num(m.ra()), Html.num(m.ta()), Html.num(m.mia()));
    }
}
