package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
            "--benchmark.scenarios=random10,class1", "--benchmark.methods=ft,ga,rl,l1-sparse,salun,ga+mask,neggrad+,ssd,scrub",
            "--benchmark.sweep=true", "--benchmark.grid-extensions=0", "--benchmark.salun.lr-grid=0.01,0.05",
            "--benchmark.ft.lr-grid=0.05", "--benchmark.neggrad-plus.lr-grid=0.01", "--benchmark.neggrad-plus.epochs=1",
            "--benchmark.ssd.alpha-grid=2,5", "--benchmark.scrub.lr-grid=0.003", "--benchmark.scrub.epochs=1",
            "--benchmark.ga.lr-grid=0.001", "--benchmark.rl.lr-grid=0.05", "--benchmark.l1-sparse.lr-grid=0.05",
            "--benchmark.ft.epochs=1", "--benchmark.rl.epochs=1", "--benchmark.l1-sparse.epochs=1",
            "--benchmark.salun.epochs=1", "--benchmark.ga.epochs=1", "--benchmark.retrain-dir=" + out + "-retrain", "--benchmark.output=" + out});
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
            assertEquals(List.of("original", "retrain", "ft", "ga", "rl", "l1-sparse", "salun", "ga+mask", "neggrad+",
                    "ssd", "scrub"), methods);
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
            // SSD does not train: its points are the selection weightings, at 0 epochs
            List<Double> alphas = new ArrayList<>();
            json.get("sweep").forEach(t -> {
                if (t.get("method").asText().equals("ssd")) {
                    alphas.add(t.get("lr").asDouble());
                    assertEquals(0, t.get("epochs").asInt());
                }
            });
            assertEquals(List.of(2.0, 5.0), alphas);
            String md = Files.readString(out.resolve(scenario).resolve("benchmark.md"));
            assertTrue(md.contains("| salun |") && md.contains("| retrain |") && md.contains("| original |"));
            assertTrue(md.contains("SSD does not train: its lr column holds its selection weighting alpha"));
            assertTrue(Files.readString(out.resolve(scenario).resolve("report.html")).contains("data:image/png;base64,"));
        }
    }

    /**
     * Two seeds and a learning-rate x epochs grid: every figure of the table is the mean of the
     * seeds' own, each point's Avg. Gap the mean of its per-seed gaps, the chosen point the
     * smallest of those, and a best point on the grid's edge extended the search past it.
     */
    @Test
    void averagesOverSeedsAndExtendsTheGridPastAnEdge() throws Exception {
        Path out = dir.resolve("bench-seeds");
        assertEquals(0, Main.run(new String[] {"benchmark", "--spark.master=local[2]", "--spark.partitions=2",
            "--data.dir=" + LocalSpark.fashionMnistSlice(), "--data.subset=800", "--model.arch=mlp",
            "--model.path=" + dir.resolve("original.zip"), "--model.train-if-missing=true", "--train.epochs=4",
            "--benchmark.scenarios=random10", "--benchmark.methods=salun", "--benchmark.seeds=5,11",
            "--benchmark.sweep=true", "--benchmark.salun.lr-grid=0.01,0.05", "--benchmark.salun.epochs-grid=1,2",
            "--benchmark.grid-extensions=1", "--benchmark.retrain-dir=" + out + "-retrain", "--benchmark.output=" + out}));
        JsonNode json = new ObjectMapper().readTree(out.resolve("random10").resolve("benchmark.json").toFile());
        assertEquals(List.of(5L, 11L), List.of(json.get("seeds").get(0).asLong(), json.get("seeds").get(1).asLong()));
        JsonNode perSeed = json.get("perSeed");
        assertEquals(2, perSeed.size());
        for (int row = 0; row < 3; row++) {
            JsonNode mean = json.get("table").get(row);
            for (String metric : List.of("UA", "RA", "TA", "MIA", "avgGap")) {
                double a = perSeed.get(0).get("table").get(row).get(metric).asDouble();
                double b = perSeed.get(1).get("table").get(row).get(metric).asDouble();
                assertEquals((a + b) / 2, mean.get(metric).asDouble(), 1e-9, mean.get("method") + " " + metric);
                assertEquals(Math.abs(a - b) / Math.sqrt(2), mean.get("std").get(metric).asDouble(), 1e-9,
                        mean.get("method") + " std " + metric);
            }
            assertEquals(0.0, perSeed.get(0).get("table").get(1).get("avgGap").asDouble(), 0.0);
        }
        // every point ran on both seeds; its gap is the mean of theirs
        List<JsonNode> points = new ArrayList<>();
        json.get("points").forEach(points::add);
        for (JsonNode p : points) {
            List<Double> gaps = new ArrayList<>();
            json.get("sweep").forEach(t -> {
                if (t.get("lr").asDouble() == p.get("lr").asDouble() && t.get("epochs").asInt() == p.get("epochs").asInt()) {
                    gaps.add(t.get("avgGap").asDouble());
                }
            });
            assertEquals(2, gaps.size(), p.toString());
            assertEquals((gaps.get(0) + gaps.get(1)) / 2, p.get("avgGap").asDouble(), 1e-12);
        }
        JsonNode chosen = points.stream().filter(p -> p.get("chosen").asBoolean()).findFirst().orElseThrow();
        double min = points.stream().mapToDouble(p -> p.get("avgGap").asDouble()).min().orElseThrow();
        assertEquals(min, chosen.get("avgGap").asDouble(), 0.0);
        JsonNode salun = json.get("table").get(2);
        assertEquals(chosen.get("lr").asDouble(), salun.get("lr").asDouble(), 0.0);
        assertEquals(chosen.get("epochs").asInt(), salun.get("epochs").asInt());
        // the 2 x 2 grid's best point is on an edge of both axes: one extension added a point past each
        assertTrue(points.size() == 5 || points.size() == 6, "points: " + points.size());
        List<JsonNode> grid = points.subList(0, 4);
        JsonNode gridBest = grid.stream().min(java.util.Comparator.comparingDouble(p -> p.get("avgGap").asDouble()))
                .orElseThrow();
        double lr = gridBest.get("lr").asDouble();
        int epochs = gridBest.get("epochs").asInt();
        double beyond = lr == 0.05 ? 0.25 : 0.002;
        assertTrue(points.subList(4, points.size()).stream().anyMatch(p -> p.get("lr").asDouble() == beyond
                && p.get("epochs").asInt() == epochs), "no point at lr " + beyond + " after " + gridBest);
        if (epochs == 2) {
            assertTrue(points.subList(4, points.size()).stream().anyMatch(p -> p.get("lr").asDouble() == lr
                    && p.get("epochs").asInt() == 4), "no point at 4 epochs after " + gridBest);
        }
        String md = Files.readString(out.resolve("random10").resolve("benchmark.md"));
        assertTrue(md.contains(" ± "), "the table shows mean ± std");

        // the second seed alone, at the 2-epoch point the sweep reached by continuing its 1-epoch run,
        // gives that seed's figures bit for bit: a seed's run does not depend on the others, and a
        // continued run equals one trained from the start
        Path alone = dir.resolve("bench-seed-11");
        assertEquals(0, Main.run(new String[] {"benchmark", "--spark.master=local[2]", "--spark.partitions=2",
            "--data.dir=" + LocalSpark.fashionMnistSlice(), "--data.subset=800", "--model.arch=mlp",
            "--model.path=" + dir.resolve("original.zip"), "--model.train-if-missing=true", "--train.epochs=4",
            "--benchmark.scenarios=random10", "--benchmark.methods=salun", "--benchmark.seeds=11",
            "--benchmark.salun.lr=0.01", "--benchmark.salun.epochs=2", "--benchmark.retrain-dir=" + alone + "-retrain", "--benchmark.output=" + alone}));
        JsonNode single = new ObjectMapper().readTree(alone.resolve("random10").resolve("benchmark.json").toFile());
        for (int row = 0; row < 2; row++) {
            for (String metric : List.of("UA", "RA", "TA", "MIA", "avgGap")) {
                assertEquals(perSeed.get(1).get("table").get(row).get(metric).asDouble(),
                        single.get("table").get(row).get(metric).asDouble(), 0.0, row + " " + metric);
            }
        }
        JsonNode swept = null;
        for (JsonNode t : json.get("sweep")) {
            if (t.get("lr").asDouble() == 0.01 && t.get("epochs").asInt() == 2 && t.get("seed").asLong() == 11) {
                swept = t;
            }
        }
        assertTrue(swept != null, "no sweep entry for lr 0.01, 2 epochs, seed 11");
        for (String metric : List.of("UA", "RA", "TA", "MIA", "forgetLoss")) {
            assertEquals(swept.get("metrics").get(metric).asDouble(), single.get("table").get(2).get(metric).asDouble(), 0.0,
                    metric);
        }
        assertEquals(swept.get("avgGap").asDouble(), single.get("table").get(2).get("avgGap").asDouble(), 0.0);
    }

    /**
     * A benchmark caches each seed's Retrain with its training record; the next benchmark of the
     * same key reads it instead of retraining, and its tables equal the first's, RTE included.
     */
    @Test
    void readsRetrainFromTheCacheTheLastBenchmarkWrote() throws Exception {
        Path cache = dir.resolve("retrain-cache");
        java.util.function.Function<Path, String[]> args = out -> new String[] {"benchmark", "--spark.master=local[2]",
            "--spark.partitions=2", "--data.dir=" + LocalSpark.fashionMnistSlice(), "--data.subset=800",
            "--model.arch=mlp", "--model.path=" + dir.resolve("original.zip"), "--model.train-if-missing=true",
            "--train.epochs=4", "--benchmark.scenarios=random10", "--benchmark.methods=ft", "--benchmark.ft.lr=0.05",
            "--benchmark.ft.epochs=1", "--benchmark.retrain-dir=" + cache, "--benchmark.output=" + out};
        Path first = dir.resolve("bench-cache-first");
        List<String> log = LogCapture.during(Level.INFO, () -> assertEquals(0, Main.run(args.apply(first))));
        assertTrue(log.stream().anyMatch(l -> l.contains("retraining from scratch")), String.join("\n", log));
        List<Path> cached;
        try (java.util.stream.Stream<Path> files = Files.list(cache)) {
            cached = files.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList();
        }
        assertEquals(2, cached.size(), cached.toString());
        Path record = cached.get(0);
        assertTrue(record.getFileName().toString().matches("retrain-mlp-[0-9a-f]{12}-[0-9a-f]{12}-[0-9a-f]{12}-p2-s42\\.json"),
                record.toString());
        assertEquals(record.toString().replace(".json", ".zip"), cached.get(1).toString());
        ObjectMapper mapper = new ObjectMapper();
        JsonNode a = mapper.readTree(first.resolve("random10").resolve("benchmark.json").toFile());
        assertEquals(mapper.readTree(record.toFile()).get("seconds").asDouble(),
                a.get("table").get(1).get("rteSeconds").asDouble(), 0.0);

        Path second = dir.resolve("bench-cache-second");
        log = LogCapture.during(Level.INFO, () -> assertEquals(0, Main.run(args.apply(second))));
        assertFalse(log.stream().anyMatch(l -> l.contains("retraining from scratch")), String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.contains("Retrain read from " + cached.get(1))), String.join("\n", log));
        JsonNode b = mapper.readTree(second.resolve("random10").resolve("benchmark.json").toFile());
        for (int row = 0; row < 3; row++) {
            for (String field : List.of("method", "UA", "RA", "TA", "MIA", "avgGap", "lossPerRound")) {
                assertEquals(a.get("table").get(row).get(field), b.get("table").get(row).get(field), row + " " + field);
            }
        }
        assertEquals(a.get("table").get(1).get("rteSeconds"), b.get("table").get(1).get("rteSeconds"));

        // the RTE column's denominator is the record's: another recorded time moves every ratio with it
        com.fasterxml.jackson.databind.node.ObjectNode edited = (com.fasterxml.jackson.databind.node.ObjectNode)
                mapper.readTree(record.toFile());
        edited.put("seconds", 1000.0);
        mapper.writeValue(record.toFile(), edited);
        // Hadoop's local file system checks what it wrote against a .crc beside it: an edit by hand drops it
        Path crc = record.resolveSibling("." + record.getFileName() + ".crc");
        Files.deleteIfExists(crc);
        Path third = dir.resolve("bench-cache-third");
        assertEquals(0, Main.run(args.apply(third)));
        JsonNode c = mapper.readTree(third.resolve("random10").resolve("benchmark.json").toFile());
        assertEquals(1000.0, c.get("table").get(1).get("rteSeconds").asDouble(), 0.0);
        JsonNode ft = c.get("table").get(2);
        assertEquals(ft.get("rteSeconds").asDouble() / 1000.0, ft.get("rteOverRetrain").asDouble(), 1e-12);

        // a record that is not one is refused by name, and nothing is published
        Files.writeString(record, "{\"seconds\": \"soon\"}");
        Files.deleteIfExists(crc);
        Path fourth = dir.resolve("bench-cache-fourth");
        List<String> errors = LogCapture.during(Level.ERROR, () -> assertEquals(Main.BAD_INPUT, Main.run(args.apply(fourth))));
        assertTrue(String.join("\n", errors).contains("benchmark.retrain-dir") && String.join("\n", errors)
                .contains(record.toString()), String.join("\n", errors));
        assertFalse(Files.exists(fourth.resolve("random10")));
    }

    @Test
    void refusesMalformedSeedsBeforeWritingAnything() {
        Path out = dir.resolve("bench-bad-seeds");
        List<String> log = LogCapture.during(Level.ERROR, () -> assertEquals(Main.BAD_INPUT, Main.run(new String[] {
            "benchmark", "--spark.master=local[2]", "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp",
            "--model.path=" + dir.resolve("never.zip"), "--benchmark.seeds=1,one", "--benchmark.retrain-dir=" + out + "-retrain", "--benchmark.output=" + out})));
        assertTrue(String.join("\n", log).contains("benchmark.seeds"), String.join("\n", log));
        assertFalse(Files.exists(out));
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
            "--benchmark.retrain-dir=" + out + "-retrain", "--benchmark.output=" + out}));
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
