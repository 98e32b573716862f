package io.salun.job;

import io.salun.model.Architecture;
import io.salun.model.ModelStore;
import io.salun.model.Optimizer;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import io.salun.spark.LogCapture;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.Level;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every bad input the job refuses: exit code 2, an error that names the problem, no output or
 * staging folder afterwards, and every input file unchanged.
 */
class BadInputSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path model;
    private static Map<Path, String> inputHashes;

    /** One bad input: what to pass and a fragment the error must contain. */
    record Case(String name, String expected, String... args) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    static void trainAndBreakInputs() throws Exception {
        spark = LocalSpark.start("bad-input");
        model = dir.resolve("original.zip");
        assertEquals(0, Main.run(args("train", "--train.epochs=1")));
        Configuration conf = new Configuration();
        // inputs that are broken in one way each
        Path corruptIdx = Files.createDirectories(dir.resolve("corrupt-idx"));
        try (Stream<Path> files = Files.list(LocalSpark.fashionMnistSlice())) {
            for (Path f : files.filter(f -> f.toString().endsWith(".gz")).toList()) {
                Files.copy(f, corruptIdx.resolve(f.getFileName()));
            }
        }
        byte[] images = Files.readAllBytes(corruptIdx.resolve("train-images-idx3-ubyte.gz"));
        Files.write(corruptIdx.resolve("train-images-idx3-ubyte.gz"), java.util.Arrays.copyOf(images, images.length / 3));
        Path notAModel = dir.resolve("not-a-model.zip");
        Files.writeString(notAModel, "this is a text file, not a DL4J model\n");
        Path fiveClasses = dir.resolve("five-classes.zip");
        save(Architecture.MLP, 28, 28, 5, fiveClasses);
        Path smallInput = dir.resolve("ten-by-ten.zip");
        save(Architecture.MLP, 10, 10, 10, smallInput);
        Path nanModel = dir.resolve("nan.zip");
        MultiLayerNetwork broken = ModelStore.load(model.toString(), "model", conf);
        broken.params().putScalar(7, Float.NaN);
        ModelStore.save(broken, nanModel.toString(), false, conf);
        Path unknownIds = dir.resolve("unknown-ids.txt");
        Files.writeString(unknownIds, "5\n17\n99999\n");
        Path taken = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(taken.resolve("keep.txt"), "mine");
        StructType schema = new StructType().add("id", DataTypes.LongType).add("label", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType));
        float[] withNaN = new float[784];
        withNaN[100] = Float.NaN;
        String nanTable = dir.resolve("nan-table").toString();
        spark.createDataFrame(List.of(RowFactory.create(1L, 0, new float[784]), RowFactory.create(2L, 1, withNaN)), schema)
                .write().parquet(nanTable);
        Path corruptParquet = Files.createDirectories(dir.resolve("corrupt-parquet"));
        Files.write(corruptParquet.resolve("part-00000.parquet"), "PAR1 but not really a parquet file".getBytes());

        Files.write(dir.resolve("empty.zip"), new byte[0]);
        Files.writeString(dir.resolve("utf16-ids.txt"), "5\n17\n", java.nio.charset.StandardCharsets.UTF_16);
        Files.writeString(dir.resolve("words.txt"), "5\nseventeen\n");
        Files.writeString(dir.resolve("typo.properties"), "unlearn.epochs=1\nsaliency.ratoi=0.5\n");
        Files.writeString(dir.resolve("a-file"), "not a folder");
        writeBrokenPyTorchWeights();

        inputHashes = hashes(inputs());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + model,
                "--unlearn.epochs=1"), more);
    }

    static Stream<Case> cases() {
        Path corruptIdx = dir.resolve("corrupt-idx");
        Path notAModel = dir.resolve("not-a-model.zip");
        Path fiveClasses = dir.resolve("five-classes.zip");
        Path smallInput = dir.resolve("ten-by-ten.zip");
        Path nanModel = dir.resolve("nan.zip");
        Path unknownIds = dir.resolve("unknown-ids.txt");
        Path taken = dir.resolve("taken");
        String nanTable = dir.resolve("nan-table").toString();
        Path corruptParquet = dir.resolve("corrupt-parquet");
        String parquet = "--data.format=parquet";
        return Stream.of(
                new Case("unknown key", "saliency.ratio", "--saliency.ratoi=0.5"),
                new Case("mask ratio 0", "saliency.ratio", "--saliency.ratio=0"),
                new Case("mask ratio above 1", "saliency.ratio", "--saliency.ratio=1.5"),
                new Case("zero epochs", "unlearn.epochs", "--unlearn.epochs=0"),
                new Case("negative lr", "unlearn.lr", "--unlearn.lr=-0.1"),
                new Case("zero batch", "unlearn.batch", "--unlearn.batch=0"),
                new Case("unknown method", "unlearn.method", "--unlearn.method=forgetful"),
                new Case("decreasing schedule milestones", "unlearn.lr-schedule", "--unlearn.lr-schedule=step:3,2"),
                new Case("zero epochs in a sweep grid", "benchmark.salun.epochs-grid", "--benchmark.salun.epochs-grid=0,3"),
                new Case("a word in SSD's alpha grid", "benchmark.ssd.alpha-grid", "--benchmark.ssd.alpha-grid=2,lots"),
                new Case("NegGrad+ beta above 1", "unlearn.neggrad-beta", "--unlearn.neggrad-beta=1.5"),
                new Case("SFR-on under SalUn's mask", "unlearn.mask: sfron", "--unlearn.method=sfron", "--unlearn.mask=true"),
                new Case("SFR-on threshold 0", "unlearn.sfron-threshold", "--unlearn.method=sfron",
                        "--unlearn.sfron-threshold=0"),
                new Case("unknown scenario", "forget.scenario", "--forget.scenario=everything"),
                new Case("missing data", "data.dir", "--data.dir=" + dir.resolve("no-data")),
                new Case("corrupt IDX", "train-images-idx3-ubyte.gz", "--data.dir=" + corruptIdx),
                new Case("missing model", "model.path", "--model.path=" + dir.resolve("missing.zip")),
                new Case("not a DL4J model", "model.path", "--model.path=" + notAModel),
                new Case("NaN weights", "NaN", "--model.path=" + nanModel),
                new Case("labels outside the model's classes", "labels outside", "--model.path=" + fiveClasses),
                new Case("image shape the model does not take", "does not accept", "--model.path=" + smallInput),
                new Case("empty forget set", "forget set is empty", "--forget.scenario=class", "--forget.classes=42"),
                new Case("forget set is the whole training set", "whole training set", "--forget.scenario=class",
                        "--forget.classes=0,1,2,3,4,5,6,7,8,9"),
                new Case("deletion IDs absent from the data", "match no training record", "--forget.scenario=ids",
                        "--forget.ids=" + unknownIds),
                new Case("missing deletion list", "forget.ids", "--forget.scenario=ids",
                        "--forget.ids=" + dir.resolve("no-such-list.csv")),
                new Case("ids scenario without a list", "forget.ids", "--forget.scenario=ids"),
                new Case("output is the model", "output.dir", "--output.dir=" + model),
                new Case("output already present", "already exists", "--output.dir=" + taken),
                new Case("NaN in the data", "NaN", parquet, "--data.train=" + nanTable, "--data.test=" + nanTable),
                new Case("corrupt Parquet", "data.train", parquet, "--data.train=" + corruptParquet,
                        "--data.test=" + nanTable),
                new Case("parquet without a table", "data.train", parquet),
                new Case("unknown command", "command", "--command=none"),
                new Case("mask keeps no parameter", "keeps floor(", "--saliency.ratio=1e-9"),
                new Case("empty model file", "is empty (0 bytes)", "--model.path=" + dir.resolve("empty.zip")),
                new Case("UTF-16 deletion list", "is UTF-16", "--forget.scenario=ids",
                        "--forget.ids=" + dir.resolve("utf16-ids.txt")),
                new Case("deletion list of non-integers", "are not integers", "--forget.scenario=ids",
                        "--forget.ids=" + dir.resolve("words.txt")),
                new Case("unknown key in a settings file", "settings file " + dir.resolve("typo.properties"),
                        "--conf=" + dir.resolve("typo.properties")),
                new Case("output is a file", "is a file", "--output.dir=" + dir.resolve("a-file")),
                new Case("output inside a file", "is a file", "--output.dir=" + dir.resolve("a-file").resolve("out")),
                new Case("output where nothing may be created", "output.dir", "--output.dir=/sys/salun-out"),
                new Case("checkpoint folder is a file", "checkpoint.dir", "--checkpoint.dir=" + dir.resolve("a-file")),
                new Case("PyTorch weights without a key", "lacks fc2.bias (expected shape [10]", "--model.arch=lenet",
                        "--model.path=" + dir.resolve("missing-key.safetensors")),
                new Case("PyTorch weights with an extra key", "does not have: [fc3.weight]", "--model.arch=lenet",
                        "--model.path=" + dir.resolve("unexpected-key.safetensors")),
                new Case("PyTorch weights of another shape", "conv2.weight has shape [50, 20, 3, 3]; this lenet"
                        + " (model.width, data.image.*) needs [50, 20, 5, 5]", "--model.arch=lenet",
                        "--model.path=" + dir.resolve("wrong-shape.safetensors")),
                new Case("PyTorch weights of another dtype", "fc1.bias has dtype I64", "--model.arch=lenet",
                        "--model.path=" + dir.resolve("wrong-dtype.safetensors")),
                new Case("truncated PyTorch weights", "truncated", "--model.arch=lenet",
                        "--model.path=" + dir.resolve("truncated.safetensors")),
                new Case("PyTorch weights of an architecture without a mapping", "model.arch: PyTorch weights",
                        "--model.arch=mlp", "--model.path=" + dir.resolve("missing-key.safetensors")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void exitsWithTwoNamesTheProblemAndWritesNothing(Case c) throws Exception {
        Path out = dir.resolve("bad-" + c.name().replaceAll("[^a-zA-Z0-9]+", "-"));
        List<String> a = new ArrayList<>(List.of("--output.dir=" + out));
        a.addAll(List.of(c.args()));
        String[] command = c.name().equals("unknown command") ? new String[] {"frobnicate"}
                : args("unlearn", a.toArray(String[]::new));
        int[] code = new int[1];
        List<String> log = LogCapture.during(Level.ERROR, () -> code[0] = Main.run(command));
        String errors = String.join("\n", log);
        assertEquals(Main.BAD_INPUT, code[0], errors);
        assertTrue(errors.contains(c.expected()), "the error does not name '" + c.expected() + "': " + errors);
        if (!List.of("output already present", "output is the model", "output is a file", "output inside a file",
                "output where nothing may be created").contains(c.name())) {
            assertFalse(Files.exists(out), "output written");
        }
        for (String leftover : List.of(".staging", ".checkpoint", ".lease")) {
            assertFalse(Files.exists(out.resolveSibling("." + out.getFileName() + leftover)), leftover + " left behind");
        }
        assertEquals("not a folder", Files.readString(dir.resolve("a-file")));
        try (Stream<Path> kept = Files.list(dir.resolve("taken"))) {
            assertEquals(List.of(dir.resolve("taken").resolve("keep.txt")), kept.toList());
        }
        assertEquals(inputHashes, hashes(inputs()));
    }

    @Test
    void trainRefusesTooAndWritesNoModel() {
        assertEquals(Main.BAD_INPUT, Main.run(args("train", "--data.classes=5", "--model.path=" + dir.resolve("never.zip"))));
        assertFalse(Files.exists(dir.resolve("never.zip")));
    }

    /** PyTorch LeNet weights broken in one way each: a key missing or extra, a shape or dtype wrong, the file cut. */
    private static void writeBrokenPyTorchWeights() throws IOException {
        io.salun.model.Net lenet = Architecture.LENET.network(28, 28, 1, 10, 1, new Optimizer("sgd", 0.1, 0, 0, 0), 64);
        Map<String, io.salun.model.Safetensors.Tensor> good = io.salun.model.TorchWeights.export(lenet, Architecture.LENET,
                java.util.Optional.empty());
        Map<String, Map<String, io.salun.model.Safetensors.Tensor>> variants = new LinkedHashMap<>();
        Map<String, io.salun.model.Safetensors.Tensor> missing = new LinkedHashMap<>(good);
        missing.remove("fc2.bias");
        variants.put("missing-key", missing);
        Map<String, io.salun.model.Safetensors.Tensor> extra = new LinkedHashMap<>(good);
        extra.put("fc3.weight", io.salun.model.Safetensors.Tensor.ofFloats(new long[] {2, 2}, new float[4]));
        variants.put("unexpected-key", extra);
        Map<String, io.salun.model.Safetensors.Tensor> shape = new LinkedHashMap<>(good);
        shape.put("conv2.weight", io.salun.model.Safetensors.Tensor.ofFloats(new long[] {50, 20, 3, 3}, new float[9000]));
        variants.put("wrong-shape", shape);
        Map<String, io.salun.model.Safetensors.Tensor> dtype = new LinkedHashMap<>(good);
        dtype.put("fc1.bias", new io.salun.model.Safetensors.Tensor("I64", new long[] {500}, new byte[4000]));
        variants.put("wrong-dtype", dtype);
        for (Map.Entry<String, Map<String, io.salun.model.Safetensors.Tensor>> v : variants.entrySet()) {
            try (java.io.OutputStream out = Files.newOutputStream(dir.resolve(v.getKey() + ".safetensors"))) {
                io.salun.model.Safetensors.write(v.getValue(), Map.of(), out);
            }
        }
        java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
        io.salun.model.Safetensors.write(good, Map.of(), whole);
        Files.write(dir.resolve("truncated.safetensors"), java.util.Arrays.copyOf(whole.toByteArray(), whole.size() / 2));
    }

    private static List<Path> inputs() {
        return List.of(LocalSpark.fashionMnistSlice(), model, dir.resolve("corrupt-idx"), dir.resolve("unknown-ids.txt"),
                dir.resolve("nan-table"), dir.resolve("utf16-ids.txt"), dir.resolve("words.txt"), dir.resolve("empty.zip"),
                dir.resolve("missing-key.safetensors"), dir.resolve("truncated.safetensors"));
    }

    private static void save(Architecture arch, int rows, int cols, int classes, Path path) {
        MultiLayerNetwork net = new MultiLayerNetwork(arch.configuration(rows, cols, classes, 1,
                new Optimizer("sgd", 0.1, 0, 0, 0)));
        net.init();
        ModelStore.save(net, path.toString(), false, new Configuration());
    }

    /** SHA-256 of every file under the given files and folders. */
    private static Map<Path, String> hashes(List<Path> roots) throws IOException {
        Map<Path, String> out = new TreeMap<>();
        for (Path root : roots) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    try {
                        out.put(f, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
                    } catch (java.security.NoSuchAlgorithmException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        return out;
    }
}
