package io.salun.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

    static final Setting<Double> RATIO = Setting.decimal("saliency.ratio", 0.5,
            Setting.Interval.openClosed(0, 1), "fraction of parameters in the mask");
    static final Setting<Integer> EPOCHS = Setting.integer("unlearn.epochs", 10, 1, 1000, "unlearning epochs");
    static final Setting<Long> SEED = Setting.longInteger("seed", 42L, 0, Long.MAX_VALUE, "master seed");
    static final Setting<Boolean> EXCLUDE = Setting.bool("unlearn.exclude-true-label", true,
            "draw random labels from the other K-1 classes");
    static final Setting<String> ORDER = Setting.oneOf("unlearn.order", "mixed",
            List.of("mixed", "sequential"), "data order of the unlearning epoch");
    static final Setting<String> OUTPUT = Setting.string("output.dir", "out", "where reports go");
    static final Setting<Optional<String>> MASK = Setting.optionalString("mask.path", "precomputed mask to reuse");
    static final List<Setting<?>> CATALOGUE = List.of(RATIO, EPOCHS, SEED, EXCLUDE, ORDER, OUTPUT, MASK);

    private static Properties props(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    private static Settings load(Properties file, String... args) {
        return Settings.load(CATALOGUE, file, Settings.parseOverrides(args));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void defaultsUsedWhenAbsent() {
        Settings s = load(new Properties());
        assertEquals(0.5, s.get(RATIO));
        assertEquals(10, s.get(EPOCHS));
        assertEquals(42L, s.get(SEED));
        assertEquals(true, s.get(EXCLUDE));
        assertEquals("mixed", s.get(ORDER));
        assertEquals("out", s.get(OUTPUT));
        assertEquals(Optional.empty(), s.get(MASK));
    }

    @Test
    void fileValueOverridesDefault() {
        Settings s = load(props("saliency.ratio", "0.3", "unlearn.order", "sequential",
                "mask.path", "hdfs:///m.mask", "unlearn.exclude-true-label", "false"));
        assertEquals(0.3, s.get(RATIO));
        assertEquals("sequential", s.get(ORDER));
        assertEquals(Optional.of("hdfs:///m.mask"), s.get(MASK));
        assertEquals(false, s.get(EXCLUDE));
        assertEquals(10, s.get(EPOCHS));
    }

    @Test
    void commandLineWinsOverFile() {
        Settings s = load(props("saliency.ratio", "0.3", "unlearn.epochs", "5"), "--saliency.ratio=0.7");
        assertEquals(0.7, s.get(RATIO));
        assertEquals(5, s.get(EPOCHS));
    }

    @Test
    void valuesAreTrimmed() {
        Settings s = load(props("unlearn.epochs", "7   "));
        assertEquals(7, s.get(EPOCHS));
    }

    @Test
    void unknownKeyInFileSuggestsNearest() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> load(props("saliency.ratoi", "0.5")));
        assertMentions(e, "'saliency.ratoi'", "settings file", "did you mean 'saliency.ratio'");
    }

    @Test
    void unknownKeyOnCommandLineSuggestsNearest() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> load(new Properties(), "--unlearn.epoch=3"));
        assertMentions(e, "'unlearn.epoch'", "command line", "did you mean 'unlearn.epochs'");
    }

    @Test
    void unknownKeyFarFromEverythingListsTheCatalogue() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> load(new Properties(), "--completely.different=1"));
        assertMentions(e, "'completely.different'", "declared settings", "saliency.ratio", "unlearn.order");
    }

    @Test
    void outOfRangeNamesKeyExpectedAndFound() {
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("saliency.ratio", "0"))),
                "saliency.ratio", "a finite number in (0, 1]", "found '0'");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(new Properties(), "--unlearn.epochs=0")),
                "unlearn.epochs", "an integer in [1, 1000]", "found '0'", "command line");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("unlearn.order", "Mixed"))),
                "unlearn.order", "one of [mixed, sequential]", "found 'Mixed'");
    }

    @Test
    void wrongTypeNamesKeyExpectedAndFound() {
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("unlearn.epochs", "ten"))),
                "unlearn.epochs", "an integer in [1, 1000]", "found 'ten'");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("unlearn.epochs", "2.5"))),
                "unlearn.epochs", "found '2.5'");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("unlearn.epochs", "99999999999"))),
                "unlearn.epochs", "found '99999999999'");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("saliency.ratio", "NaN"))),
                "saliency.ratio", "found 'NaN'");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("saliency.ratio", "0.5d"))),
                "saliency.ratio", "found '0.5d'");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("unlearn.exclude-true-label", "yes"))),
                "unlearn.exclude-true-label", "true or false", "found 'yes'");
        assertMentions(assertThrows(InvalidInputException.class, () -> load(props("output.dir", " "))),
                "output.dir", "non-empty text");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> load(props("saliency.ratoi", "0.5", "unlearn.epochs", "x"), "--seed=-1"));
        assertMentions(e, "saliency.ratoi", "unlearn.epochs", "seed");
    }

    @Test
    void effectiveListsEveryDeclaredKeyAndRoundTrips() {
        Settings s = load(props("saliency.ratio", "1e-1"), "--mask.path=/tmp/m");
        assertEquals(List.of("mask.path", "output.dir", "saliency.ratio", "seed", "unlearn.epochs",
                "unlearn.exclude-true-label", "unlearn.order"), List.copyOf(s.effective().keySet()));
        assertEquals("0.1", s.effective().get("saliency.ratio"));
        assertEquals("/tmp/m", s.effective().get("mask.path"));
        assertEquals("", load(new Properties()).effective().get("mask.path"));

        String[] asArgs = s.effective().entrySet().stream()
                .map(en -> "--" + en.getKey() + "=" + en.getValue()).toArray(String[]::new);
        Settings replay = load(new Properties(), asArgs);
        assertEquals(s.effective(), replay.effective());
        assertEquals(s.sha256(), replay.sha256());
        assertThrows(UnsupportedOperationException.class, () -> s.effective().put("seed", "1"));
    }

    @Test
    void sha256ChangesWithValuesNotWithFileOrder(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.properties");
        Path b = dir.resolve("b.properties");
        Files.writeString(a, "saliency.ratio=0.3\nunlearn.epochs=5\n# comment\n", StandardCharsets.UTF_8);
        Files.writeString(b, "unlearn.epochs=5\n\nsaliency.ratio=0.3\n", StandardCharsets.UTF_8);
        Settings fromA = Settings.load(CATALOGUE, Settings.readProperties(a.toString()), Map.of());
        Settings fromB = Settings.load(CATALOGUE, Settings.readProperties(b.toString()), Map.of());
        assertEquals(fromA.sha256(), fromB.sha256());
        assertTrue(fromA.sha256().matches("[0-9a-f]{64}"), fromA.sha256());

        Settings changed = Settings.load(CATALOGUE, Settings.readProperties(a.toString()),
                Map.of("unlearn.epochs", "6"));
        assertNotEquals(fromA.sha256(), changed.sha256());
        // same value written differently parses to the same setting
        Settings sameValue = Settings.load(CATALOGUE, Settings.readProperties(a.toString()),
                Map.of("saliency.ratio", "0.30"));
        assertEquals(fromA.sha256(), sameValue.sha256());
    }

    @Test
    void readPropertiesRejectsMissingFileAndRepeatedKey(@TempDir Path dir) throws Exception {
        String missing = dir.resolve("nope.properties").toString();
        assertMentions(assertThrows(InvalidInputException.class, () -> Settings.readProperties(missing)), missing);

        Path twice = dir.resolve("twice.properties");
        Files.writeString(twice, "seed=1\nseed=2\n", StandardCharsets.UTF_8);
        assertMentions(assertThrows(InvalidInputException.class, () -> Settings.readProperties(twice.toString())),
                twice.toString(), "'seed' twice");
    }

    @Test
    void parseOverridesAcceptsKeyValueOnly() {
        assertEquals(Map.of("a.b", "1", "c", "", "d", "x=y"), Settings.parseOverrides(new String[] {"--a.b=1", "--c=", "--d=x=y"}));
        assertMentions(assertThrows(InvalidInputException.class, () -> Settings.parseOverrides(new String[] {"foo"})),
                "'foo'", "--key=value");
        assertMentions(assertThrows(InvalidInputException.class, () -> Settings.parseOverrides(new String[] {"--=x"})),
                "'--=x'", "empty key");
        assertMentions(assertThrows(InvalidInputException.class, () -> Settings.parseOverrides(new String[] {"--key"})),
                "'--key'", "no '='");
        assertMentions(assertThrows(InvalidInputException.class, () -> Settings.parseOverrides(new String[] {"-k=v"})),
                "'-k=v'");
        assertMentions(assertThrows(InvalidInputException.class,
                () -> Settings.parseOverrides(new String[] {"--seed=1", "--seed=2"})), "seed", "twice");
    }

    @Test
    void getRejectsUndeclaredSetting() {
        Settings s = load(new Properties());
        Setting<Integer> other = Setting.integer("unlearn.epochs", 3, 1, 5, "a different declaration");
        assertThrows(IllegalArgumentException.class, () -> s.get(other));
    }

    @Test
    void catalogueMistakesFailWhenDeclared() {
        assertThrows(IllegalArgumentException.class,
                () -> Setting.integer("x", 0, 1, 10, "default below min"));
        assertThrows(IllegalArgumentException.class,
                () -> Setting.decimal("x", 0.0, Setting.Interval.openClosed(0, 1), "default at open end"));
        assertThrows(IllegalArgumentException.class,
                () -> Setting.oneOf("x", "c", List.of("a", "b"), "default not allowed"));
        assertThrows(IllegalArgumentException.class, () -> Setting.string("bad key", "v", "space in key"));
        assertThrows(IllegalArgumentException.class, () -> Settings.load(List.of(EPOCHS, EPOCHS), new Properties(), Map.of()));
    }

    @Test
    void intervalsDescribeAndContain() {
        Setting.Interval ratio = Setting.Interval.openClosed(0, 1);
        assertEquals("(0, 1]", ratio.toString());
        assertTrue(ratio.contains(1.0) && !ratio.contains(0.0) && !ratio.contains(Double.NaN));
        Setting.Interval lr = Setting.Interval.greaterThan(0);
        assertEquals("(0, +inf)", lr.toString());
        assertTrue(lr.contains(1e-9) && !lr.contains(Double.POSITIVE_INFINITY));
        assertEquals("[0.001, 0.5)", Setting.Interval.closedOpen(0.001, 0.5).toString());
    }

    @Test
    void levenshteinDistance() {
        assertEquals(2, Settings.levenshtein("saliency.ratoi", "saliency.ratio"));
        assertEquals(3, Settings.levenshtein("kitten", "sitting"));
        assertEquals(4, Settings.levenshtein("", "abcd"));
    }

    @Test
    void readsASettingsFileGivenAsAHadoopUri(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("remote.properties");
        java.nio.file.Files.writeString(file, "a.key=7\n");
        java.util.Properties local = Settings.readProperties(file.toString());
        java.util.Properties viaUri = Settings.readProperties(file.toUri().toString());
        assertEquals("7", local.getProperty("a.key"));
        assertEquals(local, viaUri);
        String missing = dir.resolve("absent.properties").toUri().toString();
        assertMentions(assertThrows(InvalidInputException.class, () -> Settings.readProperties(missing)), missing);
    }
}
