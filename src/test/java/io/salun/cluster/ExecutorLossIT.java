package io.salun.cluster;

import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.spark.LocalSpark;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Executors lost in the middle of a run on a real standalone cluster: one executor JVM is killed
 * (SIGKILL) while the saliency pass runs and another while unlearning trains. Spark reruns the lost
 * tasks on replacement executors (cached shards recomputed from the files), and because every task
 * is a pure function of its inputs the job publishes the same mask and model, bit for bit, as a
 * fault-free {@code local[2]} run.
 */
class ExecutorLossIT {
    @TempDir
    Path dir;

    private List<String> jobArgs(String command, Path model, Path out) {
        return new ArrayList<>(List.of(command, "--spark.partitions=2", "--data.dir=" + LocalSpark.fashionMnistSlice(),
                "--model.arch=mlp", "--model.path=" + model, "--train.epochs=2", "--forget.scenario=random",
                "--saliency.batch=16", "--unlearn.epochs=3", "--unlearn.batch=32", "--output.dir=" + out));
    }

    @Test
    void killedExecutorsChangeNoBit() throws Exception {
        Path sparkHome = Path.of(System.getProperty("salun.spark.home"));
        Path jar = Path.of(System.getProperty("salun.job.jar"));
        Path model = dir.resolve("original.zip");
        Path local = dir.resolve("local");
        StandaloneCluster.localReference("executor-loss-reference", command -> jobArgs(command, model, local));

        Path remote = dir.resolve("cluster");
        List<String> killed = new ArrayList<>();
        try (StandaloneCluster cluster = new StandaloneCluster(sparkHome, System.getProperty("salun.jvm.opens"),
                dir.resolve("cluster-logs"))) {
            cluster.start(2, 1, "2g");
            Process submit = cluster.submitAsync(List.of("--class", "io.salun.job.Main", "--conf", "spark.executor.cores=1",
                    "--conf", "spark.executor.memory=1g", "--conf", "spark.cores.max=2",
                    "--conf", "spark.executorEnv.OMP_NUM_THREADS=1"), jar.toString(), jobArgs("unlearn", model, remote));
            // kill an executor when the driver reports each stage starting
            List<String> stages = List.of("saliency: summing forget-set gradients", "salun: 3 epochs x");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            for (String stage : stages) {
                while (submit.isAlive() && System.nanoTime() < deadline
                        && !Files.readString(cluster.log("submit")).contains(stage)) {
                    Thread.sleep(50);
                }
                List<ProcessHandle> executors = cluster.executors();
                if (submit.isAlive() && !executors.isEmpty()) {
                    ProcessHandle victim = executors.get(killed.size() % executors.size());
                    victim.destroyForcibly();
                    killed.add(stage + " (pid " + victim.pid() + ")");
                }
            }
            assertTrue(submit.waitFor(10, TimeUnit.MINUTES), "spark-submit did not finish");
            String log = Files.readString(cluster.log("submit"));
            assertEquals(0, submit.exitValue(), "the job failed after losing executors; its log ends:\n"
                    + cluster.tail(cluster.log("submit"), 60));
            assertEquals(2, killed.size(), "executors killed: " + killed);
            assertTrue(log.contains("Lost executor") || log.contains("lost executor") || log.contains("ExecutorLostFailure"),
                    "the driver never noticed a lost executor; killed " + killed);
        }

        Configuration conf = new Configuration();
        assertEquals(MaskFile.read(local.resolve("mask.bin").toString(), conf),
                MaskFile.read(remote.resolve("mask.bin").toString(), conf));
        assertArrayEquals(ModelStore.load(local.resolve("model.zip").toString(), "local", conf).params().toFloatVector(),
                ModelStore.load(remote.resolve("model.zip").toString(), "cluster", conf).params().toFloatVector(),
                "the model after executor losses differs from the fault-free run's");
    }
}
