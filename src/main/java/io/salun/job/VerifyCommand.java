package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.config.InvalidInputException;
import io.salun.mask.Bitset;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.report.FileDigests;
import io.salun.report.Manifest;
import io.salun.report.OutputDir;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code verify}: checks a published result against its {@code manifest.json} without Spark —
 * the completion marker is there, every output file and every input (original model, data,
 * deletion list) still has the SHA-256 the manifest recorded, and every parameter the mask froze
 * is bit-identical in the unlearned and the original model.
 */
final class VerifyCommand {
    private static final Logger LOG = LoggerFactory.getLogger(VerifyCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private VerifyCommand() {
    }

    /** The problems found in the result at {@code uri}; empty when it verifies. */
    static List<String> check(String uri, Configuration conf) {
        Path dir = new Path(uri);
        List<String> problems = new ArrayList<>();
        JsonNode manifest;
        JsonNode marker;
        try {
            FileSystem fs = dir.getFileSystem(conf);
            if (!fs.exists(new Path(dir, Manifest.FILE))) {
                throw new InvalidInputException("output.dir: " + uri + " holds no " + Manifest.FILE
                        + "; expected the folder an unlearn run published");
            }
            try {
                manifest = readJson(fs, new Path(dir, Manifest.FILE));
            } catch (org.apache.hadoop.fs.ChecksumException e) {
                return List.of(Manifest.FILE + " fails its file system checksum: it was changed after it was written");
            }
            Path success = new Path(dir, OutputDir.SUCCESS);
            marker = fs.exists(success) ? readJson(fs, success) : null;
            if (marker == null) {
                problems.add(OutputDir.SUCCESS + " is missing: the result was never completely published");
            } else {
                for (JsonNode f : marker.get("files")) {
                    String name = f.get("path").asText();
                    compare(problems, name + " (listed in " + OutputDir.SUCCESS + ")", f.get("sha256").asText(),
                            fileSha(fs, new Path(dir, name)));
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = manifest.get("outputs").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> out = it.next();
                compare(problems, "output " + out.getKey(), out.getValue().get("sha256").asText(),
                        fileSha(fs, new Path(dir, out.getKey())));
            }
        } catch (IOException e) {
            throw new InvalidInputException("output.dir: cannot read the result at " + uri + ": " + e.getMessage(), e);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = manifest.get("inputs").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> in = it.next();
            JsonNode entry = in.getValue();
            String found;
            try {
                found = entry.has("parts") ? UnlearnCommand.digestOfFiles(parts(entry.get("parts")), conf).sha256()
                        : FileDigests.of(entry.get("uri").asText(), conf, null).sha256();
            } catch (RuntimeException e) {
                found = "unreadable (" + e.getMessage() + ")";
            }
            compare(problems, "input " + in.getKey() + " at " + entry.get("uri").asText(), entry.get("sha256").asText(), found);
        }
        if (problems.isEmpty() && manifest.get("outputs").has("mask.bin")) {
            Bitset mask = MaskFile.read(new Path(dir, "mask.bin").toString(), conf);
            float[] original = ModelStore.load(manifest.at("/inputs/originalModel/uri").asText(), "originalModel", conf)
                    .params().toFloatVector();
            float[] unlearned = ModelStore.load(new Path(dir, "model.zip").toString(), "model.zip", conf)
                    .params().toFloatVector();
            if (original.length != unlearned.length || original.length != mask.size()) {
                problems.add("mask.bin has " + mask.size() + " bits but the models have " + original.length + " and "
                        + unlearned.length + " parameters");
            } else {
                long moved = UnlearnCommand.changedOutside(mask, original, unlearned);
                if (moved > 0) {
                    problems.add(moved + " parameters the mask froze differ between model.zip and the original model");
                }
            }
        }
        return problems;
    }

    /** Runs the check and prints its verdict; returns whether the result verified. */
    static boolean run(String uri, Configuration conf) {
        LOG.info("verifying {}", uri);
        List<String> problems = check(uri, conf);
        if (problems.isEmpty()) {
            CONSOLE.info("verified: {} matches its manifest (outputs, inputs, frozen parameters)", uri);
            return true;
        }
        for (String p : problems) {
            CONSOLE.info("MISMATCH: {}", p);
        }
        CONSOLE.info("verification failed: {} problem(s) in {}", problems.size(), uri);
        return false;
    }

    private static Map<String, String> parts(JsonNode node) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private static void compare(List<String> problems, String what, String expected, String found) {
        if (!expected.equals(found)) {
            problems.add(what + ": SHA-256 " + found + ", manifest says " + expected);
        }
    }

    private static String fileSha(FileSystem fs, Path file) {
        try {
            return fs.exists(file) ? FileDigests.sha256(fs, file) : "missing";
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    private static JsonNode readJson(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new ObjectMapper().readTree(in);
        }
    }
}
