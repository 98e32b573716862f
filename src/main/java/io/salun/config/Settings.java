package io.salun.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The declared settings of a job (its catalogue) and the values read for one run. Immutable.
 *
 * <p>Each value comes from, in increasing precedence: the declared default, the properties
 * file ({@code conf/*.properties}), a {@code --key=value} command-line override. Loading
 * validates everything at once and reports every problem in one {@link InvalidInputException}:
 * an unknown key (with the nearest declared key by Levenshtein distance as a suggestion), or a
 * value of the wrong type or out of range (naming key, expectation and the text found).
 *
 * <p>{@link #effective()} lists every declared key with its value as text, in the same text
 * form the parsers accept, so a run can be reproduced by passing it back as overrides;
 * {@link #sha256()} identifies it for provenance.
 */
public final class Settings {

    private static final String FILE = "the settings file";
    private static final String COMMAND_LINE = "command line";

    private final Map<String, Setting<?>> catalogue;
    private final Map<String, Object> values;
    private final SortedMap<String, String> effective;

    private Settings(Map<String, Setting<?>> catalogue, Map<String, Object> values) {
        this.catalogue = catalogue;
        this.values = values;
        SortedMap<String, String> text = new TreeMap<>();
        values.forEach((key, value) -> text.put(key, catalogue.get(key).format(value)));
        this.effective = Collections.unmodifiableSortedMap(text);
    }

    /**
     * Resolves and validates the value of every declared setting.
     *
     * @param catalogue the declared settings; keys must be distinct
     * @param fileValues values from the properties file (may be empty)
     * @param overrides command-line values, see {@link #parseOverrides}; they win over the file
     * @throws InvalidInputException listing every unknown key and every invalid value
     * @throws IllegalArgumentException if the catalogue declares a key twice
     */
    public static Settings load(List<Setting<?>> catalogue, Properties fileValues, Map<String, String> overrides) {
        return load(catalogue, fileValues, Map.of(), overrides);
    }

    /**
     * As {@link #load(List, Properties, Map)}, with {@code fileOrigins} naming the file each
     * key of {@code fileValues} came from, so an error about it names that file.
     */
    public static Settings load(List<Setting<?>> catalogue, Properties fileValues, Map<String, String> fileOrigins,
                                Map<String, String> overrides) {
        java.util.function.Function<String, String> origin = key -> fileOrigins.containsKey(key)
                ? "settings file " + fileOrigins.get(key) : FILE;
        Map<String, Setting<?>> declared = new TreeMap<>();
        for (Setting<?> setting : catalogue) {
            if (declared.put(setting.key(), setting) != null) {
                throw new IllegalArgumentException("setting '" + setting.key() + "' is declared twice");
            }
        }
        List<String> problems = new ArrayList<>();
        Map<String, String> fromFile = new TreeMap<>();
        for (String key : fileValues.stringPropertyNames()) {
            fromFile.put(key, fileValues.getProperty(key));
        }
        fromFile.keySet().stream().filter(k -> !declared.containsKey(k))
                .forEach(k -> problems.add(unknown(k, origin.apply(k), declared)));
        overrides.keySet().stream().filter(k -> !declared.containsKey(k)).sorted()
                .forEach(k -> problems.add(unknown(k, COMMAND_LINE + " --" + k, declared)));

        Map<String, Object> values = new TreeMap<>();
        for (Setting<?> setting : declared.values()) {
            String key = setting.key();
            try {
                if (overrides.containsKey(key)) {
                    values.put(key, setting.parse(overrides.get(key), COMMAND_LINE + " --" + key));
                } else if (fromFile.containsKey(key)) {
                    values.put(key, setting.parse(fromFile.get(key), origin.apply(key)));
                } else {
                    values.put(key, setting.defaultValue());
                }
            } catch (InvalidInputException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidInputException(problems.size() == 1 ? problems.get(0)
                    : "invalid settings:\n  " + String.join("\n  ", problems));
        }
        return new Settings(Collections.unmodifiableMap(declared), Collections.unmodifiableMap(values));
    }

    /**
     * Parses command-line overrides of the form {@code --key=value} (value may be empty and may
     * contain '='). Anything else, or a key given twice, is rejected.
     *
     * @throws InvalidInputException naming the offending argument
     */
    public static Map<String, String> parseOverrides(String[] args) {
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0 || eq == 2) {
                throw new InvalidInputException("command-line argument '" + arg
                        + "': expected --key=value, found " + (arg.startsWith("--")
                        ? (eq < 0 ? "no '='" : "an empty key") : "no leading '--'"));
            }
            String key = arg.substring(2, eq);
            if (overrides.containsKey(key)) {
                throw new InvalidInputException("command-line argument '" + arg + "': expected each key once, found --"
                        + key + " given twice");
            }
            overrides.put(key, arg.substring(eq + 1));
        }
        return Collections.unmodifiableMap(overrides);
    }

    /**
     * A local file, or a Hadoop URI with a scheme ({@code hdfs://}, {@code s3a://}, {@code gs://}
     * …) so a settings file can live beside the data on a cluster.
     */
    private static Reader open(String path) throws IOException {
        if (path.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*")) {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
            org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(new org.apache.hadoop.conf.Configuration());
            return new java.io.InputStreamReader(fs.open(p), StandardCharsets.UTF_8);
        }
        return Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8);
    }

    /**
     * Reads a properties file (a local path or a Hadoop URI) as UTF-8. A key that occurs twice is rejected: with plain
     * {@link Properties} the last one silently wins, which hides editing mistakes.
     *
     * @throws InvalidInputException naming the path if it is missing, unreadable or repeats a key
     */
    public static Properties readProperties(String path) {
        Properties strict = new Properties() {
            private static final long serialVersionUID = 1L;

            @Override
            public synchronized Object put(Object key, Object value) {
                if (containsKey(key)) {
                    throw new InvalidInputException("settings file " + path + ": expected each key once, found '"
                            + key + "' twice");
                }
                return super.put(key, value);
            }
        };
        try (Reader reader = open(path)) {
            strict.load(reader);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new InvalidInputException("settings file " + path + ": expected a readable file, found none", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidInputException("settings file " + path + ": cannot read: " + e, e);
        }
        Properties plain = new Properties();
        strict.forEach(plain::put);
        return plain;
    }

    /**
     * The value of {@code setting} for this run.
     *
     * @throws IllegalArgumentException if {@code setting} is not the one declared in the catalogue
     */
    public <T> T get(Setting<T> setting) {
        if (!setting.equals(catalogue.get(setting.key()))) {
            throw new IllegalArgumentException("setting '" + setting.key() + "' is not in this catalogue");
        }
        return setting.type().cast(values.get(setting.key()));
    }

    /** Every declared key mapped to its value as text, sorted by key; unmodifiable. */
    public SortedMap<String, String> effective() {
        return effective;
    }

    /**
     * SHA-256 (lower-case hex) of {@link #effective()} in a canonical form: entries in key
     * order, each as {@code <len(key)>:<key><len(value)>:<value>} in UTF-8, lengths in UTF-16
     * units. Length prefixes make it unambiguous whatever characters keys and values hold.
     */
    public String sha256() {
        StringBuilder canonical = new StringBuilder();
        effective.forEach((key, value) -> canonical.append(key.length()).append(':').append(key)
                .append(value.length()).append(':').append(value));
        return sha256Hex(canonical.toString());
    }

    /** SHA-256 (lower-case hex) of {@code text} in UTF-8. */
    public static String sha256Hex(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "Settings" + effective;
    }

    private static String unknown(String key, String origin, Map<String, Setting<?>> declared) {
        String nearest = null;
        int best = Integer.MAX_VALUE;
        for (String candidate : declared.keySet()) {
            int d = levenshtein(key, candidate);
            if (d < best) {
                best = d;
                nearest = candidate;
            }
        }
        String message = "setting '" + key + "' (" + origin + "): expected a declared setting, found an unknown key";
        if (nearest != null && best <= Math.max(2, key.length() / 3)) {
            return message + "; did you mean '" + nearest + "'?";
        }
        return message + "; declared settings: " + declared.keySet();
    }

    /** Edit distance with unit-cost insertion, deletion and substitution; two rolling rows. */
    static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
