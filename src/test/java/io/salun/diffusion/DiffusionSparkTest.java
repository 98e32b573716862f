package io.salun.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.config.Seeds;
import io.salun.data.Example;
import io.salun.data.IdxSource;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.job.Main;
import io.salun.mask.Bitset;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.model.NetworkSnapshot;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Generation on the Fashion-MNIST slice with a tiny denoiser: the mechanics of SalUn-gen through
 * the job (train-diffusion, unlearn-diffusion), the stages' independence of partitioning, and
 * bad input.
 */
class DiffusionSparkTest {
    private static final int FORGET = 1;
    private static final long SEED = 42;
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static JavaSparkContext sc;
    private static Path ddpm;
    private static byte[] ddpmBytes;

    @BeforeAll
    static void trainModels() throws Exception {
        spark = LocalSpark.start("diffusion");
        sc = LocalSpark.context(spark);
        ddpm = dir.resolve("ddpm.zip");
        assertEquals(0, Main.run(args("train", "--train.epochs=4")));
        assertEquals(0, Main.run(args("train-diffusion")));
        assertTrue(Files.isRegularFile(ddpm));
        ddpmBytes = Files.readAllBytes(ddpm);
    }

    @AfterAll
    static void stop() throws Exception {
        assertArrayEquals(ddpmBytes, Files.readAllBytes(ddpm), "the diffusion model was modified");
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2", "--seed=" + SEED,
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + dir.resolve("classifier.zip"),
                "--train.lr=0.05", "--diffusion.model=" + ddpm, "--diffusion.width=48", "--diffusion.depth=2",
                "--diffusion.epochs=3", "--diffusion.batch=64", "--diffusion.local-steps=8",
                "--diffusion.forget-class=" + FORGET, "--diffusion.sample.per-class=6", "--diffusion.sample.steps=8",
                "--diffusion.unlearn.epochs=3", "--diffusion.unlearn.lr=0.002", "--diffusion.unlearn.batch=32"), more);
    }

    private static MultiLayerNetwork load(Path zip) {
        return ModelStore.load(zip.toString(), "test", new Configuration());
    }

    private static JavaRDD<Shard> forgetShards(int partitions) {
        JavaRDD<Example> forget = IdxSource.read(sc, LocalSpark.trainImages(), LocalSpark.trainLabels(), partitions)
                .filter(e -> e.label() == FORGET).map(e -> e.withForget(true));
        return Shards.cache(forget, "Df/" + partitions);
    }

    @Test
    void saliencyMasksFromOneAndFourPartitionsAgree() {
        NetworkSnapshot model = NetworkSnapshot.of(load(ddpm));
        JavaRDD<Shard> one = forgetShards(1);
        JavaRDD<Shard> four = forgetShards(4);
        Bitset a = GuidedSaliency.mask(sc, model, one, 500, 10, 2.0, 0.5, SEED, 2);
        Bitset b = GuidedSaliency.mask(sc, model, four, 37, 10, 2.0, 0.5, SEED, 3);
        one.unpersist();
        four.unpersist();
        assertEquals(model.size() / 2, a.cardinality());
        int differ = 0;
        for (int i = 0; i < a.size(); i++) {
            differ += a.get(i) != b.get(i) ? 1 : 0;
        }
        assertTrue(differ <= a.size() * 1e-4, differ + " of " + a.size() + " mask bits differ");
    }

    @Test
    void guidedSamplingGivesTheSameImagesForAnyPartitioning() {
        NetworkSnapshot model = NetworkSnapshot.of(load(ddpm));
        int[] classes = {0, FORGET, 7};
        Generation.Spec spec = new Generation.Spec(5, 2, 6, 2.0, SEED);
        float[][][] a = Generation.generate(sc, model, classes, 10, 784, spec, 1);
        float[][][] b = Generation.generate(sc, model, classes, 10, 784, spec, 3);
        assertEquals(3, a.length);
        for (int c = 0; c < 3; c++) {
            assertEquals(5, a[c].length);
            for (int i = 0; i < 5; i++) {
                assertEquals(784, a[c][i].length);
                assertArrayEquals(a[c][i], b[c][i], "class " + classes[c] + " image " + i);
                for (float v : a[c][i]) {
                    assertTrue(v >= 0 && v <= 1, "pixel " + v);
                }
            }
        }
        assertFalse(java.util.Arrays.equals(a[0][0], a[0][1]), "two images from different noise are equal");
        assertFalse(java.util.Arrays.equals(a[0][0], a[2][0]), "the condition changes nothing");
    }

    @Test
    void salunGenKeepsMaskedWeightsAndLowersTheForgetLoss() throws Exception {
        Path out = dir.resolve("unlearned");
        assertEquals(0, Main.run(args("unlearn-diffusion", "--output.dir=" + out)));
        for (String f : List.of("model.zip", "mask.bin", "report.json", "report.html", "samples-original.png",
                "samples-salun.png", "samples-rl.png", "manifest.json", "_SUCCESS")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + out}));

        MultiLayerNetwork original = load(ddpm);
        MultiLayerNetwork unlearned = load(out.resolve("model.zip"));
        Bitset mask = MaskFile.read(out.resolve("mask.bin").toString(), new Configuration());
        float[] before = original.params().toFloatVector();
        float[] after = unlearned.params().toFloatVector();
        int moved = 0;
        for (int i = 0; i < before.length; i++) {
            if (!mask.get(i)) {
                assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(after[i]), "masked weight " + i);
            } else if (before[i] != after[i]) {
                moved++;
            }
        }
        assertTrue(moved > mask.cardinality() / 2, "only " + moved + " of the mask's " + mask.cardinality() + " weights moved");

        // the forget loss: how far the prediction under the forgotten class is from the one under c' = c + 1
        JavaRDD<Shard> forget = forgetShards(1);
        Shard shard = forget.first();
        forget.unpersist();
        double lossBefore = mismatchLoss(original, shard);
        double lossAfter = mismatchLoss(unlearned, shard);
        assertTrue(lossAfter < lossBefore, "forget loss " + lossBefore + " -> " + lossAfter);

        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(FORGET, report.get("forgetClass").asInt());
        assertEquals(321, report.get("forgetImages").asLong());   // class 1 in the slice (its NOTICE.md)
        assertEquals(mask.cardinality(), report.get("maskKept").asLong());
        for (String m : List.of("original", "methods/salun-gen", "methods/rl-gen")) {
            double ua = report.at("/" + m + "/generationUA").asDouble();
            assertTrue(ua >= 0 && ua <= 100, m + " UA " + ua);
            assertEquals(100 - report.at("/" + m + "/accuracyByClass/" + FORGET).asDouble(), ua, 1e-9);
            assertTrue(Double.isFinite(report.at("/" + m + "/fidRemaining").asDouble()), m + " FID");
        }
    }

    /** Mean over the shard of ‖ε̂(x_t|c) − ε̂(x_t|c+1)‖² / d at fixed draws. */
    private static double mismatchLoss(MultiLayerNetwork net, Shard shard) {
        int d = shard.featureLength();
        int width = Conditioning.inputLength(d, 10);
        double[] alphaBars = NoiseSchedule.DDPM.alphaBars();
        float[] own = new float[shard.size() * width];
        float[] next = new float[shard.size() * width];
        float[] scratch = new float[d];
        for (int row = 0; row < shard.size(); row++) {
            DiffusionTargets.Draw draw = DiffusionTargets.Draw.of(Seeds.derive(7, "test-forget-loss", shard.id(row)), d,
                    NoiseSchedule.DDPM, 0);
            DiffusionTargets.input(shard, row, draw, alphaBars, shard.label(row), 10, own, row, scratch);
            DiffusionTargets.input(shard, row, draw, alphaBars, (shard.label(row) + 1) % 10, 10, next, row, scratch);
        }
        float[] a = net.output(Nd4j.create(own, new long[] {shard.size(), width}, 'c'), false).dup('c').data().asFloat();
        float[] b = net.output(Nd4j.create(next, new long[] {shard.size(), width}, 'c'), false).dup('c').data().asFloat();
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return sum / a.length;
    }

    @Test
    void badInputExitsWithTwoAndWritesNothing() throws Exception {
        String[][] cases = {
            {"--diffusion.forget-class=10"},
            {"--diffusion.methods=salun,esd"},
            {"--diffusion.model=" + dir.resolve("missing.zip")},
            {"--diffusion.model=" + dir.resolve("classifier.zip")},
            {"--diffusion.classifier=" + ddpm},
            {"--diffusion.unlearn.beta=-1"},
        };
        for (int i = 0; i < cases.length; i++) {
            Path out = dir.resolve("bad" + i);
            String[] more = new String[cases[i].length + 1];
            System.arraycopy(cases[i], 0, more, 0, cases[i].length);
            more[cases[i].length] = "--output.dir=" + out;
            assertEquals(Main.BAD_INPUT, Main.run(args("unlearn-diffusion", more)), String.join(" ", cases[i]));
            assertFalse(Files.exists(out), "output written for " + String.join(" ", cases[i]));
        }
        assertEquals(Main.BAD_INPUT, Main.run(args("unlearn-diffusion", "--output.dir=" + ddpm)));
        assertEquals(Main.BAD_INPUT, Main.run(args("train-diffusion")), "an existing model is not overwritten");
    }
}
