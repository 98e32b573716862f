package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.model.ModelStore;
import io.salun.spark.ChildJvm;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.spark.LogCapture;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.Level;
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
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command that goes through the unlearning run resumes after a driver crash: a benchmark
 * and an unlearn-diffusion run, their driver JVM killed midway, rerun with the same settings,
 * end in the same bits as uninterrupted runs (unlearn's own case: {@link DriverCrashSparkTest}).
 */
class ResumeSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;

    @BeforeAll
    static void trainModels() {
        spark = LocalSpark.start("resume");
        assertEquals(0, Main.run(args("train", "--train.epochs=3")));
        assertEquals(0, Main.run(args("train-diffusion")));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(root)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--data.subset=1200", "--model.arch=mlp",
                "--model.path=" + dir.resolve("classifier.zip"), "--train.lr=0.05", "--train.epochs=3",
                "--diffusion.model=" + dir.resolve("ddpm.zip"), "--diffusion.width=48", "--diffusion.depth=2",
                "--diffusion.epochs=2", "--diffusion.batch=64", "--diffusion.local-steps=8", "--diffusion.forget-class=1",
                "--diffusion.sample.per-class=4", "--diffusion.sample.steps=6", "--diffusion.unlearn.epochs=4",
                "--diffusion.unlearn.lr=0.002", "--diffusion.unlearn.batch=16", "--diffusion.unlearn.local-steps=1",
                "--benchmark.scenarios=random10", "--benchmark.methods=ft,salun", "--benchmark.sweep=true",
                "--benchmark.salun.lr-grid=0.01,0.05", "--benchmark.ft.lr-grid=0.05", "--benchmark.salun.epochs=3",
                "--benchmark.ft.epochs=2", "--unlearn.batch=32"), more);
    }

    /** Runs {@code command} in a child JVM and kills it once a checkpoint file matching {@code due} exists. */
    private static void crashOnceCheckpointed(String[] command, Path checkpoints, Predicate<String> due, String name)
            throws Exception {
        Path log = dir.resolve(name + ".log");
        Process child = ChildJvm.start(command, log);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        boolean reached = false;
        while (!reached && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            reached = has(checkpoints, due);
        }
        child.destroyForcibly().waitFor();
        assertTrue(reached, "the run ended before the checkpoint it is killed at; log: " + Files.readString(log));
    }

    private static boolean has(Path folder, Predicate<String> name) throws IOException {
        if (!Files.isDirectory(folder)) {
            return false;
        }
        try (var files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).anyMatch(name);
        }
    }

    @Test
    void aKilledBenchmarkResumesToTheSameTable() throws Exception {
        Path whole = dir.resolve("bench-whole");
        assertEquals(0, Main.run(args("benchmark", "--benchmark.output=" + whole,
                "--benchmark.retrain-dir=" + dir.resolve("retrain-whole"))));

        Path crashed = dir.resolve("bench-crashed");
        Path checkpoints = crashed.resolve(".random10.checkpoint");
        // killed in the second SalUn trial: Retrain, FT and the first trial are whole by then. The run
        // has its own Retrain cache, removed after the crash, so the resumed run takes Retrain from its checkpoint
        Path retrainCache = dir.resolve("retrain-crashed");
        crashOnceCheckpointed(args("benchmark", "--benchmark.output=" + crashed, "--benchmark.retrain-dir=" + retrainCache),
                checkpoints,
                n -> n.startsWith("salun@0.05~salun.") && n.endsWith(".state"), "bench-first");
        assertFalse(Files.exists(crashed.resolve("random10")), "the killed run published a result");

        try (java.util.stream.Stream<Path> cached = Files.list(retrainCache)) {
            assertEquals(2, cached.filter(f -> f.getFileName().toString().startsWith("retrain-")).count());
        }
        deleteTree(retrainCache);
        int[] code = new int[1];
        List<String> log = LogCapture.during(Level.INFO, () -> code[0] = Main.run(args("benchmark",
                "--benchmark.output=" + crashed, "--benchmark.retrain-dir=" + retrainCache)));
        assertEquals(0, code[0], String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("saliency: resuming with the mask of the checkpoint")));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("retrain: resuming from the checkpoint")));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("salun: resuming from the checkpoint")));
        assertFalse(Files.exists(checkpoints), "checkpoints left behind after publishing");

        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(whole.resolve("random10/benchmark.json").toFile());
        JsonNode b = json.readTree(crashed.resolve("random10/benchmark.json").toFile());
        for (int row = 0; row < a.get("table").size(); row++) {
            for (String field : List.of("method", "UA", "RA", "TA", "MIA", "avgGap", "lr", "lossPerRound")) {
                assertEquals(a.get("table").get(row).get(field), b.get("table").get(row).get(field), "row " + row + " " + field);
            }
        }
        for (int t = 0; t < a.get("sweep").size(); t++) {
            assertEquals(a.get("sweep").get(t).get("metrics"), b.get("sweep").get(t).get("metrics"), "trial " + t);
        }
        assertEquals(a.get("maskLayers"), b.get("maskLayers"));
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + crashed.resolve("random10")}));
    }

    @Test
    void aKilledGenerationRunResumesToTheSameModel() throws Exception {
        Path whole = dir.resolve("gen-whole");
        assertEquals(0, Main.run(args("unlearn-diffusion", "--output.dir=" + whole)));

        Path crashed = dir.resolve("gen-crashed");
        Path checkpoints = dir.resolve(".gen-crashed.checkpoint");
        crashOnceCheckpointed(args("unlearn-diffusion", "--output.dir=" + crashed), checkpoints,
                n -> n.startsWith("salun-gen~salun-gen.") && n.endsWith(".state") && !n.endsWith("000000000001.state"),
                "gen-first");
        assertFalse(Files.exists(crashed), "the killed run published a result");
        assertTrue(Files.exists(checkpoints.resolve("mask.bin")));

        int[] code = new int[1];
        List<String> log = LogCapture.during(Level.INFO, () -> code[0] = Main.run(args("unlearn-diffusion",
                "--output.dir=" + crashed)));
        assertEquals(0, code[0], String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("saliency: resuming with the mask of the checkpoint")));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("salun-gen: resuming from the checkpoint")));
        assertFalse(Files.exists(checkpoints), "checkpoints left behind after publishing");

        assertArrayEquals(Files.readAllBytes(whole.resolve("mask.bin")), Files.readAllBytes(crashed.resolve("mask.bin")));
        Configuration conf = new Configuration();
        assertArrayEquals(ModelStore.load(whole.resolve("model.zip").toString(), "whole", conf).params().toFloatVector(),
                ModelStore.load(crashed.resolve("model.zip").toString(), "resumed", conf).params().toFloatVector());
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(whole.resolve("report.json").toFile());
        JsonNode b = json.readTree(crashed.resolve("report.json").toFile());
        assertEquals(a.get("original"), b.get("original"));
        for (String method : List.of("salun-gen", "rl-gen")) {
            for (String field : List.of("generationUA", "remainingAccuracy", "fidRemaining", "losses")) {
                assertEquals(a.at("/methods/" + method + "/" + field), b.at("/methods/" + method + "/" + field),
                        method + " " + field);
            }
        }
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + crashed}));
    }
}
