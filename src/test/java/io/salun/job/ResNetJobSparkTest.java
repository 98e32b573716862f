package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.mask.Bitset;
import io.salun.mask.MaskAssertions;
import io.salun.mask.MaskFile;
import io.salun.mask.SaliencyMask;
import io.salun.model.Architecture;
import io.salun.model.ModelStore;
import io.salun.model.Net;
import io.salun.model.Optimizer;
import io.salun.model.ParameterRoles;
import io.salun.model.PyTorchScript;
import io.salun.model.Safetensors.Tensor;
import io.salun.model.TorchWeights;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.spark.SliceTables;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ResNet-18 (width 16) end to end through the command line: trained here on the slice's grey
 * 28×28 images and unlearned; and PyTorch's ResNet-18 (written by python3-torch) unlearned from a
 * Parquet table of 32×32 RGB images, its published {@code model.safetensors} loaded back into
 * PyTorch strictly, with PyTorch's logits equal to the DL4J model's. Both published outputs pass
 * {@code verify}; the frozen trainable weights equal the original's bit for bit and every
 * BatchNorm statistic moved.
 */
class ResNetJobSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("resnet-job");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void aResNetTrainedHereIsUnlearnedAndVerified() throws Exception {
        Path model = dir.resolve("resnet.zip");
        List<String> common = List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--data.subset=600", "--model.arch=resnet18",
                "--model.width=16", "--model.path=" + model);
        assertEquals(0, Main.run(JobArgs.of("train", common, "--train.epochs=1")));
        byte[] before = Files.readAllBytes(model);
        Path out = dir.resolve("unlearned");
        assertEquals(0, Main.run(JobArgs.of("unlearn", common, "--forget.scenario=random", "--forget.fraction=0.1",
                "--unlearn.epochs=1", "--output.dir=" + out)));
        assertArrayEquals(before, Files.readAllBytes(model), "the original model was modified");
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + out}));

        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("resnet18", report.at("/model/arch").asText());
        assertEquals(16, report.at("/model/width").asInt());
        assertEquals("ComputationGraph", report.at("/model/kind").asText());
        assertTrue(report.at("/driverMemory/peakHeapBytes").asLong() > 0);
        assertFrozenAndStatisticsMoved(ModelStore.loadNet(model.toString(), "model.path", new Configuration()),
                out, report);
    }

    @Test
    void pyTorchWeightsUnlearnedFromAnRgbTableLoadBackIntoPyTorch() throws Exception {
        Path torch = dir.resolve("torch");
        Files.createDirectories(torch);
        PyTorchScript.run(dir.resolve("make.log"), "make", torch.toString());
        Path weights = torch.resolve("resnet18-w16.safetensors");
        byte[] before = Files.readAllBytes(weights);
        SliceTables.writeRgb(spark, LocalSpark.trainImages(), LocalSpark.trainLabels(), dir.resolve("rgb-train").toString(),
                600, 2);
        Path slice = LocalSpark.fashionMnistSlice();
        SliceTables.writeRgb(spark, slice.resolve("t10k-images-idx3-ubyte.gz").toString(),
                slice.resolve("t10k-labels-idx1-ubyte.gz").toString(), dir.resolve("rgb-test").toString(), 300, 2);

        Path out = dir.resolve("rgb-unlearned");
        assertEquals(0, Main.run(JobArgs.of("unlearn", List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.format=parquet", "--data.train=" + dir.resolve("rgb-train"), "--data.test=" + dir.resolve("rgb-test"),
                "--data.image.height=32", "--data.image.width=32", "--data.image.channels=3",
                "--model.arch=resnet18", "--model.width=16", "--model.path=" + weights,
                "--forget.scenario=random", "--forget.fraction=0.1", "--unlearn.epochs=1", "--output.dir=" + out))));
        assertArrayEquals(before, Files.readAllBytes(weights), "the original weights were modified");
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + out}));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("[32,32,3]", report.at("/model/inputShape").toString());
        assertTrue(report.at("/model/pytorch").asBoolean());

        // the published safetensors: the original's keys, shapes and dtypes
        Map<String, Tensor> original = PyTorchScript.read(weights);
        Map<String, Tensor> published = PyTorchScript.read(out.resolve("model.safetensors"));
        assertEquals(new TreeSet<>(original.keySet()), new TreeSet<>(published.keySet()));
        for (Map.Entry<String, Tensor> e : original.entrySet()) {
            assertEquals(e.getValue().dtype(), published.get(e.getKey()).dtype(), e.getKey());
            assertArrayEquals(e.getValue().shape(), published.get(e.getKey()).shape(), e.getKey());
        }
        // PyTorch loads it with strict=True; its logits on fixed images equal the DL4J model's
        Path check = torch.resolve("resnet18-w16-check.safetensors");
        Path logits = dir.resolve("rgb-logits.safetensors");
        PyTorchScript.run(dir.resolve("logits.log"), "logits", "resnet18", "16", out.resolve("model.safetensors").toString(),
                check.toString(), logits.toString());
        Net unlearned = ModelStore.loadNet(out.resolve("model.zip").toString(), "out", new Configuration());
        Tensor images = PyTorchScript.read(check).get("images");
        float[] dl4j = PyTorchScript.logits(unlearned, Nd4j.createFromArray(images.floats())
                .reshape(images.shape()[0], 32 * 32 * 3)).dup('c').data().asFloat();
        double worst = PyTorchScript.largestDifference(PyTorchScript.read(logits).get("logits").floats(), dl4j);
        assertTrue(worst <= 1e-4, "PyTorch's logits of the published model differ from DL4J's by " + worst);

        // the imported network, as the job built it from the PyTorch weights, against the unlearned one
        Net imported = Architecture.RESNET18.network(32, 32, 3, TorchWeights.classes(original, Architecture.RESNET18, "test",
                "fixture"), 1, new Optimizer("sgd", 0.1, 0.9, 0, 0), 16, TorchWeights.normalises(original));
        TorchWeights.load(original, imported, Architecture.RESNET18, "test", "fixture");
        assertFrozenAndStatisticsMoved(imported, out, report);
    }

    /** Frozen trainable parameters kept their bits, kept ones moved, every running statistic moved. */
    private static void assertFrozenAndStatisticsMoved(Net original, Path out, JsonNode report) throws Exception {
        Configuration conf = new Configuration();
        float[] before = original.params().toFloatVector();
        float[] after = ModelStore.loadNet(out.resolve("model.zip").toString(), "out", conf).params().toFloatVector();
        Bitset mask = MaskFile.read(out.resolve("mask.bin").toString(), conf);
        int statistics = 0;
        int statisticsMoved = 0;
        int offset = 0;
        for (Net.Block b : original.blocks()) {
            if (ParameterRoles.isStatistics(b)) {
                for (int i = offset; i < offset + b.length(); i++) {
                    statistics++;
                    statisticsMoved += before[i] != after[i] ? 1 : 0;
                }
            }
            offset += (int) b.length();
        }
        int trainable = report.at("/mask/trainableParameters").asInt();
        assertEquals(statistics, report.at("/mask/statistics").asInt());
        assertEquals(before.length, report.at("/mask/parameters").asInt());
        assertEquals(SaliencyMask.kept(trainable, 0.5), report.at("/mask/kept").asInt());
        assertTrue(statistics > 0, "no BatchNorm statistics");
        assertEquals(statistics, statisticsMoved, "running statistics that did not move");
        int moved = MaskAssertions.assertMaskedUnchanged(mask, before, after);
        assertTrue(moved > statistics, "only " + moved + " kept entries moved");
    }
}
