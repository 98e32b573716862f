package io.salun.report;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code manifest.json}: the audit record published with each result — what went in (SHA-256 of
 * the original model, the data and the deletion list, with counts but never an ID), how (the
 * settings and their hash, versions, Spark application, times), and what came out (SHA-256 of
 * every output file, record counts, metrics). The {@code verify} command checks a result against
 * it.
 */
public final class Manifest {
    /** Name of the file in an output folder. */
    public static final String FILE = "manifest.json";
    /** Format tag, raised when fields change meaning. */
    public static final String FORMAT = "salun-spark/manifest/1";

    private final Map<String, Object> manifest = new LinkedHashMap<>();
    private final Map<String, Object> inputs = new LinkedHashMap<>();

    public Manifest(String command) {
        manifest.put("format", FORMAT);
        manifest.put("command", command);
    }

    /** Records an input: its URI, SHA-256 and size; {@code extra} adds fields such as counts. */
    public Manifest input(String name, String uri, FileDigests.Digest digest, Map<String, Object> extra) {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("uri", uri);
        in.put("sha256", digest.sha256());
        in.put("files", digest.files());
        in.put("bytes", digest.bytes());
        in.putAll(extra);
        inputs.put(name, in);
        return this;
    }

    /** The inputs' names and SHA-256, one per line: what a checkpoint must have been made from. */
    public String inputsFingerprint() {
        StringBuilder text = new StringBuilder();
        inputs.forEach((name, in) -> text.append(name).append(' ')
                .append(((Map<?, ?>) in).get("sha256")).append('\n'));
        return text.toString();
    }

    /** Adds a top-level field. */
    public Manifest put(String key, Object value) {
        manifest.put(key, value);
        return this;
    }

    /** The manifest with {@code outputs} (file → size and SHA-256) as JSON. */
    public String json(Map<String, FileDigests.Entry> outputs) {
        Map<String, Object> out = new LinkedHashMap<>(manifest);
        out.put("inputs", inputs);
        Map<String, Object> files = new LinkedHashMap<>();
        outputs.forEach((name, e) -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("bytes", e.bytes());
            f.put("sha256", e.sha256());
            files.put(name, f);
        });
        out.put("outputs", files);
        return Report.toJson(out);
    }
}
