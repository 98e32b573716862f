package io.salun.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.forget.DeletionList;
import io.salun.forget.ForgetSpec;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

/**
 * Scheduled runs over a deletion log that grows: {@code schedule.dir} holds one published result
 * per schedule slot ({@code runs/<slot>/}) and {@code schedule.json}, the slots done so far with
 * the watermark (the latest request time processed) and the model each left. A run forgets only
 * the requests after the last watermark, starting from the last unlearned model, with the records
 * of earlier requests left out of the training set; a slot already done is a no-op.
 */
final class Schedule {
    private static final Logger LOG = LoggerFactory.getLogger(Schedule.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");
    static final String STATE = "schedule.json";

    private Schedule() {
    }

    /** Runs the slot of {@code settings}; returns the slot's result folder (published now or before). */
    static String run(JavaSparkContext sc, Settings settings) {
        String dir = settings.get(JobSettings.SCHEDULE_DIR).orElseThrow();
        String slot = settings.get(JobSettings.SCHEDULE_SLOT).orElseThrow(() -> new InvalidInputException(
                "schedule.slot: a scheduled run needs the name of its slot (e.g. the schedule's date, 2026-11-27),"
                        + " found none"));
        if (!slot.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new InvalidInputException("schedule.slot: expected letters, digits, '.', '_' or '-', found '" + slot + "'");
        }
        if (settings.get(JobSettings.OUTPUT_DIR).isPresent()) {
            throw new InvalidInputException("output.dir: a scheduled run publishes to schedule.dir/runs/<slot>;"
                    + " leave output.dir empty, found " + settings.get(JobSettings.OUTPUT_DIR).get());
        }
        ForgetSpec.Ids log = UnlearnCommand.deletionList(settings).filter(ids -> ids.timeColumn().isPresent()
                && settings.get(JobSettings.FORGET_SCENARIO).equals("ids")).orElseThrow(() -> new InvalidInputException(
                "schedule.dir: a scheduled run reads a growing deletion log: set forget.scenario=ids, forget.ids"
                        + " (CSV or Parquet) and forget.ids.time-column"));
        // one scheduled run at a time: two slots run together would each append to schedule.json and one entry would be lost
        try (io.salun.report.OutputLease lease = io.salun.report.OutputLease.acquire("schedule.dir", new Path(dir),
                "unlearn slot " + slot + " of Spark application " + sc.sc().applicationId(),
                java.time.Duration.ofSeconds(settings.get(JobSettings.OUTPUT_LEASE_TIMEOUT)), sc.hadoopConfiguration())) {
            return runSlot(sc, settings, dir, slot, log, lease);
        }
    }

    private static String runSlot(JavaSparkContext sc, Settings settings, String dir, String slot, ForgetSpec.Ids log,
                                  io.salun.report.OutputLease lease) {
        FileSystem fs;
        Path statePath = new Path(dir, STATE);
        ObjectNode state;
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        try {
            fs = statePath.getFileSystem(sc.hadoopConfiguration());
            Path next = new Path(statePath.getParent(), "." + STATE + ".next");
            if (!fs.exists(statePath) && fs.exists(next)) {
                // a run stopped between removing the old state and renaming the new, whole one into place
                LOG.warn("schedule.dir: {} is missing but its completed replacement {} is there; using it", statePath, next);
                fs.rename(next, statePath);
            }
            if (fs.exists(statePath)) {
                try (InputStream in = fs.open(statePath)) {
                    state = (ObjectNode) json.readTree(in);
                }
            } else {
                state = json.createObjectNode();
                state.putArray("slots");
            }
        } catch (IOException | ClassCastException e) {
            throw new InvalidInputException("schedule.dir: cannot read " + statePath + ": " + e.getMessage(), e);
        }
        ArrayNode slots = (ArrayNode) state.get("slots");
        for (var done : slots) {
            if (done.get("slot").asText().equals(slot)) {
                CONSOLE.info("schedule slot {} is already done ({}): nothing to do", slot,
                        done.hasNonNull("output") ? "published " + done.get("output").asText() : "no new requests");
                return done.hasNonNull("output") ? done.get("output").asText() : null;
            }
        }
        OptionalLong after = slots.isEmpty() ? OptionalLong.empty() : OptionalLong.of(slots.get(slots.size() - 1).get("watermarkMicros").asLong());
        String model = slots.isEmpty() ? ModelPaths.original(settings) : slots.get(slots.size() - 1).get("model").asText();

        // the window of this run: requests after the watermark, up to the newest one there is now
        SparkSession spark = SparkSession.builder().config(sc.getConf()).getOrCreate();
        Dataset<Row> requests = DeletionList.read(spark, log, DataTypes.StringType);
        if (after.isPresent()) {
            requests = requests.filter(col("micros").gt(after.getAsLong()));
        }
        Row newest = requests.agg(max(col("micros")), org.apache.spark.sql.functions.count(col("id"))).first();
        long fresh = newest.getLong(1);
        String output = new Path(new Path(dir, "runs"), slot).toString();
        ObjectNode entry = json.createObjectNode();
        entry.put("slot", slot);
        if (fresh == 0) {
            CONSOLE.info("schedule slot {}: no deletion requests after {}; nothing to unlearn", slot,
                    after.isPresent() ? java.time.Instant.EPOCH.plusNanos(after.getAsLong() * 1000) : "the start");
            entry.put("watermarkMicros", after.orElse(Long.MIN_VALUE));
            entry.put("model", model);
            entry.putNull("output");
            entry.put("requests", 0);
        } else {
            long upTo = newest.getLong(0);
            LOG.info("schedule slot {}: {} requests after the watermark, starting from {}", slot, fresh, model);
            Map<String, String> overrides = new LinkedHashMap<>(settings.effective());
            overrides.put(JobSettings.MODEL_PATH.key(), model);
            overrides.put(JobSettings.OUTPUT_DIR.key(), output);
            Settings run = Settings.load(JobSettings.ALL, new Properties(), overrides);
            UnlearnCommand.run(sc, run, log.window(after, upTo));
            entry.put("watermarkMicros", upTo);
            entry.put("model", new Path(output, "model.zip").toString());
            entry.put("output", output);
            entry.put("requests", fresh);
        }
        entry.put("finished", java.time.Instant.now().toString());
        slots.add(entry);
        lease.check();
        write(fs, statePath, json, state);
        return fresh == 0 ? null : output;
    }

    /** Replaces the state file: written beside it, then renamed over it. */
    private static void write(FileSystem fs, Path statePath, ObjectMapper json, ObjectNode state) {
        Path next = new Path(statePath.getParent(), "." + STATE + ".next");
        try {
            try (FSDataOutputStream out = fs.create(next, true)) {
                out.write(json.writeValueAsString(state).getBytes(StandardCharsets.UTF_8));
            }
            if (fs.exists(statePath)) {
                fs.delete(statePath, false);
            }
            if (!fs.rename(next, statePath)) {
                throw new IOException("rename of " + next + " to " + statePath + " failed");
            }
        } catch (IOException | org.apache.hadoop.fs.FSError e) {
            try {
                if (fs.exists(statePath)) {
                    fs.delete(next, false); // a partial replacement; the old state is still in place
                }
            } catch (IOException ignored) {
                // the write's failure is the one to report
            }
            throw new io.salun.config.StorageException("schedule.dir: could not write " + statePath + ": "
                    + io.salun.config.StorageException.reason(e), e);
        }
    }
}
