package io.salun.cluster;

import io.salun.spark.LocalSpark;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job jar as users run it, each run its own driver JVM (Spark's jars plus the job jar, as
 * {@code spark-submit} would give it): two runs on one {@code output.dir} at the same time (the
 * second is refused at once, naming the other, and the first publishes a complete result that
 * {@code verify} accepts), and a bad input found inside a Spark task under the shipped logging
 * configuration (one clean ERROR line, no executor stack traces).
 */
class ConcurrentRunsIT {
    @TempDir
    static Path dir;
    private static Path model;

    @BeforeAll
    static void train() throws Exception {
        model = dir.resolve("original.zip");
        Process train = job(List.of("train", "--train.epochs=2"), dir.resolve("train.log"), false);
        assertTrue(train.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, train.exitValue(), Files.readString(dir.resolve("train.log")));
    }

    private static List<String> common() {
        return List.of("--spark.master=local[1]", "--spark.partitions=2", "--data.dir=" + LocalSpark.fashionMnistSlice(),
                "--model.arch=mlp", "--model.path=" + model, "--train.lr=0.05", "--forget.scenario=class",
                "--forget.classes=3", "--unlearn.lr=0.02");
    }

    /** The job in its own JVM from the job jar and Spark's jars; output to {@code log}. */
    private static Process job(List<String> args, Path log, boolean shippedLogging) throws IOException {
        Path sparkHome = Path.of(System.getProperty("salun.spark.home"));
        Path jar = Path.of(System.getProperty("salun.job.jar"));
        assertTrue(Files.isRegularFile(jar), "job jar missing: " + jar);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("salun.jvm.opens").trim().split("\\s+")));
        command.add("-Xmx1500m");
        if (shippedLogging) {
            command.add("-Dlog4j2.configurationFile=" + Path.of("conf", "log4j2.properties").toAbsolutePath());
        }
        command.add("-cp");
        command.add(sparkHome.resolve("jars") + File.separator + "*" + File.pathSeparator + jar);
        command.add("io.salun.job.Main");
        command.addAll(args.get(0).equals("verify") ? args : List.of(io.salun.spark.JobArgs.of(args.get(0), common(),
                args.subList(1, args.size()).toArray(String[]::new))));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    @Test
    void aSecondRunOnTheSameOutputIsRefusedAndTheFirstPublishesAWholeResult() throws Exception {
        Path out = dir.resolve("shared-out");
        Path lease = dir.resolve(".shared-out.lease");
        Process first = job(List.of("unlearn", "--unlearn.epochs=6", "--output.dir=" + out), dir.resolve("first.log"), false);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!Files.exists(dir.resolve(".shared-out.staging")) && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(first.isAlive() && Files.exists(lease), "the first run did not start: " + Files.readString(dir.resolve("first.log")));

        Process second = job(List.of("unlearn", "--unlearn.epochs=6", "--output.dir=" + out), dir.resolve("second.log"), false);
        assertTrue(second.waitFor(3, TimeUnit.MINUTES));
        String refused = Files.readString(dir.resolve("second.log"));
        assertEquals(2, second.exitValue(), refused);
        assertTrue(refused.contains("ERROR Main: output.dir: another run holds " + out), refused);
        assertTrue(refused.contains("pid " + first.pid()), refused);
        assertTrue(first.isAlive(), "the first run ended before the second was refused: the runs did not overlap");

        assertTrue(first.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, first.exitValue(), Files.readString(dir.resolve("first.log")));
        for (String file : List.of("model.zip", "mask.bin", "report.json", "report.html", "manifest.json", "_SUCCESS")) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file + " missing from the published result");
        }
        for (String left : List.of(".shared-out.staging", ".shared-out.lease", ".shared-out.checkpoint")) {
            assertFalse(Files.exists(dir.resolve(left)), left + " left behind");
        }
        Process verify = job(List.of("verify", "--output.dir=" + out), dir.resolve("verify.log"), true);
        assertTrue(verify.waitFor(3, TimeUnit.MINUTES));
        String verdict = Files.readString(dir.resolve("verify.log"));
        assertEquals(0, verify.exitValue(), verdict);
        assertTrue(verdict.contains("frozen parameters bit-identical to the original"), verdict);
    }

    @Test
    void aBadInputFoundInATaskEndsInOneCleanErrorLine() throws Exception {
        Path truncated = Files.createDirectories(dir.resolve("truncated"));
        try (var files = Files.list(LocalSpark.fashionMnistSlice())) {
            for (Path f : files.filter(f -> f.toString().endsWith(".gz")).toList()) {
                Files.copy(f, truncated.resolve(f.getFileName()));
            }
        }
        Path images = truncated.resolve("train-images-idx3-ubyte.gz");
        byte[] bytes = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(bytes, bytes.length / 3));
        Process run = job(List.of("unlearn", "--data.dir=" + truncated, "--output.dir=" + dir.resolve("never")),
                dir.resolve("truncated.log"), true);
        assertTrue(run.waitFor(3, TimeUnit.MINUTES));
        String log = Files.readString(dir.resolve("truncated.log"));
        assertEquals(2, run.exitValue(), log);
        List<String> errors = log.lines().filter(l -> l.contains(" ERROR ")).toList();
        assertEquals(1, errors.size(), log);
        assertTrue(errors.get(0).contains("ERROR Main: Truncated IDX images file " + images), log);
        assertTrue(log.lines().noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception in task")
                || l.contains("Lost task")), "a stack trace or a task failure in the log:\n" + log);
    }
}
