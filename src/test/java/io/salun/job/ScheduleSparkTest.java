package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scheduled runs over a deletion log that grows: each slot forgets only the requests newer than
 * the last slot's watermark, starting from the last unlearned model and leaving earlier requests'
 * records out; a slot already done is a no-op; a slot without new requests changes nothing.
 */
class ScheduleSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path log;
    private static Path schedule;

    @BeforeAll
    static void train() {
        spark = LocalSpark.start("schedule");
        log = dir.resolve("deletion-log.csv");
        schedule = dir.resolve("schedule");
        assertEquals(0, Main.run(args("train", "--train.epochs=2")));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp",
                "--model.path=" + dir.resolve("original.zip"), "--forget.scenario=ids", "--forget.ids=" + log,
                "--forget.ids.column=record", "--forget.ids.time-column=requested_at", "--unlearn.epochs=1",
                "--schedule.dir=" + schedule), more);
    }

    private static void append(int from, int to, String day) throws Exception {
        List<String> rows = new ArrayList<>();
        if (!Files.exists(log)) {
            rows.add("record,requested_at");
        }
        for (int i = from; i < to; i++) {
            rows.add(i * 7 + "," + day + "T" + String.format("%02d", i % 24) + ":00:00Z");
        }
        Files.write(log, rows, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Test
    void eachSlotForgetsOnlyNewRequestsFromTheLastModel() throws Exception {
        ObjectMapper json = new ObjectMapper();
        append(0, 40, "2026-11-01");
        assertEquals(0, Main.run(args("unlearn", "--schedule.slot=2026-11-02")));
        Path first = schedule.resolve("runs/2026-11-02");
        JsonNode report1 = json.readTree(first.resolve("report.json").toFile());
        assertEquals(40, report1.at("/counts/forget").asLong());
        assertEquals(2960, report1.at("/counts/retain").asLong());
        assertEquals(0, report1.at("/counts/excludedEarlier").asLong());
        byte[] firstModel = Files.readAllBytes(first.resolve("model.zip"));

        // the same slot again: nothing runs, nothing changes
        String stateBefore = Files.readString(schedule.resolve("schedule.json"));
        assertEquals(0, Main.run(args("unlearn", "--schedule.slot=2026-11-02")));
        assertEquals(stateBefore, Files.readString(schedule.resolve("schedule.json")));
        assertArrayEquals(firstModel, Files.readAllBytes(first.resolve("model.zip")));

        // 25 new requests (one repeats an old one): only they are forgotten, from the first slot's model
        append(40, 64, "2026-11-05");
        append(3, 4, "2026-11-05");
        assertEquals(0, Main.run(args("unlearn", "--schedule.slot=2026-11-09")));
        Path second = schedule.resolve("runs/2026-11-09");
        JsonNode report2 = json.readTree(second.resolve("report.json").toFile());
        assertEquals(24, report2.at("/counts/forget").asLong());
        assertEquals(40, report2.at("/counts/excludedEarlier").asLong());
        assertEquals(3000 - 40 - 24, report2.at("/counts/retain").asLong());
        JsonNode manifest2 = json.readTree(second.resolve("manifest.json").toFile());
        assertEquals(first.resolve("model.zip").toString(), manifest2.at("/inputs/originalModel/uri").asText());
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + second}));

        // no new requests: the slot is recorded, nothing is published, the model stays the second one
        assertEquals(0, Main.run(args("unlearn", "--schedule.slot=2026-11-16")));
        assertFalse(Files.exists(schedule.resolve("runs/2026-11-16")));
        JsonNode state = json.readTree(schedule.resolve("schedule.json").toFile());
        assertEquals(3, state.get("slots").size());
        JsonNode last = state.get("slots").get(2);
        assertEquals(0, last.get("requests").asLong());
        assertEquals(second.resolve("model.zip").toString(), last.get("model").asText());
        assertEquals(state.get("slots").get(1).get("watermarkMicros"), last.get("watermarkMicros"));
        assertTrue(state.get("slots").get(1).get("watermarkMicros").asLong()
                > state.get("slots").get(0).get("watermarkMicros").asLong());
    }
}
