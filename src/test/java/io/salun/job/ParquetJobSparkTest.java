package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.report.OutputDir;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.spark.SliceTables;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job on data-lake input: the slice as Parquet tables (string IDs, PNG images), the deletion
 * list as CSV, the output committed with its {@code _SUCCESS} marker last.
 */
class ParquetJobSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path requests;

    @BeforeAll
    static void writeTablesAndTrain() throws Exception {
        spark = LocalSpark.start("parquet-job");
        SliceTables.writeSlice(spark, dir.resolve("train").toString(), dir.resolve("test").toString(), true);
        requests = dir.resolve("requests.csv");
        List<String> rows = new ArrayList<>(List.of("record_id,received"));
        for (int i = 0; i < 300; i += 3) {
            rows.add(SliceTables.stringId(i) + ",2026-11-01");
        }
        rows.add(SliceTables.stringId(3) + ",2026-11-02");    // a repeated request
        rows.add("fm-99999,2026-11-03");                      // a record that is not in the table
        Files.write(requests, rows);
        assertEquals(0, Main.run(args("train", "--train.epochs=4")));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.format=parquet", "--data.train=" + dir.resolve("train"), "--data.test=" + dir.resolve("test"),
                "--model.arch=mlp", "--model.path=" + dir.resolve("original.zip"), "--train.lr=0.05",
                "--forget.scenario=ids", "--forget.ids=" + requests, "--forget.ids.column=record_id"), more);
    }

    @Test
    void unknownIdsFailByDefaultAndAreCountedWhenIgnored() throws Exception {
        Path refused = dir.resolve("refused");
        assertEquals(Main.BAD_INPUT, Main.run(args("unlearn", "--output.dir=" + refused)));
        assertFalse(Files.exists(refused));
        assertFalse(Files.exists(dir.resolve(".refused.staging")));

        Path out = dir.resolve("ignored");
        assertEquals(0, Main.run(args("unlearn", "--forget.unknown-ids=ignore", "--unlearn.epochs=1", "--output.dir=" + out)));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(100, report.at("/counts/forget").asLong());     // 0, 3, .., 297: the repeat counts once
        assertEquals(2900, report.at("/counts/retain").asLong());
        assertEquals(1, report.at("/counts/unknownIds").asLong());
        assertEquals(1000, report.at("/counts/test").asLong());
        assertFalse(Files.readString(out.resolve("report.json")).contains("fm-0"), "a record ID reached the report");

        // the marker lists every other file with its size and SHA-256
        JsonNode marker = new ObjectMapper().readTree(out.resolve(OutputDir.SUCCESS).toFile());
        Set<String> listed = new TreeSet<>();
        for (JsonNode f : marker.get("files")) {
            Path file = out.resolve(f.get("path").asText());
            listed.add(f.get("path").asText());
            assertEquals(Files.size(file), f.get("bytes").asLong());
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))),
                    f.get("sha256").asText());
        }
        assertEquals(Set.of("manifest.json", "mask.bin", "model.zip", "report.html", "report.json"), listed);
    }
}
