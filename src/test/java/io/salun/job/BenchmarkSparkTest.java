package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.spark.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark command on a tiny subset: every method and metric present and finite. */
class BenchmarkSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("benchmark");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void producesTheTableForEveryMethodAndScenario() throws Exception {
        Path out = dir.resolve("bench");
        int code = Main.run(new String[] {"benchmark", "--spark.master=local[2]", "--spark.partitions=2",
            "--data.dir=" + LocalSpark.fashionMnistSlice(), "--data.subset=800", "--model.arch=mlp",
            "--model.path=" + dir.resolve("original.zip"), "--model.train-if-missing=true", "--train.epochs=4",
            "--benchmark.scenarios=random10,class1", "--benchmark.methods=ft,ga,rl,l1-sparse,salun,ga+mask",
            "--benchmark.sweep=true", "--benchmark.salun.lr-grid=0.01,0.05", "--benchmark.ft.lr-grid=0.05",
            "--benchmark.ga.lr-grid=0.001", "--benchmark.rl.lr-grid=0.05", "--benchmark.l1-sparse.lr-grid=0.05",
            "--benchmark.ft.epochs=1", "--benchmark.rl.epochs=1", "--benchmark.l1-sparse.epochs=1",
            "--benchmark.salun.epochs=1", "--benchmark.ga.epochs=1", "--benchmark.output=" + out});
        assertEquals(0, code);
        for (String scenario : List.of("random10", "class1")) {
            JsonNode json = new ObjectMapper().readTree(out.resolve(scenario).resolve("benchmark.json").toFile());
            assertEquals(scenario, json.get("scenario").asText());
            List<String> methods = new ArrayList<>();
            for (JsonNode row : json.get("table")) {
                methods.add(row.get("method").asText());
                for (String metric : List.of("UA", "RA", "TA", "MIA", "avgGap")) {
                    assertTrue(row.has(metric) && Double.isFinite(row.get(metric).asDouble()),
                            scenario + " " + row.get("method") + " lacks a finite " + metric);
                }
            }
            assertEquals(List.of("original", "retrain", "ft", "ga", "rl", "l1-sparse", "salun", "ga+mask"), methods);
            JsonNode retrain = json.get("table").get(1);
            assertEquals(0.0, retrain.get("avgGap").asDouble(), 0.0);
            assertEquals(1.0, retrain.get("rteOverRetrain").asDouble(), 1e-12);
            // the sweep tried both SalUn learning rates and chose the one with the smaller gap
            List<JsonNode> salunTrials = new ArrayList<>();
            json.get("sweep").forEach(t -> {
                if (t.get("method").asText().equals("salun")) {
                    salunTrials.add(t);
                }
            });
            assertEquals(2, salunTrials.size());
            JsonNode chosen = salunTrials.stream().filter(t -> t.get("chosen").asBoolean()).findFirst().orElseThrow();
            double minGap = salunTrials.stream().mapToDouble(t -> t.get("avgGap").asDouble()).min().orElseThrow();
            assertEquals(minGap, chosen.get("avgGap").asDouble(), 0.0);
            assertEquals(chosen.get("lr").asDouble(), json.get("table").get(6).get("lr").asDouble(), 0.0);
            String md = Files.readString(out.resolve(scenario).resolve("benchmark.md"));
            assertTrue(md.contains("| salun |") && md.contains("| retrain |") && md.contains("| original |"));
            assertTrue(Files.readString(out.resolve(scenario).resolve("report.html")).contains("data:image/png;base64,"));
        }
    }

    /** Every method, a masked variant among them, on a BatchNorm graph (ResNet-18 at width 2). */
    @Test
    void runsEveryMethodOnAGraph() throws Exception {
        Path out = dir.resolve("bench-graph");
        assertEquals(0, Main.run(new String[] {"benchmark", "--spark.master=local[2]", "--spark.partitions=2",
            "--data.dir=" + LocalSpark.fashionMnistSlice(), "--data.subset=300", "--model.arch=resnet18",
            "--model.width=2", "--model.path=" + dir.resolve("resnet.zip"), "--model.train-if-missing=true",
            "--train.epochs=2", "--benchmark.scenarios=random10", "--benchmark.methods=ft,ga,rl,l1-sparse,salun,rl+mask",
            "--benchmark.ft.epochs=1", "--benchmark.rl.epochs=1", "--benchmark.l1-sparse.epochs=1",
            "--benchmark.salun.epochs=1", "--benchmark.ga.epochs=1", "--benchmark.ga.lr=0.001",
            "--benchmark.output=" + out}));
        JsonNode json = new ObjectMapper().readTree(out.resolve("random10").resolve("benchmark.json").toFile());
        List<String> methods = new ArrayList<>();
        for (JsonNode row : json.get("table")) {
            methods.add(row.get("method").asText());
            for (String metric : List.of("UA", "RA", "TA", "MIA", "avgGap")) {
                assertTrue(Double.isFinite(row.get(metric).asDouble()), row.get("method") + " lacks a finite " + metric);
            }
        }
        assertEquals(List.of("original", "retrain", "ft", "ga", "rl", "l1-sparse", "salun", "rl+mask"), methods);
    }
}
