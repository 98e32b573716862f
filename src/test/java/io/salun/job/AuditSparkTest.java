package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.salun.mask.Bitset;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.report.OutputDir;
import io.salun.spark.JobArgs;
import io.salun.spark.LocalSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit trail of an unlearn run: {@code manifest.json} against hashes computed here, and
 * {@code verify} catching a one-bit change in the model, in the mask, and a frozen weight moved
 * by someone who also rewrote the hashes.
 */
class AuditSparkTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path model;
    private static Path ids;
    private static Path result;

    @BeforeAll
    static void trainAndUnlearn() throws Exception {
        spark = LocalSpark.start("audit");
        model = dir.resolve("original.zip");
        ids = dir.resolve("requests.txt");
        List<String> lines = new ArrayList<>();
        for (int i = 11; i < 3000; i += 13) {
            lines.add(String.valueOf(i));
        }
        Files.write(ids, lines);
        assertEquals(0, Main.run(args("train", "--train.epochs=3")));
        result = dir.resolve("result");
        assertEquals(0, Main.run(args("unlearn", "--output.dir=" + result)));
        assertFalse(Files.exists(dir.resolve(".result.checkpoint")), "checkpoints left behind after publishing");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(String command, String... more) {
        return JobArgs.of(command, List.of("--spark.master=local[2]", "--spark.partitions=2",
                "--data.dir=" + LocalSpark.fashionMnistSlice(), "--model.arch=mlp", "--model.path=" + model,
                "--train.lr=0.05", "--forget.scenario=ids", "--forget.ids=" + ids, "--unlearn.epochs=1"), more);
    }

    @Test
    void manifestRecordsInputsAndOutputsByHash() throws Exception {
        JsonNode m = new ObjectMapper().readTree(result.resolve("manifest.json").toFile());
        assertEquals(sha256(model), m.at("/inputs/originalModel/sha256").asText());
        assertEquals(sha256(ids), m.at("/inputs/forget.ids/sha256").asText());
        assertEquals(4, m.at("/inputs/data.dir/files").asInt());
        assertEquals(230, m.at("/counts/forget").asLong());   // 11, 24, .., 2988
        assertEquals(2770, m.at("/counts/retain").asLong());
        for (String out : List.of("model.zip", "mask.bin", "report.json", "report.html")) {
            assertEquals(sha256(result.resolve(out)), m.at("/outputs/" + out + "/sha256").asText(), out);
        }
        assertEquals(m.at("/settingsSha256").asText(), new ObjectMapper().readTree(result.resolve("report.json").toFile())
                .get("settingsSha256").asText());
        assertTrue(m.at("/versions/spark").asText().startsWith("3.5"));
        assertFalse(m.at("/sparkApplicationId").asText().isEmpty());
        // the deletion list's IDs are not in the manifest (its hash and counts are)
        String text = Files.readString(result.resolve("manifest.json"));
        for (String id : List.of("1480", "2988")) {
            for (String form : List.of("\"" + id + "\"", "[" + id, " " + id + ",", ": " + id + "\n", " " + id + "]")) {
                assertFalse(text.contains(form), "an ID of the deletion list is in the manifest: " + form);
            }
        }
        assertEquals(0, Main.run(new String[] {"verify", "--output.dir=" + result}));
    }

    @Test
    void verifyCatchesOneFlippedBit() throws Exception {
        for (String file : List.of("model.zip", "mask.bin")) {
            Path copy = copyOfResult("flip-" + file.replace('.', '-'));
            byte[] bytes = Files.readAllBytes(copy.resolve(file));
            bytes[bytes.length / 2] ^= 0x10;
            Files.write(copy.resolve(file), bytes);
            assertEquals(Main.NOT_VERIFIED, Main.run(new String[] {"verify", "--output.dir=" + copy}), file);
        }
    }

    @Test
    void verifyCatchesAFrozenWeightMovedEvenWithRewrittenHashes() throws Exception {
        Path copy = copyOfResult("forged");
        Configuration conf = new Configuration();
        Bitset mask = MaskFile.read(copy.resolve("mask.bin").toString(), conf);
        MultiLayerNetwork net = ModelStore.load(copy.resolve("model.zip").toString(), "model", conf);
        int frozen = 0;
        while (mask.get(frozen)) {
            frozen++;
        }
        net.params().putScalar(frozen, net.params().getFloat(frozen) + 0.5f);
        Files.delete(copy.resolve("model.zip"));
        ModelStore.save(net, copy.resolve("model.zip").toString(), false, conf);
        // the forger rewrites the manifest's and the marker's hashes to match
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(copy.resolve("manifest.json").toFile());
        ((ObjectNode) manifest.at("/outputs/model.zip")).put("sha256", sha256(copy.resolve("model.zip")))
                .put("bytes", Files.size(copy.resolve("model.zip")));
        Files.writeString(copy.resolve("manifest.json"), json.writeValueAsString(manifest));
        ObjectNode marker = (ObjectNode) json.readTree(copy.resolve(OutputDir.SUCCESS).toFile());
        for (JsonNode f : marker.get("files")) {
            ((ObjectNode) f).put("sha256", sha256(copy.resolve(f.get("path").asText())));
        }
        Files.writeString(copy.resolve(OutputDir.SUCCESS), json.writeValueAsString(marker));
        assertEquals(0, VerifyCommand.check(copy.toString(), conf).stream().filter(p -> p.contains("SHA-256")).count());
        List<String> problems = VerifyCommand.check(copy.toString(), conf);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("1 parameters the mask froze"), problems.get(0));
        assertEquals(Main.NOT_VERIFIED, Main.run(new String[] {"verify", "--output.dir=" + copy}));
    }

    @Test
    void verifyFailsWhenAFileTheReportNamesIsMissingEvenIfManifestAndMarkerOmitIt() throws Exception {
        // what a run whose staging folder lost mask.bin used to publish: the report names the mask,
        // while the manifest and the marker were written from the files that were left
        Path copy = copyOfResult("no-mask");
        Files.delete(copy.resolve("mask.bin"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(copy.resolve("manifest.json").toFile());
        ((ObjectNode) manifest.get("outputs")).remove("mask.bin");
        Files.writeString(copy.resolve("manifest.json"), json.writeValueAsString(manifest));
        ObjectNode marker = (ObjectNode) json.readTree(copy.resolve(OutputDir.SUCCESS).toFile());
        com.fasterxml.jackson.databind.node.ArrayNode kept = json.createArrayNode();
        for (JsonNode f : marker.get("files")) {
            if (!f.get("path").asText().equals("mask.bin")) {
                ((ObjectNode) f).put("sha256", sha256(copy.resolve(f.get("path").asText())));
                kept.add(f);
            }
        }
        marker.set("files", kept);
        Files.writeString(copy.resolve(OutputDir.SUCCESS), json.writeValueAsString(marker));
        List<String> problems = VerifyCommand.check(copy.toString(), new Configuration());
        assertTrue(problems.contains("report.json names mask.bin, which manifest.json does not list"), problems.toString());
        assertTrue(problems.contains("report.json names mask.bin, which is missing"), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("the frozen parameters were not checked")), problems.toString());
        assertEquals(Main.NOT_VERIFIED, Main.run(new String[] {"verify", "--output.dir=" + copy}));
    }

    @Test
    void verifyClaimsOnlyTheChecksItMade() {
        VerifyCommand.Verdict masked = VerifyCommand.verify(result.toString(), new Configuration());
        assertEquals(List.of(), masked.problems());
        assertTrue(masked.checked().stream().anyMatch(c -> c.endsWith("frozen parameters bit-identical to the original")),
                masked.checked().toString());
        Path unmasked = dir.resolve("rl");
        assertEquals(0, Main.run(args("unlearn", "--unlearn.method=rl", "--output.dir=" + unmasked)));
        VerifyCommand.Verdict rl = VerifyCommand.verify(unmasked.toString(), new Configuration());
        assertEquals(List.of(), rl.problems());
        assertTrue(rl.checked().stream().noneMatch(c -> c.contains("bit-identical")), rl.checked().toString());
        assertTrue(rl.checked().stream().anyMatch(c -> c.startsWith("no mask")), rl.checked().toString());
    }

    private static Path copyOfResult(String name) throws IOException {
        Path copy = Files.createDirectories(dir.resolve(name));
        try (var files = Files.list(result)) {
            // a copy as someone would make it: the data files, not the local file system's .crc files
            for (Path f : files.filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                Files.copy(f, copy.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return copy;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
