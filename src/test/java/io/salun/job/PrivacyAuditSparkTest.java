package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.audit.ShadowHalves;
import io.salun.audit.ShadowModels;
import io.salun.data.RandomShards;
import io.salun.data.Shard;
import io.salun.model.Architecture;
import io.salun.model.NetworkConfig;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.train.DataOrder;
import io.salun.train.GradientTerm;
import io.salun.train.Labelling;
import io.salun.train.ParameterAveraging;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The privacy audit: shadow models trained side by side in one Spark job equal the same models
 * trained one by one, every forget record is IN for exactly half of them and every retain record
 * for all, and the audit command on the
 * slice publishes per-example scores, caches its shadows and reuses them for a second model.
 */
class PrivacyAuditSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path model;

    @BeforeAll
    static void trainOriginal() {
        spark = LocalSpark.start("privacy-audit");
        model = dir.resolve("original.zip");
        assertEquals(0, Main.run(args("train", "--train.epochs=6")));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + model,
                "--train.lr=0.05", "--train.epochs=6"), more);
    }

    @Test
    void shadowsTrainedInOneJobEqualShadowsTrainedOneByOne() {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Shard all = RandomShards.of(120, 16, 3, 5L, 1000, 7, 10);
        NetworkConfig conf = NetworkConfig.of(Architecture.MLP.configuration(4, 4, 3, 9L,
                new Optimizer("sgd", 0.05, 0.9, 5e-4, 0)));
        NetworkSnapshot start = NetworkSnapshot.of(conf.init(0, 0));
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan("retrain", 3, 16, 4, 3, 21L, DataOrder.MIXED,
                Labelling.trueLabels(), new GradientTerm.None(), 2);
        List<NetworkSnapshot> together = ShadowModels.train(sc, start, all, plan, 21L, 2, List.of(0, 1, 2, 3));
        for (int k = 0; k < 4; k++) {
            float[] alone = ShadowModels.trainOne(start, all, plan, 21L, 2, k).parameters();
            float[] inJob = together.get(k).parameters();
            assertEquals(alone.length, inJob.length);
            for (int i = 0; i < alone.length; i++) {
                assertEquals(Float.floatToRawIntBits(alone[i]), Float.floatToRawIntBits(inJob[i]), "shadow " + k + " " + i);
            }
        }
        // complementary pairs over the forget set: every forget record is in exactly one shadow of each pair, the
        // halves differ between pairs, and every retain record is in every shadow
        Shard many = RandomShards.of(2000, 4, 3, 6L, 0, 1, 2);   // 1000 forget rows
        int differ = 0;
        for (int i = 0; i < many.size(); i++) {
            long id = many.id(i);
            if (many.forget(i)) {
                assertTrue(ShadowHalves.trainsOn(21L, 0, id) != ShadowHalves.trainsOn(21L, 1, id));
                assertTrue(ShadowHalves.trainsOn(21L, 2, id) != ShadowHalves.trainsOn(21L, 3, id));
                differ += ShadowHalves.trainsOn(21L, 0, id) != ShadowHalves.trainsOn(21L, 2, id) ? 1 : 0;
            }
        }
        assertTrue(differ > 430 && differ < 570, differ + " of 1000 forget records differ between the pairs' halves");
        Shard a = ShadowHalves.half(many, 21L, 0);
        Shard b = ShadowHalves.half(many, 21L, 1);
        assertEquals(1000, a.size() - a.forgetCount());
        assertEquals(1000, b.size() - b.forgetCount());
        assertEquals(1000, a.forgetCount() + b.forgetCount());
    }

    /** A shadow is trained as the engine trains Retrain: one process over P shards gives the engine's P-partition bits. */
    @Test
    void localTrainingOverShardsEqualsTheEngineOverPartitions() {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Shard> shards = List.of(RandomShards.of(70, 16, 3, 5L, 0, 2, 10), RandomShards.of(55, 16, 3, 6L, 1, 2, 10));
        NetworkConfig conf = NetworkConfig.of(Architecture.MLP.configuration(4, 4, 3, 9L,
                new Optimizer("sgd", 0.05, 0.9, 5e-4, 0)));
        NetworkSnapshot start = NetworkSnapshot.of(conf.init(0, 0));
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan("retrain", 2, 16, 2, 3, 21L, DataOrder.MIXED,
                Labelling.trueLabels(), new GradientTerm.None(), 2);
        float[] engine = ParameterAveraging.train(sc, start, sc.parallelize(shards, 2), plan, java.util.Optional.empty(),
                java.util.Optional.empty()).network().parameters();
        float[] local = io.salun.train.LocalTraining.train(start, shards, plan).parameters();
        assertEquals(engine.length, local.length);
        int moved = 0;
        for (int i = 0; i < engine.length; i++) {
            assertEquals(Float.floatToRawIntBits(engine[i]), Float.floatToRawIntBits(local[i]), "parameter " + i);
            moved += engine[i] != start.parameters()[i] ? 1 : 0;
        }
        assertTrue(moved > engine.length / 2);
    }

    @Test
    void auditsAModelAndReusesItsShadowsForTheNext() throws Exception {
        Path unlearned = dir.resolve("salun");
        assertEquals(0, Main.run(args("unlearn", "--unlearn.epochs=2", "--unlearn.lr=0.05", "--output.dir=" + unlearned)));
        Path shadows = dir.resolve("shadows");
        Path first = dir.resolve("audit-salun");
        assertEquals(0, Main.run(args("audit", "--audit.model=" + unlearned.resolve("model.zip"), "--audit.shadows=4",
                "--audit.shadow-dir=" + shadows, "--output.dir=" + first)));
        JsonNode a = new ObjectMapper().readTree(first.resolve("report.json").toFile());
        assertEquals(300, a.get("forgetRecords").asInt());   // 10% of the slice's 3,000
        assertEquals(300, a.get("scores").size());
        for (String which : List.of("audited", "original", "neverSeen", "trainedOn")) {
            double r = a.at("/looksTrainedOn/" + which).asDouble();
            assertTrue(r >= 0 && r <= 1, which + " " + r);
        }
        a.get("scoreHistograms").forEach(h -> {
            double sum = 0;
            for (JsonNode f : h) {
                sum += f.asDouble();
            }
            assertEquals(1.0, sum, 1e-9);
        });
        assertTrue(Files.exists(first.resolve("_SUCCESS")) && Files.readString(first.resolve("report.html"))
                .contains("data:image/png;base64,"));
        Map<String, Long> cached = stamps(shadows);
        assertEquals(4, cached.size());

        // the original audited against the same shadows: nothing trained again, and its rate is the one
        // the first report gave the original
        Path second = dir.resolve("audit-original");
        assertEquals(0, Main.run(args("audit", "--audit.model=" + model, "--audit.shadows=4",
                "--audit.shadow-dir=" + shadows, "--output.dir=" + second)));
        JsonNode b = new ObjectMapper().readTree(second.resolve("report.json").toFile());
        assertEquals(cached, stamps(shadows));
        assertEquals(a.at("/looksTrainedOn/original").asDouble(), b.at("/looksTrainedOn/audited").asDouble(), 0.0);
        assertEquals(a.at("/looksTrainedOn/neverSeen").asDouble(), b.at("/looksTrainedOn/neverSeen").asDouble(), 0.0);

        Path odd = dir.resolve("audit-odd");
        assertEquals(Main.BAD_INPUT, Main.run(args("audit", "--audit.model=" + model, "--audit.shadows=5",
                "--output.dir=" + odd)));
        assertEquals(Main.BAD_INPUT, Main.run(args("audit", "--output.dir=" + odd)));
        assertTrue(!Files.exists(odd));
    }

    /**
     * The benchmark's audit: a row for the original, Retrain and each method, and the original's
     * rate the audit command gives against the same shadows (which it reuses, training none).
     */
    @Test
    void theBenchmarkAuditsEveryModelAgainstTheAuditCommandsShadows() throws Exception {
        Path root = dir.resolve("benchmark-shadows");
        Path out = dir.resolve("benchmark");
        assertEquals(0, Main.run(args("benchmark", "--benchmark.methods=rl,sfron", "--benchmark.rl.epochs=1",
                "--benchmark.sfron.epochs=1", "--benchmark.audit-shadows=4", "--benchmark.audit-shadow-dir=" + root,
                "--benchmark.retrain-dir=" + root.resolve("retrain"),
                "--benchmark.output=" + out)));
        Path scenario;
        try (Stream<Path> s = Files.list(out)) {
            scenario = s.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        JsonNode b = new ObjectMapper().readTree(scenario.resolve("benchmark.json").toFile());
        JsonNode audit = b.get("audit");
        assertEquals(4, audit.get("shadows").asInt());
        List<String> rows = new java.util.ArrayList<>();
        audit.get("rows").forEach(r -> {
            rows.add(r.get("method").asText());
            double rate = r.get("looksTrainedOn").get(0).asDouble();
            assertTrue(rate >= 0 && rate <= 1, r.toString());
        });
        assertEquals(List.of("original", "retrain", "rl", "sfron"), rows);
        assertTrue(Files.readString(scenario.resolve("benchmark.md")).contains("look trained on"));

        Path shadows = root.resolve(b.get("scenario").asText() + "-seed" + b.get("seeds").get(0).asLong());
        Map<String, Long> cached = stamps(shadows);
        assertEquals(4, cached.size());
        Path single = dir.resolve("audit-of-the-benchmark");
        assertEquals(0, Main.run(args("audit", "--audit.model=" + model, "--audit.shadows=4",
                "--audit.shadow-dir=" + shadows, "--output.dir=" + single)));
        JsonNode a = new ObjectMapper().readTree(single.resolve("report.json").toFile());
        assertEquals(cached, stamps(shadows), "the audit command trained shadows again");
        assertEquals(a.at("/looksTrainedOn/audited").asDouble(), audit.at("/rows/0/looksTrainedOn/0").asDouble(), 0.0);
        assertEquals(a.at("/looksTrainedOn/neverSeen").asDouble(), audit.at("/neverSeen/0").asDouble(), 0.0);

        assertEquals(Main.BAD_INPUT, Main.run(args("benchmark", "--benchmark.audit-shadows=3",
                "--benchmark.output=" + dir.resolve("odd-benchmark"))));
        assertTrue(!Files.exists(dir.resolve("odd-benchmark")));
    }

    private static Map<String, Long> stamps(Path folder) throws Exception {
        Map<String, Long> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".zip")).toList()) {
                out.put(f.getFileName().toString(), Files.getLastModifiedTime(f).toMillis());
            }
        }
        return out;
    }
}
