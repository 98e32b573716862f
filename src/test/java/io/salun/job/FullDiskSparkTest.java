package io.salun.job;

import io.salun.spark.FillingFileSystem;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.spark.LogCapture;
import org.apache.logging.log4j.Level;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A disk that fills while the job writes to it ({@link FillingFileSystem}: Hadoop's local file
 * system with a capacity, failing as it does on a full disk). The job stops with exit 1 and one
 * ERROR line naming the setting, the file and the cause; nothing half-written is left, only whole
 * checkpoint files; and once there is space again, the rerun resumes from them.
 */
class FullDiskSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void train() {
        spark = SparkSession.builder().master("local[2]").appName("full-disk").config("spark.ui.enabled", "false")
                .config("spark.hadoop.fs.filling.impl", FillingFileSystem.class.getName())
                .config("spark.hadoop.fs.filling.impl.disable.cache", "false").getOrCreate();
        model = dir.resolve("original.zip");
        assertEquals(0, Main.run(args("train", "--train.epochs=1")));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + model,
                "--forget.scenario=class", "--forget.classes=3", "--unlearn.epochs=1", "--unlearn.lr=0.02"), more);
    }

    private static String run(String... args) {
        int[] code = new int[1];
        List<String> errors = LogCapture.during(Level.ERROR, () -> code[0] = Main.run(args));
        String log = String.join("\n", errors);
        assertEquals(Main.FAILED, code[0], log);
        // LogCapture sees an event once per logger configuration it passes: one distinct line, no stack trace
        List<String> distinct = log.lines().distinct().toList();
        assertEquals(1, distinct.size(), "one ERROR line, no stack trace: " + log);
        return distinct.get(0);
    }

    @Test
    void aCheckpointThatDoesNotFitStopsTheRunAndLeavesOnlyWholeFiles() throws Exception {
        // room for the fingerprint and the saliency mask (12.7 KB twice), not for a training state (~0.8 MB)
        FillingFileSystem.capacity("disk-a", 60_000);
        Path folder = Files.createDirectories(dir.resolve("disk-a"));
        String out = "filling://disk-a" + folder.resolve("out");
        String log = run(args("unlearn", "--output.dir=" + out));
        assertTrue(log.startsWith("checkpoint.dir: could not write the checkpoint filling://disk-a" + folder
                + "/.out.checkpoint/salun."), log);
        assertTrue(log.contains(": No space left on device; the run stopped"), log);

        Path checkpoints = folder.resolve(".out.checkpoint");
        try (Stream<Path> kept = Files.list(checkpoints)) {
            assertEquals(List.of("fingerprint", "mask.bin"), kept.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (Stream<Path> left = Files.list(folder)) {
            assertEquals(List.of(".out.checkpoint"), left.map(p -> p.getFileName().toString()).toList(),
                    "staging folder, output or lease left behind");
        }
        // the partial state was removed: what is used is exactly what is kept
        long kept = Files.size(checkpoints.resolve("fingerprint")) + Files.size(checkpoints.resolve("mask.bin"));
        assertEquals(60_000 - kept, FillingFileSystem.free("disk-a"));

        // space freed: the rerun resumes with the kept mask and publishes
        FillingFileSystem.capacity("disk-a", 100_000_000);
        int[] code = new int[1];
        List<String> info = LogCapture.during(Level.INFO, () -> code[0] = Main.run(args("unlearn", "--output.dir=" + out)));
        assertEquals(0, code[0], String.join("\n", info));
        assertTrue(info.stream().anyMatch(l -> l.startsWith("saliency: resuming with the mask of the checkpoint")));
        assertTrue(Files.isRegularFile(folder.resolve("out/_SUCCESS")));
        assertFalse(Files.exists(checkpoints));
    }

    @Test
    void aModelThatDoesNotFitLeavesNoOutputAtAll() throws Exception {
        // room for mask.bin (12.7 KB), not for model.zip
        FillingFileSystem.capacity("disk-b", 30_000);
        Path folder = Files.createDirectories(dir.resolve("disk-b"));
        String out = "filling://disk-b" + folder.resolve("out");
        String log = run(args("unlearn", "--checkpoint.rounds=0", "--output.dir=" + out));
        assertEquals("output.dir: could not write filling://disk-b" + folder + "/.out.staging/model.zip:"
                + " No space left on device", log);
        try (Stream<Path> left = Files.list(folder)) {
            assertEquals(List.of(), left.toList(), "something left behind");
        }
        assertEquals(30_000, FillingFileSystem.free("disk-b"));
    }
}
