package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench command's arithmetic, and a tiny run of it whose numbers must hang together. */
class SpeedBenchSparkTest {
    @TempDir
    Path dir;

    @Test
    void statsAreMedianAndRange() {
        SpeedBenchCommand.Stats odd = SpeedBenchCommand.Stats.of(List.of(3.0, 1.0, 2.0));
        assertEquals(2.0, odd.median());
        assertEquals(1.0, odd.min());
        assertEquals(3.0, odd.max());
        assertEquals(2.5, SpeedBenchCommand.Stats.of(List.of(4.0, 1.0, 2.0, 3.0)).median());
    }

    @Test
    void tinyBenchWritesConsistentNumbers() throws Exception {
        SparkSession spark = LocalSpark.start("bench");
        Path out = dir.resolve("bench");
        try {
            assertEquals(0, Main.run(JobArgs.of("bench", List.of("--spark.master=local[2]", "--spark.partitions=2",
                    "--data.dir=" + LocalSpark.fashionMnistSlice(), "--bench.records=400", "--bench.warmup=0",
                    "--bench.repetitions=2", "--bench.pytorch=off", "--bench.output=" + out))));
        } finally {
            spark.stop();
        }
        JsonNode bench = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertEquals(431080, bench.at("/setup/parameters").asInt());
        assertEquals(400, bench.at("/setup/records").asInt());
        for (String run : List.of("plainMasked", "plainUnmasked", "sparkOnePartition", "sparkOnePartitionOneLocalStep",
                "sparkAllPartitions")) {
            JsonNode seconds = bench.at("/fineTuningEpoch/" + run + "/seconds");
            assertTrue(seconds.get("min").asDouble() > 0 && seconds.get("min").asDouble() <= seconds.get("median").asDouble()
                    && seconds.get("median").asDouble() <= seconds.get("max").asDouble(), run + ": " + seconds);
            double rate = bench.at("/fineTuningEpoch/" + run + "/recordsPerSecond/median").asDouble();
            assertEquals(400 / seconds.get("median").asDouble(), rate, 1e-6 * rate, run);
        }
        double plain = bench.at("/fineTuningEpoch/plainMasked/seconds/median").asDouble();
        double unmasked = bench.at("/fineTuningEpoch/plainUnmasked/seconds/median").asDouble();
        assertEquals(plain / unmasked - 1, bench.get("maskingOverhead").asDouble(), 1e-9);
        assertTrue(bench.at("/memory/peakHeapBytes").asLong() > 0);
        assertTrue(Files.readString(out.resolve("bench.md")).contains("Spark engine, 1 partition"));
    }

    /** The same measurements on a BatchNorm graph (ResNet-18 at width 2). */
    @Test
    void tinyBenchRunsOnAGraph() throws Exception {
        SparkSession spark = LocalSpark.start("bench-graph");
        Path out = dir.resolve("bench-graph");
        try {
            assertEquals(0, Main.run(JobArgs.of("bench", List.of("--spark.master=local[2]", "--spark.partitions=2",
                    "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=resnet18", "--model.width=2",
                    "--bench.records=200", "--bench.warmup=0", "--bench.repetitions=1", "--bench.output=" + out))));
        } finally {
            spark.stop();
        }
        JsonNode bench = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertEquals("resnet18", bench.at("/setup/arch").asText());
        assertEquals(io.salun.model.Architecture.RESNET18.network(28, 28, 1, 10, 1,
                new io.salun.model.Optimizer("sgd", 0.1, 0.9, 0, 0), 2, false).numParams(), bench.at("/setup/parameters").asLong());
        assertTrue(bench.at("/saliencyPass/recordsPerSecond/median").asDouble() > 0);
        assertTrue(bench.at("/fineTuningEpoch/sparkOnePartition/recordsPerSecond/median").asDouble() > 0);
        // PyTorch timed the same architecture: its parameter count is DL4J's (python3-torch is a test dependency)
        assertEquals("resnet18", bench.at("/pytorch/arch").asText());
        assertEquals(bench.at("/setup/parameters").asLong(), bench.at("/pytorch/parameters").asLong());
        assertTrue(bench.get("dl4jOverPytorchTraining").asDouble() > 0);
    }
}
