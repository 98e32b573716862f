package io.salun.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.config.StorageException;
import io.salun.forget.DeletionList;
import io.salun.forget.ForgetSpec;
import io.salun.report.OutputLease;
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
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

/**
 * Scheduled runs over a deletion log that grows: {@code schedule.dir} holds one published result
 * per schedule slot ({@code runs/<slot>/}) and {@code schedule.json}, the slots done so far with
 * the watermark (the latest request time processed) and the model each left. A slot forgets only
 * the requests after the last watermark, starting from the last unlearned model, with the records
 * of earlier requests left out of the training set; a slot already done is a no-op.
 *
 * <p>{@link #open} reads the state and works out the slot's window; the unlearn command runs it as
 * any other unlearning run; {@link Slot#record} appends the slot to the state.
 */
final class Schedule {
    private static final Logger LOG = LoggerFactory.getLogger(Schedule.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");
    static final String STATE = "schedule.json";

    private Schedule() {
    }

    /**
     * One slot of the schedule, holding {@code schedule.dir}'s lease until closed: one scheduled
     * run at a time, since two slots run together would each append to schedule.json and one
     * entry would be lost.
     */
    static final class Slot implements AutoCloseable {
        private final OutputLease lease;
        private final FileSystem fs;
        private final Path statePath;
        private final ObjectNode state;
        private final String name;
        private final Optional<String> doneOutput;
        private final boolean done;
        private final Optional<ForgetSpec> window;
        private final Settings settings;
        private final String model;
        private final long upTo;
        private final long requests;
        private final OptionalLong after;

        private Slot(OutputLease lease, FileSystem fs, Path statePath, ObjectNode state, String name, boolean done,
                     Optional<String> doneOutput, Optional<ForgetSpec> window, Settings settings, String model, long upTo,
                     long requests, OptionalLong after) {
            this.lease = lease;
            this.fs = fs;
            this.statePath = statePath;
            this.state = state;
            this.name = name;
            this.done = done;
            this.doneOutput = doneOutput;
            this.window = window;
            this.settings = settings;
            this.model = model;
            this.upTo = upTo;
            this.requests = requests;
            this.after = after;
        }

        /** Whether the slot was done by an earlier run (nothing to do now). */
        boolean done() {
            return done;
        }

        /** A slot done before: the folder it published, if it had requests. */
        Optional<String> output() {
            return doneOutput;
        }

        /** The slot's requests as a forget set, or empty when there are none after the watermark. */
        Optional<ForgetSpec> window() {
            return window;
        }

        /** The settings of the slot's run: model.path the last slot's model, output.dir the slot's folder. */
        Settings settings() {
            return settings;
        }

        /** Appends the slot (with the folder it published, if any) to schedule.json. */
        void record(Optional<String> output) {
            ObjectNode entry = state.objectNode();
            entry.put("slot", name);
            if (output.isEmpty()) {
                CONSOLE.info("schedule slot {}: no deletion requests after {}; nothing to unlearn", name,
                        after.isPresent() ? java.time.Instant.EPOCH.plusNanos(after.getAsLong() * 1000) : "the start");
                entry.put("watermarkMicros", after.orElse(Long.MIN_VALUE));
                entry.put("model", model);
                entry.putNull("output");
                entry.put("requests", 0);
            } else {
                entry.put("watermarkMicros", upTo);
                entry.put("model", new Path(output.get(), "model.zip").toString());
                entry.put("output", output.get());
                entry.put("requests", requests);
            }
            entry.put("finished", java.time.Instant.now().toString());
            ((ArrayNode) state.get("slots")).add(entry);
            lease.check();
            write(fs, statePath, state);
        }

        @Override
        public void close() {
            lease.close();
        }
    }

    /** Takes schedule.dir's lease, reads its state and works out the window of the slot {@code settings} name. */
    static Slot open(JavaSparkContext sc, Settings settings) {
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
        ForgetSpec.Ids log = RunSetup.deletionList(settings).filter(ids -> ids.timeColumn().isPresent()
                && settings.get(JobSettings.FORGET_SCENARIO).equals("ids")).orElseThrow(() -> new InvalidInputException(
                "schedule.dir: a scheduled run reads a growing deletion log: set forget.scenario=ids, forget.ids"
                        + " (CSV or Parquet) and forget.ids.time-column"));
        OutputLease lease = OutputLease.acquire("schedule.dir", new Path(dir),
                "unlearn slot " + slot + " of Spark application " + sc.sc().applicationId(),
                java.time.Duration.ofSeconds(settings.get(JobSettings.OUTPUT_LEASE_TIMEOUT)), sc.hadoopConfiguration());
        try {
            return slot(sc, settings, dir, slot, log, lease);
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    private static Slot slot(JavaSparkContext sc, Settings settings, String dir, String slot, ForgetSpec.Ids log,
                             OutputLease lease) {
        FileSystem fs;
        Path statePath = new Path(dir, STATE);
        ObjectNode state;
        ObjectMapper json = new ObjectMapper();
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
                Optional<String> output = done.hasNonNull("output") ? Optional.of(done.get("output").asText()) : Optional.empty();
                return new Slot(lease, fs, statePath, state, slot, true, output, Optional.empty(), settings, "", 0, 0,
                        OptionalLong.empty());
            }
        }
        OptionalLong after = slots.isEmpty() ? OptionalLong.empty()
                : OptionalLong.of(slots.get(slots.size() - 1).get("watermarkMicros").asLong());
        String model = slots.isEmpty() ? ModelPaths.original(settings) : slots.get(slots.size() - 1).get("model").asText();

        // the window of this run: requests after the watermark, up to the newest one there is now
        SparkSession spark = SparkSession.builder().config(sc.getConf()).getOrCreate();
        Dataset<Row> requests = DeletionList.read(spark, log, DataTypes.StringType);
        if (after.isPresent()) {
            requests = requests.filter(col("micros").gt(after.getAsLong()));
        }
        Row newest = requests.agg(max(col("micros")), org.apache.spark.sql.functions.count(col("id"))).first();
        long fresh = newest.getLong(1);
        if (fresh == 0) {
            return new Slot(lease, fs, statePath, state, slot, false, Optional.empty(), Optional.empty(), settings, model, 0,
                    0, after);
        }
        long upTo = newest.getLong(0);
        LOG.info("schedule slot {}: {} requests after the watermark, starting from {}", slot, fresh, model);
        Map<String, String> overrides = new LinkedHashMap<>(settings.effective());
        overrides.put(JobSettings.MODEL_PATH.key(), model);
        overrides.put(JobSettings.OUTPUT_DIR.key(), new Path(new Path(dir, "runs"), slot).toString());
        Settings run = Settings.load(JobSettings.ALL, new Properties(), overrides);
        return new Slot(lease, fs, statePath, state, slot, false, Optional.empty(), Optional.of(log.window(after, upTo)), run,
                model, upTo, fresh, after);
    }

    /** Replaces the state file: written beside it, then renamed over it. */
    private static void write(FileSystem fs, Path statePath, ObjectNode state) {
        Path next = new Path(statePath.getParent(), "." + STATE + ".next");
        try {
            try (FSDataOutputStream out = fs.create(next, true)) {
                out.write(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(state)
                        .getBytes(StandardCharsets.UTF_8));
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
            throw new StorageException("schedule.dir: could not write " + statePath + ": " + StorageException.reason(e), e);
        }
    }
}
