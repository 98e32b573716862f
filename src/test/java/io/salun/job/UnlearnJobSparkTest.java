package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job end to end through its command line on the Fashion-MNIST slice: train an MLP, then
 * forget one class with SalUn, and twice with the same seed (bad input: {@link BadInputSparkTest}).
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
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + model,
                "--train.lr=0.05"), more);
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
        // the CPU backend ran every stage, in this JVM's executor
        for (String stage : List.of("saliency", "unlearning", "evaluation")) {
            assertEquals("[\"cpu on executor driver\"]", report.at("/devices/" + stage).toString(), stage);
        }
        assertFalse(report.at("/lossPerRound").isEmpty());
        // class-wise: the attacker takes most of the forgotten class for non-members after SalUn
        double miaBefore = report.at("/metrics/original/MIA").asDouble();
        double miaAfter = report.at("/metrics/unlearned/MIA").asDouble();
        assertTrue(miaAfter > miaBefore && miaAfter >= 80, "MIA-Efficacy " + miaBefore + " -> " + miaAfter);
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<img src=\"data:image/png;base64,") && html.contains("MIA-Efficacy"));
        // "was it forgotten?": each set's histogram counts its records, and its accuracies agree with the metrics
        JsonNode f = report.get("forgetting");
        for (String when : List.of("before", "after")) {
            for (String set : List.of("forget", "retain", "test")) {
                long sum = 0;
                for (JsonNode bin : f.at("/" + when + "/" + set + "/confidenceHistogram")) {
                    sum += bin.asLong();
                }
                assertEquals(report.at("/counts/" + set).asLong(), sum, when + " " + set);
                assertEquals(sum, f.at("/" + when + "/" + set + "/records").asLong());
            }
            String m = when.equals("before") ? "original" : "unlearned";
            assertEquals(100 - report.at("/metrics/" + m + "/UA").asDouble(), f.at("/" + when + "/forget/accuracy").asDouble(),
                    1e-9);
            assertEquals(report.at("/metrics/" + m + "/RA").asDouble(), f.at("/" + when + "/retain/accuracy").asDouble(),
                    1e-9);
            assertEquals(report.at("/metrics/" + m + "/forgottenClassTestAccuracy").asDouble(),
                    f.at("/" + when + "/test/perClassAccuracy/1").asDouble(), 1e-9);
            // the forget set holds class 1 only
            assertTrue(f.at("/" + when + "/forget/perClassAccuracy/0").isNull());
        }
        assertEquals(3, f.get("verdict").size());
        assertTrue(f.get("verdict").get(0).asText().contains("The classes are forgotten"), f.get("verdict").toString());
        assertTrue(html.contains("Was it forgotten?") && html.contains("alt=\"confidence after\""));

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
        // the published bytes too: model.zip carries no write time, so two identical runs have one manifest's outputs
        assertArrayEquals(sha256(dir.resolve("repeat-0/model.zip")), sha256(dir.resolve("repeat-1/model.zip")));
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(dir.resolve("repeat-0/manifest.json").toFile()).get("outputs");
        JsonNode second = json.readTree(dir.resolve("repeat-1/manifest.json").toFile()).get("outputs");
        for (String file : List.of("model.zip", "mask.bin")) {
            assertEquals(first.get(file), second.get(file), file);
        }
    }

    @Test
    void aRunThatMovesNothingIsRefusedAndLeavesNothing() {
        Path out = dir.resolve("no-effect");
        // a learning rate so small that every update rounds away in float arithmetic
        assertEquals(Main.NO_EFFECT, Main.run(args("unlearn", "--unlearn.epochs=1", "--unlearn.lr=1e-30",
                "--output.dir=" + out)));
        for (String left : List.of("no-effect", ".no-effect.staging", ".no-effect.checkpoint", ".no-effect.lease")) {
            assertFalse(Files.exists(dir.resolve(left)), left + " left behind");
        }
    }

    /**
     * SSD trains nothing: every published parameter is the original's or the original's scaled by a
     * factor in (0, 1] (same sign, no larger), the forgotten class's accuracy falls, and plain
     * DL4J loads the model; an alpha no parameter can reach is refused and leaves nothing.
     */
    @Test
    void ssdOnlyDampensAndForgetsAClass() throws Exception {
        Path out = dir.resolve("ssd");
        assertEquals(0, Main.run(args("unlearn", "--unlearn.method=ssd", "--unlearn.ssd-alpha=2",
                "--forget.scenario=class", "--forget.classes=1", "--output.dir=" + out)));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("ssd", report.get("method").asText());
        assertTrue(report.at("/lossPerRound").isEmpty());
        double before = report.at("/metrics/original/forgottenClassTestAccuracy").asDouble();
        double after = report.at("/metrics/unlearned/forgottenClassTestAccuracy").asDouble();
        assertTrue(after < before, "forgotten class's test accuracy " + before + " -> " + after);
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        float[] original = ModelStore.load(model.toString(), "model", conf).params().toFloatVector();
        float[] dampened = ModelStore.load(out.resolve("model.zip").toString(), "out", conf).params().toFloatVector();
        int changed = 0;
        for (int i = 0; i < original.length; i++) {
            if (Float.floatToRawIntBits(original[i]) != Float.floatToRawIntBits(dampened[i])) {
                changed++;
                assertTrue(Math.abs(dampened[i]) <= Math.abs(original[i]) && (dampened[i] == 0
                        || Math.signum(dampened[i]) == Math.signum(original[i])), "parameter " + i + ": " + original[i]
                        + " -> " + dampened[i]);
            }
        }
        assertTrue(changed > 0 && changed < original.length, changed + " of " + original.length + " parameters changed");

        Path none = dir.resolve("ssd-none");
        assertEquals(Main.NO_EFFECT, Main.run(args("unlearn", "--unlearn.method=ssd", "--unlearn.ssd-alpha=50",
                "--forget.scenario=class", "--forget.classes=1", "--output.dir=" + none)));
        for (String left : List.of("ssd-none", ".ssd-none.staging", ".ssd-none.checkpoint", ".ssd-none.lease")) {
            assertFalse(Files.exists(dir.resolve(left)), left + " left behind");
        }
    }

    /**
     * SCRUB in its two parts (two epochs that begin with max-steps on Df, then one of min-steps on Dr
     * alone; at θo the max-steps' KL gradient is zero, so the second epoch's are the first to push), on a
     * class: the forget set's loss rises above the original's and the class's test accuracy falls
     * while the retain set stays recognised, the loss
     * history covers both parts, and the published model loads with the original's loss.
     */
    @Test
    void scrubMovesAwayFromItsTeacherOnTheForgetSetOnly() throws Exception {
        Path out = dir.resolve("scrub");
        assertEquals(0, Main.run(args("unlearn", "--unlearn.method=scrub", "--unlearn.epochs=3",
                "--unlearn.scrub-max-epochs=2", "--unlearn.lr=0.05", "--forget.scenario=class", "--forget.classes=1",
                "--output.dir=" + out)));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("scrub", report.get("method").asText());
        double forgetBefore = report.at("/metrics/original/forgetLoss").asDouble();
        double forgetAfter = report.at("/metrics/unlearned/forgetLoss").asDouble();
        assertTrue(forgetAfter > forgetBefore, "forget loss " + forgetBefore + " -> " + forgetAfter);
        assertTrue(report.at("/metrics/unlearned/forgottenClassTestAccuracy").asDouble()
                < report.at("/metrics/original/forgottenClassTestAccuracy").asDouble(), "the class's test accuracy did not fall");
        // selective: the retain set stays recognised far better than the forgotten class
        double ra = report.at("/metrics/unlearned/RA").asDouble();
        double forgetAccuracy = 100 - report.at("/metrics/unlearned/UA").asDouble();
        assertTrue(ra > forgetAccuracy + 20, "RA " + ra + " against the forget set's accuracy " + forgetAccuracy);
        java.util.Set<Integer> epochs = new java.util.TreeSet<>();
        report.at("/lossPerRound").forEach(r -> epochs.add(r.get("epoch").asInt()));
        assertEquals(java.util.Set.of(1, 2, 3), epochs, "rounds of both parts");
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        String json = ModelStore.load(out.resolve("model.zip").toString(), "out", conf).getLayerWiseConfigurations().toJson();
        assertTrue(json.contains("LossMCXENT") && !json.contains("WeightedCrossEntropy"));
    }

    /**
     * SFR-on end to end on one class: the forget set's loss rises and the class's test accuracy falls
     * while the retain set stays recognised; no mask file (every weight trains), so verify passes on
     * the run as published, and the model loads with the original's loss.
     */
    @Test
    void sfronForgetsAClassWithItsOwnMask() throws Exception {
        Path out = dir.resolve("sfron");
        assertEquals(0, Main.run(args("unlearn", "--unlearn.method=sfron", "--unlearn.epochs=3", "--unlearn.lr=0.01",
                "--unlearn.sfron-forget-every=2", "--forget.scenario=class", "--forget.classes=1",
                "--output.dir=" + out)));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("sfron", report.get("method").asText());
        double forgetBefore = report.at("/metrics/original/forgetLoss").asDouble();
        double forgetAfter = report.at("/metrics/unlearned/forgetLoss").asDouble();
        assertTrue(forgetAfter > forgetBefore, "forget loss " + forgetBefore + " -> " + forgetAfter);
        double classBefore = report.at("/metrics/original/forgottenClassTestAccuracy").asDouble();
        double classAfter = report.at("/metrics/unlearned/forgottenClassTestAccuracy").asDouble();
        assertTrue(classAfter < classBefore - 20, "the class's test accuracy " + classBefore + " -> " + classAfter);
        double ra = report.at("/metrics/unlearned/RA").asDouble();
        assertTrue(ra > 100 - report.at("/metrics/unlearned/UA").asDouble() + 20, "RA " + ra + " is not selective");
        assertFalse(Files.exists(out.resolve("mask.bin")), "SFR-on publishes no engine mask");
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + out}));
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        String json = ModelStore.load(out.resolve("model.zip").toString(), "out", conf).getLayerWiseConfigurations().toJson();
        assertTrue(json.contains("LossMCXENT") && !json.contains("WeightedCrossEntropy"));
    }

    @Test
    void aDivergedRunLeavesNoCheckpoints() {
        Path out = dir.resolve("diverged");
        assertEquals(Main.DIVERGED, Main.run(args("unlearn", "--unlearn.method=ga", "--unlearn.epochs=2",
                "--unlearn.lr=1e6", "--output.dir=" + out)));
        for (String left : List.of("diverged", ".diverged.staging", ".diverged.checkpoint", ".diverged.lease")) {
            assertFalse(Files.exists(dir.resolve(left)), left + " left behind");
        }
    }

    private static byte[] sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    }
}
