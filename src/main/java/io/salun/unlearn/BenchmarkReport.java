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
 * nothing has not helped — and every trial of the sweep.
 */
public final class BenchmarkReport {
    private BenchmarkReport() {
    }

    /** One run of a method at one learning rate; {@code outcome} and {@code metrics} are absent for a failed trial. */
    public record Trial(String method, double lr, int epochs, Optional<TrialOutcome<Metrics>> outcome, double gap,
                        double saliencySeconds, boolean diverged, boolean noEffect) {
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

    /** A method's trials and the best of them (smallest Avg. Gap), if any did not fail. */
    public record MethodResult(String method, Optional<Trial> best, List<Trial> trials) {
    }

    /** The report of one scenario. */
    public static Report of(ForgetSpec spec, ForgetSplit.Result split, long testCount, Metrics original,
                            TrialOutcome<Metrics> retrain, double retrainLr, List<MethodResult> results,
                            Optional<Bitset> mask, NetworkSnapshot theta0, double saliencySeconds, Provenance provenance) {
        String scenario = spec.scenario();
        Metrics reference = retrain.judgement();
        Report report = new Report("salun-spark benchmark: " + scenario, "benchmark.json");
        report.put("scenario", scenario);
        report.put("counts", RunReport.counts(spec, split, testCount));
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(row("original", original, reference, Double.NaN, retrain.seconds(), Double.NaN, Optional.empty()));
        rows.add(row("retrain", reference, reference, retrain.seconds(), retrain.seconds(), retrainLr, Optional.of(retrain)));
        for (MethodResult r : results) {
            if (r.best().isEmpty()) {
                Map<String, Object> failed = new LinkedHashMap<>();
                failed.put("method", r.method());
                failed.put("diverged", true);
                rows.add(failed);
            } else {
                Trial best = r.best().get();
                rows.add(row(r.method(), best.metrics(), reference, best.rte(), retrain.seconds(), best.lr(), best.outcome()));
            }
        }
        report.put("table", rows);
        List<Map<String, Object>> sweep = new ArrayList<>();
        for (MethodResult r : results) {
            for (Trial t : r.trials()) {
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
                s.put("chosen", r.best().map(b -> b == t).orElse(false));
                sweep.add(s);
            }
        }
        report.put("sweep", sweep);
        report.put("saliencySeconds", saliencySeconds);
        List<Map<String, Object>> layers = mask.map(m -> MaskLayers.fractions(m, theta0)).orElse(List.of());
        report.put("maskLayers", layers);
        provenance.addTo(report);

        List<List<String>> table = new ArrayList<>();
        table.add(List.of(scenario, "UA", "RA", "TA", "MIA-Efficacy", "Avg. Gap", "RTE (s)", "RTE / Retrain", "lr"));
        table.add(line("original", original, reference, Double.NaN, retrain.seconds(), Double.NaN));
        table.add(line("retrain", reference, reference, retrain.seconds(), retrain.seconds(), Double.NaN));
        Map<String, Metrics> shown = new LinkedHashMap<>();
        shown.put("original", original);
        shown.put("retrain", reference);
        Map<String, List<Double>> losses = new LinkedHashMap<>();
        for (MethodResult r : results) {
            if (r.best().isEmpty()) {
                table.add(List.of(r.method(), "diverged or changed nothing at every learning rate tried", "", "", "", "", "",
                        "", ""));
            } else {
                Trial best = r.best().get();
                table.add(line(r.method(), best.metrics(), reference, best.rte(), retrain.seconds(), best.lr()));
                shown.put(r.method(), best.metrics());
                List<Double> flat = new ArrayList<>();
                RunReport.lossRows(best.outcome().orElseThrow().losses(), flat);
                losses.put(r.method(), flat);
            }
        }
        report.table(table);
        if (Double.isFinite(original.forgottenClassTestAccuracy())) {
            StringBuilder note = new StringBuilder("Accuracy on the forgotten classes' test images: original ")
                    .append(Html.num(original.forgottenClassTestAccuracy())).append(", retrain ")
                    .append(Html.num(reference.forgottenClassTestAccuracy()));
            for (MethodResult r : results) {
                r.best().ifPresent(b -> note.append(", ").append(r.method()).append(' ')
                        .append(Html.num(b.metrics().forgottenClassTestAccuracy())));
            }
            report.paragraph(note.append('.').toString());
        }
        Map<String, List<Double>> bars = new LinkedHashMap<>();
        shown.forEach((name, m) -> bars.put(name, m.gapMetrics()));
        report.image(Charts.bars("Each metric vs Retrain (" + scenario + ")", "%", List.of("UA", "RA", "TA", "MIA-Efficacy"),
                bars), "metrics");
        List<String> names = new ArrayList<>();
        List<Double> gaps = new ArrayList<>();
        shown.forEach((name, m) -> {
            if (!name.equals("retrain")) {
                names.add(name);
                gaps.add(m.averageGap(reference));
            }
        });
        report.image(Charts.bars("Avg. Gap to Retrain (lower is better)", "points", "avg gap", names, gaps), "avg gap");
        if (!layers.isEmpty()) {
            report.image(MaskLayers.chart(layers), "mask per layer");
        }
        if (!losses.isEmpty()) {
            report.image(Charts.lines("Training loss per round of each method's chosen run", "round", "mean loss", losses), "loss");
        }
        return report;
    }

    private static Map<String, Object> row(String method, Metrics m, Metrics reference, double seconds,
                                           double retrainSeconds, double lr, Optional<TrialOutcome<Metrics>> outcome) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("method", method);
        r.putAll(RunReport.metrics(m));
        r.put("avgGap", m.averageGap(reference));
        if (Double.isFinite(seconds)) {
            r.put("rteSeconds", seconds);
            r.put("rteOverRetrain", seconds / retrainSeconds);
        }
        if (Double.isFinite(lr)) {
            r.put("lr", lr);
        }
        outcome.ifPresent(o -> r.put("lossPerRound", RunReport.lossRows(o.losses(), new ArrayList<>())));
        return r;
    }

    private static List<String> line(String name, Metrics m, Metrics reference, double seconds, double retrainSeconds,
                                     double lr) {
        return List.of(name, Html.num(m.ua()), Html.num(m.ra()), Html.num(m.ta()), Html.num(m.mia()),
                Html.num(m.averageGap(reference)),
                Double.isFinite(seconds) ? String.format(Locale.ROOT, "%.1f", seconds) : "–",
                Double.isFinite(seconds) ? String.format(Locale.ROOT, "%.3f", seconds / retrainSeconds) : "–",
                Double.isFinite(lr) ? String.valueOf(lr) : "–");
    }
}
