package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job end to end through its command line on the Fashion-MNIST slice: train an MLP, then
 * forget one class with SalUn; and the job's answers to bad input.
 */
class UnlearnJobSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path model;
    private static byte[] modelHash;

    @BeforeAll
    static void trainOriginal() throws Exception {
        spark = LocalSpark.start("unlearn-job");
        model = dir.resolve("original.zip");
        assertEquals(0, Main.run(args("train", "--train.epochs=12")));
        assertTrue(Files.isRegularFile(model));
        modelHash = sha256(model);
    }

    @AfterAll
    static void stop() throws Exception {
        // the original model is never modified
        assertArrayEquals(modelHash, sha256(model));
        spark.stop();
    }

    /** The command line of a run on the slice; {@code more} adds or replaces {@code --key=value} settings. */
    private static String[] args(String command, String... more) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String o : List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + model,
                "--train.lr=0.05")) {
            options.put(o.substring(0, o.indexOf('=')), o);
        }
        for (String o : more) {
            options.put(o.substring(0, o.indexOf('=')), o);
        }
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(options.values());
        return a.toArray(String[]::new);
    }

    @Test
    void salunForgetsOneClassAndKeepsMaskedWeights() throws Exception {
        Path out = dir.resolve("class1");
        int code = Main.run(args("unlearn", "--forget.scenario=class", "--forget.classes=1",
                "--unlearn.epochs=3", "--unlearn.lr=0.02", "--output.dir=" + out));
        assertEquals(0, code);
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("class1", report.get("scenario").asText());
        assertEquals("salun", report.get("method").asText());
        assertEquals(321, report.at("/counts/forget").asLong());   // class 1 in the slice (its NOTICE.md)
        assertEquals(2679, report.at("/counts/retain").asLong());
        assertEquals(1000, report.at("/counts/test").asLong());
        double raBefore = report.at("/metrics/original/RA").asDouble();
        double ua = report.at("/metrics/unlearned/UA").asDouble();
        double ra = report.at("/metrics/unlearned/RA").asDouble();
        assertTrue(ua >= 90, "UA " + ua);
        assertTrue(ra >= raBefore - 5, "RA " + raBefore + " -> " + ra);
        assertTrue(report.at("/metrics/unlearned/forgottenClassTestAccuracy").asDouble() <= 10);
        assertTrue(report.at("/seconds/saliency").asDouble() > 0);
        assertFalse(report.at("/lossPerRound").isEmpty());
        // class-wise: the attacker takes most of the forgotten class for non-members after SalUn
        double miaBefore = report.at("/metrics/original/MIA").asDouble();
        double miaAfter = report.at("/metrics/unlearned/MIA").asDouble();
        assertTrue(miaAfter > miaBefore && miaAfter >= 80, "MIA-Efficacy " + miaBefore + " -> " + miaAfter);
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<img src=\"data:image/png;base64,") && html.contains("MIA-Efficacy"));

        Configuration conf = new Configuration();
        float[] original = ModelStore.load(model.toString(), "model", conf).params().toFloatVector();
        float[] unlearned = ModelStore.load(out.resolve("model.zip").toString(), "out", conf).params().toFloatVector();
        Bitset mask = MaskFile.read(out.resolve("mask.bin").toString(), conf);
        assertEquals(original.length, mask.size());
        assertEquals(original.length / 2, mask.cardinality());
        assertEquals(mask.cardinality(), report.at("/mask/trainable").asInt());
        assertTrue(MaskAssertions.assertMaskedUnchanged(mask, original, unlearned) > 0, "no trainable weight moved");
        assertFalse(Files.exists(dir.resolve(".class1.staging")), "staging folder left behind");
    }

    @Test
    void sameSettingsAndSeedGiveTheSameBits() throws Exception {
        Configuration conf = new Configuration();
        float[][] params = new float[2][];
        Bitset[] masks = new Bitset[2];
        for (int run = 0; run < 2; run++) {
            Path out = dir.resolve("repeat-" + run);
            assertEquals(0, Main.run(args("unlearn", "--unlearn.epochs=1", "--output.dir=" + out)));
            params[run] = ModelStore.load(out.resolve("model.zip").toString(), "out", conf).params().toFloatVector();
            masks[run] = MaskFile.read(out.resolve("mask.bin").toString(), conf);
        }
        assertEquals(masks[0], masks[1]);
        assertArrayEquals(params[0], params[1]);
    }

    @Test
    void existingOutputIsNeitherReplacedNorTouched() throws IOException {
        Path out = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertEquals(Main.BAD_INPUT, Main.run(args("unlearn", "--output.dir=" + out)));
        try (var files = Files.list(out)) {
            assertEquals(List.of(out.resolve("keep.txt")), files.toList());
        }
        assertFalse(Files.exists(dir.resolve(".taken.staging")));
    }

    @Test
    void badInputExitsWithTwoAndWritesNothing() throws IOException {
        // a model of 5 classes cannot unlearn data labelled 0..9; a model with a NaN weight is refused
        Path fiveClasses = dir.resolve("five-classes.zip");
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork five = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(
                io.salun.model.Architecture.MLP.configuration(28, 28, 5, 1, new io.salun.model.Optimizer("sgd", 0.1, 0, 0, 0)));
        five.init();
        ModelStore.save(five, fiveClasses.toString(), false, new Configuration());
        Path nanModel = dir.resolve("nan.zip");
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork broken = ModelStore.load(model.toString(), "model", new Configuration());
        broken.params().putScalar(7, Float.NaN);
        ModelStore.save(broken, nanModel.toString(), false, new Configuration());
        Path ids = dir.resolve("unknown-ids.txt");
        Files.writeString(ids, "99999\n100000\n");
        List<String[]> bad = List.of(
                args("unlearn", "--saliency.ratoi=0.5", "--output.dir=" + dir.resolve("bad1")),
                args("unlearn", "--saliency.ratio=1.5", "--output.dir=" + dir.resolve("bad2")),
                args("unlearn", "--forget.scenario=ids", "--forget.ids=" + ids, "--output.dir=" + dir.resolve("bad3")),
                args("unlearn", "--model.path=" + dir.resolve("missing.zip"), "--output.dir=" + dir.resolve("bad4")),
                args("unlearn", "--data.dir=" + dir.resolve("nodata"), "--output.dir=" + dir.resolve("bad5")),
                args("unlearn", "--model.path=" + fiveClasses, "--output.dir=" + dir.resolve("bad6")),
                args("unlearn", "--model.path=" + nanModel, "--output.dir=" + dir.resolve("bad7")),
                args("unlearn", "--output.dir=" + model),
                args("frobnicate"),
                args("train", "--data.classes=5", "--model.path=" + dir.resolve("never.zip")));
        for (int i = 0; i < bad.size(); i++) {
            assertEquals(Main.BAD_INPUT, Main.run(bad.get(i)), "case " + (i + 1) + ": " + String.join(" ", bad.get(i)));
        }
        assertFalse(Files.exists(dir.resolve("never.zip")), "a model was written for bad input");
        for (int i = 1; i <= 7; i++) {
            assertFalse(Files.exists(dir.resolve("bad" + i)), "output bad" + i + " was written");
            assertFalse(Files.exists(dir.resolve(".bad" + i + ".staging")), "staging of bad" + i + " left behind");
        }
    }

    private static byte[] sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    }
}
