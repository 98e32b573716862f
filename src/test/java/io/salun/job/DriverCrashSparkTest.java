package io.salun.job;

import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A driver killed in the middle of unlearning (its JVM destroyed, as an OOM killer or a lost node
 * would), then rerun with the same command: the rerun resumes from the last checkpoint and
 * publishes the same model and mask, bit for bit, as a run that was never interrupted.
 */
class DriverCrashSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void train() {
        spark = LocalSpark.start("driver-crash");
        model = dir.resolve("original.zip");
        assertEquals(0, Main.run(args("train", "--train.epochs=2")));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + model,
                "--train.lr=0.05", "--forget.scenario=class", "--forget.classes=3", "--unlearn.epochs=4",
                "--unlearn.batch=32", "--unlearn.lr=0.02"), more);
    }

    @Test
    void killedDriverResumesToTheSameBits() throws Exception {
        Path whole = dir.resolve("whole");
        assertEquals(0, Main.run(args("unlearn", "--output.dir=" + whole)));

        Path out = dir.resolve("crashed");
        Path checkpoints = dir.resolve(".crashed.checkpoint");
        Process first = child(args("unlearn", "--output.dir=" + out), dir.resolve("first.log"));
        long rounds = 0;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (rounds < 10 && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            rounds = latestRound(checkpoints);
        }
        first.destroyForcibly().waitFor();
        assertTrue(rounds >= 10, "the first run ended before its 10th round was checkpointed; log: "
                + Files.readString(dir.resolve("first.log")));
        assertFalse(Files.exists(out), "the killed run published a result");
        assertTrue(Files.exists(checkpoints.resolve("mask.bin")));

        Process second = child(args("unlearn", "--output.dir=" + out), dir.resolve("second.log"));
        assertTrue(second.waitFor(5, TimeUnit.MINUTES));
        String log = Files.readString(dir.resolve("second.log"));
        assertEquals(0, second.exitValue(), log);
        assertTrue(log.contains("saliency: resuming with the mask of the checkpoint"), log);
        assertTrue(log.contains("salun: resuming from the checkpoint after epoch"), log);
        assertFalse(Files.exists(checkpoints), "checkpoints left behind after publishing");

        Configuration conf = new Configuration();
        assertEquals(MaskFile.read(whole.resolve("mask.bin").toString(), conf),
                MaskFile.read(out.resolve("mask.bin").toString(), conf));
        assertArrayEquals(ModelStore.load(whole.resolve("model.zip").toString(), "whole", conf).params().toFloatVector(),
                ModelStore.load(out.resolve("model.zip").toString(), "resumed", conf).params().toFloatVector());
    }

    /** The highest round count among the saved states, 0 if none (yet). */
    private static long latestRound(Path checkpoints) throws IOException {
        if (!Files.isDirectory(checkpoints)) {
            return 0;
        }
        long max = 0;
        try (var files = Files.list(checkpoints)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith("salun.") && n.endsWith(".state")) {
                    max = Math.max(max, Long.parseLong(n.substring(6, n.length() - 6)));
                }
            }
        }
        return max;
    }

    private static Process child(String[] jobArgs, Path log) throws IOException {
        return io.salun.spark.ChildJvm.start(jobArgs, log);
    }
}
