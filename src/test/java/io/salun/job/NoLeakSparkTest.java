package io.salun.job;

import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.spark.LogCapture;
import io.salun.spark.SliceTables;
import org.apache.logging.log4j.Level;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forget set's record IDs never reach a log line, at any level down to DEBUG and from any
 * logger (the job's, Spark's, Hadoop's, DL4J's), nor the report, the manifest or an error message —
 * on a run that succeeds and on one that refuses its deletion list.
 */
class NoLeakSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static final List<String> FORGOTTEN = new ArrayList<>();
    private static Path requests;

    @BeforeAll
    static void prepare() throws Exception {
        spark = LocalSpark.start("no-leak");
        SliceTables.writeSlice(spark, dir.resolve("train").toString(), dir.resolve("test").toString(), false);
        for (int i = 7; i < 3000; i += 31) {
            FORGOTTEN.add(SliceTables.stringId(i));
        }
        requests = dir.resolve("requests.txt");
        Files.write(requests, FORGOTTEN);
        assertEquals(0, Main.run(args("train", "--train.epochs=1")));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.format=parquet", "--data.train=" + dir.resolve("train"), "--data.test=" + dir.resolve("test"),
                "--model.arch=mlp", "--model.path=" + dir.resolve("original.zip"), "--forget.scenario=ids",
                "--forget.ids=" + requests, "--unlearn.epochs=1"), more);
    }

    @Test
    void noForgottenIdInAnyLogLineReportOrMessage() throws Exception {
        Path out = dir.resolve("out");
        Path bad = dir.resolve("unknown.txt");
        List<String> withUnknown = new ArrayList<>(FORGOTTEN);
        withUnknown.add("fm-77777");
        Files.write(bad, withUnknown);
        List<String> lines = LogCapture.during(Level.DEBUG, () -> {
            assertEquals(0, Main.run(args("unlearn", "--output.dir=" + out)));
            assertEquals(Main.BAD_INPUT, Main.run(args("unlearn", "--forget.ids=" + bad, "--output.dir=" + dir.resolve("refused"))));
        });
        assertTrue(lines.size() > 1000, "DEBUG logging was not captured: " + lines.size() + " lines");
        assertTrue(lines.stream().anyMatch(l -> l.contains("records to forget")), "the job's own INFO lines are missing");
        assertTrue(lines.stream().anyMatch(l -> l.contains("1 IDs of the deletion list match no training record")),
                "the refused run did not refuse for the unknown ID");
        List<String> texts = new ArrayList<>(lines);
        texts.add(Files.readString(out.resolve("report.json")));
        texts.add(Files.readString(out.resolve("manifest.json")));
        texts.add(Files.readString(out.resolve("report.html")));
        List<String> ids = new ArrayList<>(FORGOTTEN);
        ids.add("fm-77777");
        for (String text : texts) {
            for (String id : ids) {
                if (text.contains(id)) {
                    throw new AssertionError("record ID " + id + " leaked into: " + text.substring(0, Math.min(300, text.length())));
                }
            }
        }
    }
}
