package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.config.InvalidInputException;
import io.salun.mask.Bitset;
import io.salun.mask.FrozenParameters;
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
import java.util.Set;
import java.util.TreeSet;

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

    /** What a verification found: its problems, and the checks it actually made. */
    record Verdict(List<String> problems, List<String> checked) {
    }

    /** The problems found in the result at {@code uri}; empty when it verifies. */
    static List<String> check(String uri, Configuration conf) {
        return verify(uri, conf).problems();
    }

    /**
     * Checks the result at {@code uri}: the completion marker and every file it lists, the
     * manifest's outputs (and that marker and manifest name the same files), every file the
     * report names, the inputs' hashes, and the frozen parameters when the run had a mask.
     * A check that cannot be made is a problem, never a silent pass.
     */
    static Verdict verify(String uri, Configuration conf) {
        Path dir = new Path(uri);
        List<String> problems = new ArrayList<>();
        List<String> checked = new ArrayList<>();
        JsonNode manifest;
        JsonNode report = null;
        Set<String> outputs = new TreeSet<>();
        try {
            FileSystem fs = dir.getFileSystem(conf);
            if (!fs.exists(new Path(dir, Manifest.FILE))) {
                throw new InvalidInputException("output.dir: " + uri + " holds no " + Manifest.FILE
                        + "; expected the folder an unlearn run published");
            }
            try {
                manifest = readJson(fs, new Path(dir, Manifest.FILE));
            } catch (org.apache.hadoop.fs.ChecksumException e) {
                return new Verdict(List.of(Manifest.FILE + " fails its file system checksum: it was changed after it was written"),
                        checked);
            }
            manifest.get("outputs").fieldNames().forEachRemaining(outputs::add);
            Path success = new Path(dir, OutputDir.SUCCESS);
            JsonNode marker = fs.exists(success) ? readJson(fs, success) : null;
            if (marker == null) {
                problems.add(OutputDir.SUCCESS + " is missing: the result was never completely published");
            } else {
                Set<String> listed = new TreeSet<>();
                for (JsonNode f : marker.get("files")) {
                    String name = f.get("path").asText();
                    listed.add(name);
                    compare(problems, name + " (listed in " + OutputDir.SUCCESS + ")", f.get("sha256").asText(),
                            fileSha(fs, new Path(dir, name)));
                }
                Set<String> expected = new TreeSet<>(outputs);
                expected.add(Manifest.FILE);
                for (String name : expected) {
                    if (!listed.contains(name)) {
                        problems.add(name + " is in " + Manifest.FILE + " but not in " + OutputDir.SUCCESS);
                    }
                }
                for (String name : listed) {
                    if (!expected.contains(name)) {
                        problems.add(name + " is in " + OutputDir.SUCCESS + " but not in " + Manifest.FILE);
                    }
                }
            }
            for (String name : outputs) {
                compare(problems, "output " + name, manifest.get("outputs").get(name).get("sha256").asText(),
                        fileSha(fs, new Path(dir, name)));
            }
            checked.add(outputs.size() + " output files");
            if (outputs.contains("report.json") && fs.exists(new Path(dir, "report.json"))) {
                try {
                    report = readJson(fs, new Path(dir, "report.json"));
                } catch (IOException e) {
                    problems.add("report.json does not read as JSON: " + e.getMessage());
                }
            }
            for (String named : namedFiles(report)) {
                if (!outputs.contains(named)) {
                    problems.add("report.json names " + named + ", which " + Manifest.FILE + " does not list");
                }
                if (!fs.exists(new Path(dir, named))) {
                    problems.add("report.json names " + named + ", which is missing");
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException("output.dir: cannot read the result at " + uri + ": " + e.getMessage(), e);
        }
        int inputs = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = manifest.get("inputs").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> in = it.next();
            JsonNode entry = in.getValue();
            String found;
            try {
                found = entry.has("parts") ? FileDigests.ofParts(parts(entry.get("parts")), conf).sha256()
                        : FileDigests.of(entry.get("uri").asText(), conf, null).sha256();
            } catch (RuntimeException e) {
                found = "unreadable (" + e.getMessage() + ")";
            }
            compare(problems, "input " + in.getKey() + " at " + entry.get("uri").asText(), entry.get("sha256").asText(), found);
            inputs++;
        }
        checked.add(inputs + " inputs");
        boolean masked = outputs.contains("mask.bin") || namedFiles(report).contains("mask.bin");
        if (!masked) {
            checked.add("no mask (every parameter was trainable, so no frozen parameter to check)");
        } else if (!problems.isEmpty()) {
            problems.add("the frozen parameters were not checked: the files above must verify first");
        } else {
            Bitset mask = MaskFile.read(new Path(dir, "mask.bin").toString(), conf);
            float[] original = originalParameters(manifest.at("/inputs/originalModel/uri").asText(), report, conf);
            float[] unlearned = ModelStore.loadNet(new Path(dir, "model.zip").toString(), "model.zip", conf)
                    .params().toFloatVector();
            if (original.length != unlearned.length || original.length != mask.size()) {
                problems.add("mask.bin has " + mask.size() + " bits but the models have " + original.length + " and "
                        + unlearned.length + " parameters");
            } else {
                long moved = FrozenParameters.movedOutside(mask, original, unlearned);
                if (moved > 0) {
                    problems.add(moved + " parameters the mask froze differ between model.zip and the original model");
                }
                JsonNode trainable = manifest.at("/mask/trainable");
                if (trainable.isNumber() && trainable.asLong() != mask.cardinality()) {
                    problems.add("mask.bin keeps " + mask.cardinality() + " parameters but " + Manifest.FILE + " says "
                            + trainable.asLong());
                }
                checked.add((mask.size() - mask.cardinality()) + " frozen parameters bit-identical to the original");
                long statistics = report == null ? 0 : report.at("/mask/statistics").asLong(0);
                if (statistics > 0) {
                    checked.add(statistics + " BatchNorm running statistics free to move (never frozen)");
                }
            }
        }
        return new Verdict(problems, checked);
    }

    /**
     * The original model's flat parameters in DL4J's order: a DL4J zip as it is, PyTorch weights
     * mapped onto the network the report names ({@code model.arch}, width, input shape).
     */
    static float[] originalParameters(String uri, JsonNode report, Configuration conf) {
        if (!ModelStore.isSafetensors(uri)) {
            return ModelStore.loadNet(uri, "originalModel", conf).params().toFloatVector();
        }
        JsonNode model = report == null ? null : report.get("model");
        if (model == null || !model.has("arch") || !model.has("inputShape")) {
            throw new InvalidInputException("output.dir: the original model " + uri + " is PyTorch weights, and report.json"
                    + " does not say which architecture and input shape they were read as");
        }
        io.salun.model.Architecture arch = io.salun.model.Architecture.parse(model.get("arch").asText());
        java.util.Map<String, io.salun.model.Safetensors.Tensor> state = ModelStore.readSafetensors(uri, "originalModel", conf);
        JsonNode shape = model.get("inputShape");
        io.salun.model.Net net = arch.network(shape.get(0).asInt(), shape.get(1).asInt(), shape.get(2).asInt(),
                io.salun.model.TorchWeights.classes(state, arch, "originalModel", uri), 0,
                new io.salun.model.Optimizer("sgd", 0.1, 0, 0, 0), model.path("width").asInt(64),
                io.salun.model.TorchWeights.normalises(state));
        io.salun.model.TorchWeights.load(state, net, arch, "originalModel", uri);
        return net.params().toFloatVector();
    }

    /** The output files a report names: its {@code files} list and its mask file. */
    static Set<String> namedFiles(JsonNode report) {
        Set<String> named = new TreeSet<>();
        if (report == null) {
            return named;
        }
        report.path("files").forEach(f -> named.add(f.asText()));
        JsonNode maskFile = report.at("/mask/file");
        if (maskFile.isTextual()) {
            named.add(maskFile.asText());
        }
        return named;
    }

    /** Runs the check and prints its verdict; returns whether the result verified. */
    static boolean run(String uri, Configuration conf) {
        LOG.info("verifying {}", uri);
        Verdict verdict = verify(uri, conf);
        if (verdict.problems().isEmpty()) {
            CONSOLE.info("verified: {} matches its manifest: {}", uri, String.join(", ", verdict.checked()));
            return true;
        }
        for (String p : verdict.problems()) {
            CONSOLE.info("MISMATCH: {}", p);
        }
        CONSOLE.info("verification failed: {} problem(s) in {}", verdict.problems().size(), uri);
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
