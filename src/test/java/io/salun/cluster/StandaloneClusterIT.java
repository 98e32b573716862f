package io.salun.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job jar on a real multi-JVM Spark standalone cluster (a Master and two Workers, each its own
 * JVM, executors in further JVMs), submitted with Spark's own {@code SparkSubmit}: SalUn on the
 * Fashion-MNIST slice with two executors must give the same mask as a {@code local[2]} run and
 * publish a complete report.
 */
class StandaloneClusterIT {
    @TempDir
    Path dir;

    private List<String> jobArgs(String command, Path model, Path out) {
        return new ArrayList<>(List.of(command, "--spark.partitions=2", "--data.dir=" + LocalSpark.fashionMnistSlice(),
                "--data.subset=1500", "--model.arch=mlp", "--model.path=" + model, "--train.epochs=3",
                "--forget.scenario=class", "--forget.classes=7", "--unlearn.epochs=1", "--output.dir=" + out));
    }

    @Test
    void unlearnOnTwoExecutorsMatchesLocalMode() throws Exception {
        Path sparkHome = Path.of(System.getProperty("salun.spark.home"));
        Path jar = Path.of(System.getProperty("salun.job.jar"));
        assertTrue(Files.isRegularFile(jar), "job jar missing: " + jar);
        Path model = dir.resolve("original.zip");

        // the original model and the reference mask: local[2] in this JVM
        Path local = dir.resolve("local");
        StandaloneCluster.localReference("cluster-reference", command -> jobArgs(command, model, local));
        byte[] modelBefore = Files.readAllBytes(model);

        Path remote = dir.resolve("cluster");
        try (StandaloneCluster cluster = new StandaloneCluster(sparkHome, System.getProperty("salun.jvm.opens"),
                dir.resolve("cluster-logs"))) {
            cluster.start(2, 1, "2g");
            int code = cluster.submit(List.of("--class", "io.salun.job.Main", "--conf", "spark.executor.cores=1",
                    "--conf", "spark.executor.memory=1g", "--conf", "spark.cores.max=2",
                    "--conf", "spark.executorEnv.OMP_NUM_THREADS=1"), jar.toString(), jobArgs("unlearn", model, remote), 600);
            assertEquals(0, code, "spark-submit failed; its log ends:\n" + cluster.tail(cluster.log("submit"), 60));
            String log = Files.readString(cluster.log("submit"));
            assertTrue(log.contains("report: "), "no result table in the driver's output");
        }

        JsonNode report = new ObjectMapper().readTree(remote.resolve("report.json").toFile());
        assertTrue(report.get("sparkMaster").asText().startsWith("spark://"), "ran on " + report.get("sparkMaster"));
        assertEquals("class7", report.get("scenario").asText());
        // executors (separate JVMs, not the driver) ran the unlearning tasks, on the CPU backend
        assertTrue(report.at("/devices/unlearning").size() >= 1, report.at("/devices").toString());
        report.at("/devices/unlearning").forEach(d -> assertTrue(d.asText().matches("cpu on executor \\d+"), d.asText()));
        JsonNode localReport = new ObjectMapper().readTree(local.resolve("report.json").toFile());
        assertEquals(localReport.get("counts"), report.get("counts"));

        Configuration conf = new Configuration();
        Bitset clusterMask = MaskFile.read(remote.resolve("mask.bin").toString(), conf);
        Bitset localMask = MaskFile.read(local.resolve("mask.bin").toString(), conf);
        // two partitions, one addition to merge them: the sums, and so the masks, are bit-identical
        assertEquals(localMask, clusterMask);
        float[] original = ModelStore.load(model.toString(), "model", conf).params().toFloatVector();
        float[] unlearned = ModelStore.load(remote.resolve("model.zip").toString(), "out", conf).params().toFloatVector();
        assertTrue(MaskAssertions.assertMaskedUnchanged(clusterMask, original, unlearned) > 0);
        assertTrue(java.util.Arrays.equals(modelBefore, Files.readAllBytes(model)), "the original model changed");
    }
}
