package io.salun.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.salun.config.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    private static final Configuration CONF = new Configuration();
    private static final int SLICE_TRAIN = 3000;
    private static final int SLICE_TEST = 1000;

    private static String trainImages;
    private static String trainLabels;
    private static String testImages;
    private static String testLabels;
    private static LabeledImages train;

    @TempDir
    Path dir;

    @BeforeAll
    static void readSlice() throws URISyntaxException {
        trainImages = resource("train-images-idx3-ubyte.gz");
        trainLabels = resource("train-labels-idx1-ubyte.gz");
        testImages = resource("t10k-images-idx3-ubyte.gz");
        testLabels = resource("t10k-labels-idx1-ubyte.gz");
        train = IdxReader.read(trainImages, trainLabels, CONF);
    }

    private static String resource(String name) throws URISyntaxException {
        return Path.of(IdxReaderTest.class.getResource("/fashion-mnist-slice/" + name).toURI())
                .toString();
    }

    // ---- the shipped slice ----

    @Test
    void sliceHeadersDeclareTheSliceShape() {
        assertEquals(new IdxHeader(SLICE_TRAIN, 28, 28), IdxReader.header(trainImages, trainLabels, CONF));
        assertEquals(new IdxHeader(SLICE_TEST, 28, 28), IdxReader.header(testImages, testLabels, CONF));
    }

    @Test
    void trainSliceHasAllClassesAndUnitFeatures() {
        assertEquals(SLICE_TRAIN, train.size());
        assertEquals(28, train.rows());
        assertEquals(28, train.cols());
        assertEquals(784, train.featureLength());
        assertEquals(SLICE_TRAIN * 784, train.pixels().length);
        int[] perClass = new int[10];
        for (int label : train.labels()) {
            assertTrue(label >= 0 && label <= 9, "label " + label);
            perClass[label]++;
        }
        for (int c = 0; c < 10; c++) {
            assertTrue(perClass[c] >= 200, "class " + c + " has " + perClass[c] + " records");
        }
        float[] features = new float[train.featureLength() + 3];
        float max = 0;
        for (int i = 0; i < train.size(); i += 97) {
            train.features(i, features, 3);
            for (int k = 3; k < features.length; k++) {
                assertTrue(features[k] >= 0f && features[k] <= 1f, "feature " + features[k]);
                max = Math.max(max, features[k]);
            }
        }
        assertEquals(1f, max, "some pixel is 255");
    }

    @Test
    void testSliceHasAllClasses() {
        LabeledImages test = IdxReader.read(testImages, testLabels, CONF);
        assertEquals(SLICE_TEST, test.size());
        assertEquals(10, Arrays.stream(test.labels()).distinct().count());
    }

    @Test
    void rangeReadsOfGzipEqualPartsOfTheFullRead() {
        assertRangesMatchFullRead(trainImages, trainLabels);
    }

    @Test
    void rangeReadsOfPlainCopyEqualPartsOfTheFullRead() throws IOException {
        String images = gunzip(trainImages, dir.resolve("train-images-idx3-ubyte"));
        String labels = gunzip(trainLabels, dir.resolve("train-labels-idx1-ubyte"));
        assertEquals(train, IdxReader.read(images, labels, CONF));
        assertRangesMatchFullRead(images, labels);
    }

    private static void assertRangesMatchFullRead(String images, String labels) {
        int[][] ranges = {{0, 1}, {0, 3000}, {17, 1234}, {1500, 1501}, {2999, 3000}, {3000, 3000}, {0, 0}};
        for (int[] r : ranges) {
            LabeledImages part = IdxReader.read(images, labels, r[0], r[1], CONF);
            String range = "[" + r[0] + ", " + r[1] + ")";
            assertEquals(r[1] - r[0], part.size(), range);
            assertArrayEquals(Arrays.copyOfRange(train.labels(), r[0], r[1]), part.labels(), range);
            assertArrayEquals(Arrays.copyOfRange(train.pixels(), r[0] * 784, r[1] * 784), part.pixels(), range);
        }
    }

    @Test
    void recordsMatchAnIndependentDecode() throws IOException {
        int[] records = {0, 1, 2, 1234, 2999};
        try (DataInputStream images = gzipData(trainImages); DataInputStream labels = gzipData(trainLabels)) {
            assertEquals(0x803, images.readInt());
            assertEquals(SLICE_TRAIN, images.readInt());
            assertEquals(28, images.readInt());
            assertEquals(28, images.readInt());
            assertEquals(0x801, labels.readInt());
            assertEquals(SLICE_TRAIN, labels.readInt());
            byte[] allPixels = images.readAllBytes();
            byte[] allLabels = labels.readAllBytes();
            float[] features = new float[784];
            for (int i : records) {
                assertEquals(allLabels[i] & 0xff, train.labels()[i], "label of record " + i);
                train.features(i, features, 0);
                for (int k = 0; k < 784; k++) {
                    assertEquals((allPixels[i * 784 + k] & 0xff) / 255f, features[k], "record " + i + " pixel " + k);
                }
                LabeledImages one = IdxReader.read(trainImages, trainLabels, i, i + 1, CONF);
                assertArrayEquals(Arrays.copyOfRange(allPixels, i * 784, (i + 1) * 784), one.pixels());
            }
        }
        // Fashion-MNIST's first training record is an ankle boot (9), the second a T-shirt (0).
        assertEquals(9, train.labels()[0]);
        assertEquals(0, train.labels()[1]);
    }

    @Test
    void acceptsFileUrisAndDetectsGzipByContentNotName() throws IOException {
        Path plainNamedGz = dir.resolve("plain.gz");
        Path gzipNamedPlain = dir.resolve("gzip.idx");
        gunzip(trainLabels, plainNamedGz);
        Files.copy(Path.of(trainImages), gzipNamedPlain);
        LabeledImages read = IdxReader.read(gzipNamedPlain.toUri().toString(), plainNamedGz.toUri().toString(), CONF);
        assertEquals(train, read);
    }

    // ---- error cases, with small crafted files: 4x3 images, record i has pixels i*12 .. i*12+11 ----

    private static final int ROWS = 4;
    private static final int COLS = 3;

    @Test
    void craftedPairReadsBack() throws IOException {
        String images = imagesFile("images.gz", 10, 10, true);
        String labels = labelsFile("labels", 10, 10, false);
        LabeledImages read = IdxReader.read(images, labels, CONF);
        assertEquals(10, read.size());
        assertEquals(7, read.labels()[7]);
        assertEquals((byte) (7 * 12 + 5), read.pixels()[7 * 12 + 5]);
    }

    @Test
    void missingFileNamesThePath() throws IOException {
        String labels = labelsFile("labels", 10, 10, false);
        String missing = dir.resolve("no-such-images.gz").toString();
        InvalidInputException e = assertInvalid(() -> IdxReader.read(missing, labels, CONF), missing, "images");
        assertInstanceOf(IOException.class, e.getCause());
        InvalidInputException h = assertInvalid(() -> IdxReader.header(labels, missing, CONF), missing);
        assertInstanceOf(IOException.class, h.getCause());
    }

    @Test
    void directoryIsUnreadable() throws IOException {
        String labels = labelsFile("labels", 10, 10, false);
        String directory = dir.toString();
        assertInvalid(() -> IdxReader.read(directory, labels, CONF), directory);
    }

    @Test
    void wrongMagicPrintsBothInHex() throws IOException {
        String bad = write("bad.gz", header(0x12345678, 10, ROWS, COLS), true);
        String labels = labelsFile("labels", 10, 10, false);
        assertInvalid(() -> IdxReader.read(bad, labels, CONF), bad, "0x00000803", "0x12345678", "not an IDX file");
        String floats = write("floats", header(0x00000D03, 10, ROWS, COLS), false);
        assertInvalid(() -> IdxReader.header(floats, labels, CONF), floats, "0x00000803", "0x00000D03", "float32");
    }

    @Test
    void swappedPathsSayWhatTheFileLooksLike() throws IOException {
        String images = imagesFile("images.gz", 10, 10, true);
        String labels = labelsFile("labels.gz", 10, 10, true);
        InvalidInputException e = assertInvalid(() -> IdxReader.read(labels, images, CONF),
                labels, "0x00000803", "0x00000801", "looks like an IDX labels file");
        assertTrue(e.getMessage().contains("images file " + labels), e.getMessage());
        String images2 = imagesFile("images2", 10, 10, false);
        assertInvalid(() -> IdxReader.header(images, images2, CONF),
                images2, "0x00000801", "0x00000803", "looks like an IDX images file");
    }

    @Test
    void countMismatchNamesBothCountsAndPaths() throws IOException {
        String images = imagesFile("images.gz", 10, 10, true);
        String labels = labelsFile("labels.gz", 9, 9, true);
        assertInvalid(() -> IdxReader.read(images, labels, CONF), images, labels, "10", "9");
        assertInvalid(() -> IdxReader.header(images, labels, CONF), images, labels, "10", "9");
    }

    @Test
    void zeroRowsOrColsAreRejected() throws IOException {
        String labels = labelsFile("labels", 10, 10, false);
        String zeroRows = write("zero-rows", header(0x803, 10, 0, COLS), false);
        assertInvalid(() -> IdxReader.header(zeroRows, labels, CONF), zeroRows, "0 rows", COLS + " cols");
        String zeroCols = write("zero-cols.gz", header(0x803, 10, ROWS, 0), true);
        assertInvalid(() -> IdxReader.read(zeroCols, labels, CONF), zeroCols, ROWS + " rows", "0 cols");
    }

    @Test
    void rangeOutOfBoundsNamesTheRangeAndCount() throws IOException {
        String images = imagesFile("images.gz", 10, 10, true);
        String labels = labelsFile("labels", 10, 10, false);
        assertInvalid(() -> IdxReader.read(images, labels, 0, 11, CONF), images, labels, "[0, 11)", "10 records");
        assertInvalid(() -> IdxReader.read(images, labels, -1, 2, CONF), images, "[-1, 2)", "10");
        assertInvalid(() -> IdxReader.read(images, labels, 5, 4, CONF), images, "[5, 4)", "10");
    }

    @Test
    void truncatedGzipImagesSayHowManyRecordsAndBytes() throws IOException {
        // Declares 10 records of 12 bytes (16 + 120 = 136 bytes) but holds 7 records and 5 bytes.
        String images = write("short-images.gz", concat(header(0x803, 10, ROWS, COLS), pixels(7 * 12 + 5)), true);
        String labels = labelsFile("labels", 10, 10, false);
        assertInvalid(() -> IdxReader.read(images, labels, CONF),
                images, "10 records of 12 bytes", "136 bytes", "only 105 bytes", "7 whole records");
        assertInvalid(() -> IdxReader.read(images, labels, 8, 9, CONF),
                images, "[8, 9)", "124 bytes", "only 105 bytes", "7 whole records");
        // Records before the cut are readable: read() checks the data only up to `to`.
        assertEquals(7, IdxReader.read(images, labels, 0, 7, CONF).size());
        // The header alone does not reveal the truncation.
        assertEquals(new IdxHeader(10, ROWS, COLS), IdxReader.header(images, labels, CONF));
    }

    @Test
    void truncatedPlainImagesSayHowManyRecordsAndBytes() throws IOException {
        String images = write("short-images", concat(header(0x803, 10, ROWS, COLS), pixels(3 * 12)), false);
        String labels = labelsFile("labels", 10, 10, false);
        assertInvalid(() -> IdxReader.read(images, labels, CONF),
                images, "10 records", "136 bytes", "only 52 bytes", "3 whole records");
        assertInvalid(() -> IdxReader.read(images, labels, 5, 6, CONF),
                images, "[5, 6)", "88 bytes", "only 52 bytes", "3 whole records");
    }

    @Test
    void cutOffGzipStreamIsReportedAsTruncated() throws IOException {
        byte[] whole = gzip(concat(header(0x803, 100, ROWS, COLS), randomPixels(100 * 12)));
        Path cut = dir.resolve("cut-images.gz");
        Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
        String labels = labelsFile("labels", 100, 100, false);
        InvalidInputException e = assertInvalid(() -> IdxReader.read(cut.toString(), labels, CONF),
                cut.toString(), "100 records", "1216 bytes", "cut off");
        assertTrue(e.getMessage().contains("Truncated"), e.getMessage());
    }

    @Test
    void truncatedLabelsSayHowManyRecords() throws IOException {
        String images = imagesFile("images", 10, 10, false);
        String labels = labelsFile("labels.gz", 10, 6, true);
        assertInvalid(() -> IdxReader.read(images, labels, CONF),
                labels, "labels", "10 records of 1 byte", "18 bytes", "only 14 bytes", "6 whole records");
    }

    @Test
    void truncatedHeaderSaysHowManyBytes() throws IOException {
        String labels = labelsFile("labels", 10, 10, false);
        String empty = write("empty", new byte[0], false);
        assertInvalid(() -> IdxReader.header(empty, labels, CONF), empty, "16-byte header", "only 0 bytes");
        String shortHeader = write("short-header.gz", Arrays.copyOf(header(0x803, 10, ROWS, COLS), 10), true);
        assertInvalid(() -> IdxReader.read(shortHeader, labels, CONF), shortHeader, "16-byte header", "only 10 bytes");
    }

    @Test
    void corruptGzipNamesThePath() throws IOException {
        String labels = labelsFile("labels", 10, 10, false);
        String corrupt = write("corrupt.gz", new byte[] {0x1f, (byte) 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, false);
        InvalidInputException e = assertInvalid(() -> IdxReader.read(corrupt, labels, CONF), corrupt, "images");
        assertInstanceOf(IOException.class, e.getCause());
    }

    @Test
    void labeledImagesValidatesItsShape() {
        assertThrows(IllegalArgumentException.class, () -> new LabeledImages(2, 2, new int[] {1}, new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> new LabeledImages(0, 2, new int[0], new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new LabeledImages(1, 1, new int[] {256}, new byte[1]));
    }

    // ---- helpers ----

    private static InvalidInputException assertInvalid(Executable call, String... fragments) {
        InvalidInputException e = assertThrows(InvalidInputException.class, call);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment),
                    "message should contain '" + fragment + "': " + e.getMessage());
        }
        return e;
    }

    private String imagesFile(String name, int declared, int actual, boolean gzip) throws IOException {
        return write(name, concat(header(0x803, declared, ROWS, COLS), pixels(actual * ROWS * COLS)), gzip);
    }

    private String labelsFile(String name, int declared, int actual, boolean gzip) throws IOException {
        byte[] labels = new byte[actual];
        for (int i = 0; i < actual; i++) {
            labels[i] = (byte) i;
        }
        return write(name, concat(header(0x801, declared), labels), gzip);
    }

    private String write(String name, byte[] content, boolean gzip) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, gzip ? gzip(content) : content);
        return file.toString();
    }

    private static byte[] header(int... ints) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            for (int v : ints) {
                out.writeInt(v);
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] pixels(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) i;
        }
        return p;
    }

    /** Incompressible bytes, so half the gzip file is half the data. */
    private static byte[] randomPixels(int n) {
        byte[] p = new byte[n];
        new java.util.Random(42).nextBytes(p);
        return p;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(content);
        }
        return bytes.toByteArray();
    }

    private static DataInputStream gzipData(String file) throws IOException {
        return new DataInputStream(new GZIPInputStream(Files.newInputStream(Path.of(file))));
    }

    private static String gunzip(String gzipFile, Path target) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(Path.of(gzipFile)))) {
            Files.copy(in, target);
        }
        return target.toString();
    }
}
