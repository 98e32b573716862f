package io.salun.report;

import io.salun.config.Settings;
import org.apache.spark.api.java.JavaSparkContext;

import java.time.Instant;
import java.util.Map;
import java.util.SortedMap;

/**
 * What every report and manifest records of its run, so the run can be reproduced and audited:
 * every setting with its value and their SHA-256, the versions, the Spark application and master,
 * the start time (the end time is taken when it is written).
 */
public record Provenance(SortedMap<String, String> settings, String settingsSha256, String sparkApplicationId,
                         String sparkMaster, Instant started) {

    public static Provenance of(Settings settings, JavaSparkContext sc, Instant started) {
        return new Provenance(settings.effective(), settings.sha256(), sc.sc().applicationId(), sc.master(), started);
    }

    /** Adds the provenance fields, and the time now as {@code finished}, to {@code report}. */
    public void addTo(Report report) {
        report.put("settings", settings);
        report.put("settingsSha256", settingsSha256);
        report.put("versions", BuildInfo.versions());
        report.put("sparkApplicationId", sparkApplicationId);
        report.put("sparkMaster", sparkMaster);
        report.put("started", started.toString());
        report.put("finished", Instant.now().toString());
    }

    /** As {@link #addTo(Report)}, to a plain JSON map (the bench's). */
    public void addTo(Map<String, Object> json) {
        Report r = new Report("");
        addTo(r);
        json.putAll(r.fields());
    }
}
