package io.salun.job;

import io.salun.audit.ShadowModels;
import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.eval.MembershipLikelihood;
import io.salun.forget.ForgetSpec;
import io.salun.model.ModelStore;
import io.salun.model.Net;
import io.salun.report.Charts;
import io.salun.report.OutputDir;
import io.salun.report.Provenance;
import io.salun.report.Report;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code audit}: a per-example privacy audit of an unlearned model ({@code audit.model}) on the
 * forget set of the settings' scenario. {@code audit.shadows} shadow models, each trained from
 * scratch with the original recipe on the retain set and a seeded half of the forget set, one per Spark task
 * ({@link ShadowModels}), give every forget record the logit-scaled confidence of models that did
 * and did not train on it; the audited model's records are scored against both
 * ({@link MembershipLikelihood}) and the rate that looks trained on is compared with what models
 * that never saw them show. Shadows are cached by the training settings, the original's
 * configuration and the forget set, so auditing a second method on the same forget set reuses them. Publishes
 * {@code report.json}, {@code report.html}, {@code manifest.json} and {@code _SUCCESS}.
 */
public final class AuditCommand {
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");
    private static final int BINS = 30;
    private static final double SCORE_RANGE = 15;

    private AuditCommand() {
    }

    public static String run(JavaSparkContext sc, Settings settings) {
        Instant started = Instant.now();
        String audited = settings.get(JobSettings.AUDIT_MODEL).orElseThrow(() -> new InvalidInputException(
                "audit.model: the audit needs the unlearned model to check (a model.zip), found none"));
        int k = settings.get(JobSettings.AUDIT_SHADOWS);
        if (k % 2 != 0) {
            throw new InvalidInputException("audit.shadows: shadows train in complementary pairs; expected an even number"
                    + " >= 4, found " + k);
        }
        ForgetSpec spec = RunSetup.forgetSpec(settings);
        String output = settings.get(JobSettings.OUTPUT_DIR).orElseGet(() ->
                RunSetup.defaultOutput("audits", spec.scenario() + "-", started));
        try (OutputDir out = RunSetup.openOutput(sc, settings, output, "audit")) {
            return RunSetup.classification(sc, settings, "audit", output, spec, false, c -> {
                Net target = ModelStore.loadNet(audited, "audit.model", sc.hadoopConfiguration());
                if (target.numParams() != c.original().numParams() || !target.config().layers().stream()
                        .map(l -> l.getLayer().getClass()).toList().equals(c.original().config().layers().stream()
                                .map(l -> l.getLayer().getClass()).toList())) {
                    throw new InvalidInputException("audit.model: " + audited + " is not a model of the original's"
                            + " architecture (" + target.numParams() + " parameters, expected " + c.original().numParams() + ")");
                }
                PrivacyAudit audit = PrivacyAudit.prepare(sc, settings, c, k, settings.get(JobSettings.AUDIT_SHADOW_DIR));
                PrivacyAudit.Result of = audit.of(target);
                PrivacyAudit.Result originalOf = audit.of(c.original());
                MembershipLikelihood.Calibration cal = audit.calibration();
                Report report = report(spec, audited, k, audit.forgetRecords(), of.scores(), of.rate(), originalOf.scores(),
                        originalOf.rate(), cal, Provenance.of(settings, sc, started));
                out.writeReport(report);
                c.manifest().put("audited", audited);
                out.writeManifest(c.manifest());
                out.publish();
                CONSOLE.info("");
                CONSOLE.info("{}", report.get("verdict"));
                CONSOLE.info("report: {}", out.published("report.json"));
                return out.uri();
            });
        }
    }

    private static Report report(ForgetSpec spec, String audited, int k, int n, double[] scores, double rate,
                                 double[] original, double originalRate, MembershipLikelihood.Calibration cal,
                                 Provenance provenance) {
        double fpr = cal.falsePositiveRate();
        double tpr = cal.truePositiveRate();
        boolean same = PrivacyAudit.indistinguishable(rate, n, cal);
        String verdict = String.format(java.util.Locale.ROOT, "Per-example audit (%d shadow models, %d forget records):"
                + " %.1f%% of the forget records look trained on (%.1f%% for the original model), against %.1f%% for models"
                + " that never saw them and %.1f%% for models that trained on them: %s.", k, n, 100 * rate,
                100 * originalRate, 100 * fpr, 100 * tpr, same ? "indistinguishable from retraining at the 5% level"
                        : rate > fpr ? "distinguishable from retraining: the model still carries its forget set"
                        : "distinguishable from retraining: the forget set looks less trained on than unseen data would"
                        + " (the unlearning went too far)");
        Report report = new Report("Privacy audit: " + spec.scenario());
        report.put("scenario", spec.scenario());
        report.put("audited", audited);
        report.put("shadows", k);
        report.put("forgetRecords", n);
        Map<String, Object> rates = new LinkedHashMap<>();
        rates.put("audited", rate);
        rates.put("original", originalRate);
        rates.put("neverSeen", fpr);
        rates.put("trainedOn", tpr);
        report.put("looksTrainedOn", rates);
        report.put("indistinguishable", same);
        report.put("verdict", verdict);
        List<Double> centers = new ArrayList<>();
        for (int b = 0; b < BINS; b++) {
            centers.add(-SCORE_RANGE + (b + 0.5) * 2 * SCORE_RANGE / BINS);
        }
        report.put("scoreBinCenters", centers);
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("audited model", fractions(scores));
        series.put("original model", fractions(original));
        series.put("never saw them (calibration)", fractions(cal.outScores()));
        series.put("trained on them (calibration)", fractions(cal.inScores()));
        report.put("scoreHistograms", series);
        report.put("scores", scores);
        provenance.addTo(report);
        report.paragraph(verdict);
        report.table(List.of(List.of("models", "forget records that look trained on"),
                List.of("audited", String.format(java.util.Locale.ROOT, "%.2f %%", 100 * rate)),
                List.of("original", String.format(java.util.Locale.ROOT, "%.2f %%", 100 * originalRate)),
                List.of("shadows that never saw them", String.format(java.util.Locale.ROOT, "%.2f %%", 100 * fpr)),
                List.of("shadows that trained on them", String.format(java.util.Locale.ROOT, "%.2f %%", 100 * tpr))));
        report.image(Charts.lines("Per-example log-likelihood ratio, trained on vs never saw (fraction of records per bin)",
                "score (> 0: looks trained on)", "fraction", series), "per-example scores");
        return report;
    }

    private static List<Double> fractions(double[] scores) {
        long[] h = MembershipLikelihood.histogram(scores, -SCORE_RANGE, SCORE_RANGE, BINS);
        List<Double> out = new ArrayList<>();
        for (long c : h) {
            out.add(scores.length == 0 ? 0 : (double) c / scores.length);
        }
        return out;
    }
}
