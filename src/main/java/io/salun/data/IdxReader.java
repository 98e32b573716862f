package io.salun.data;

import io.salun.config.InvalidInputException;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads an IDX images/labels pair (MNIST, Fashion-MNIST and other MNIST-family files) through
 * Hadoop's {@link FileSystem} API, so the same code reads local paths, {@code file:///} and
 * {@code hdfs://} URIs.
 *
 * <p>IDX format: a big-endian int32 magic number {@code 0x0000TTDD} (type {@code TT = 0x08} for
 * unsigned bytes, {@code DD} dimensions), then {@code DD} big-endian int32 dimension sizes, then
 * the raw values in row-major order. An images file has magic {@code 0x00000803} and dimensions
 * {@code count, rows, cols} (16-byte header, {@code rows*cols} bytes per record); a labels file
 * has magic {@code 0x00000801} and dimension {@code count} (8-byte header, one byte per record).
 * Record {@code i} of the pair is image {@code i} with label {@code i}.
 *
 * <p>Each file may be plain or gzip-compressed; which one is decided by the gzip magic bytes
 * {@code 0x1f 0x8b}, not by the file name. A range {@code [from, to)} of a gzip file is reached
 * by decompressing and discarding the records before {@code from} in fixed-size chunks, so
 * memory stays proportional to the range; in a plain file the reader seeks.
 *
 * <p>Every problem with the input (missing or unreadable file, wrong magic number, images and
 * labels swapped, zero dimensions, count mismatch, truncated data, range out of bounds) is an
 * {@link InvalidInputException} whose message names the path, what was expected and what was
 * found.
 */
public final class IdxReader {
    /** Magic number of IDX unsigned bytes with 3 dimensions: images. */
    static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of IDX unsigned bytes with 1 dimension: labels. */
    static final int LABELS_MAGIC = 0x00000801;

    /** Read-buffer size for the Hadoop stream and the inflater; also the skip chunk. */
    private static final int BUFFER_BYTES = 1 << 16;
    /** Largest byte array the JVM reliably allocates. */
    private static final int MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    private IdxReader() {
    }

    /**
     * Reads both headers (not the data), checks the magic numbers ({@code 0x00000803} images,
     * {@code 0x00000801} labels), that rows and cols are positive and that the counts agree.
     *
     * @throws InvalidInputException if a file cannot be read or a check fails
     */
    public static IdxHeader header(String imagesUri, String labelsUri, Configuration conf) {
        Objects.requireNonNull(conf, "conf");
        try (IdxStream images = IdxStream.open(imagesUri, Kind.IMAGES, conf);
             IdxStream labels = IdxStream.open(labelsUri, Kind.LABELS, conf)) {
            return readHeaders(images, labels);
        }
    }

    /**
     * Reads records {@code [from, to)} (0-based) of the pair. Validates the headers as
     * {@link #header} does, that {@code 0 <= from <= to <= count}, and that both files hold all
     * the bytes their headers declare up to record {@code to}; bytes after it are not read.
     *
     * @throws InvalidInputException if a file cannot be read or a check fails
     */
    public static LabeledImages read(String imagesUri, String labelsUri, int from, int to,
                                     Configuration conf) {
        return read(imagesUri, labelsUri, from, OptionalInt.of(to), conf);
    }

    /**
     * Reads every record of the pair, validating as {@link #read(String, String, int, int,
     * Configuration)} does.
     *
     * @throws InvalidInputException if a file cannot be read or a check fails
     */
    public static LabeledImages read(String imagesUri, String labelsUri, Configuration conf) {
        return read(imagesUri, labelsUri, 0, OptionalInt.empty(), conf);
    }

    private static LabeledImages read(String imagesUri, String labelsUri, int from,
                                      OptionalInt toOrAll, Configuration conf) {
        Objects.requireNonNull(conf, "conf");
        try (IdxStream images = IdxStream.open(imagesUri, Kind.IMAGES, conf);
             IdxStream labels = IdxStream.open(labelsUri, Kind.LABELS, conf)) {
            IdxHeader header = readHeaders(images, labels);
            int to = toOrAll.orElse(header.count());
            if (from < 0 || from > to || to > header.count()) {
                throw new InvalidInputException("Record range [" + from + ", " + to
                        + ") is out of range for the IDX pair " + imagesUri + " (images) and "
                        + labelsUri + " (labels) of " + header.count()
                        + " records: expected 0 <= from <= to <= " + header.count());
            }
            int recordBytes = header.rows() * header.cols();
            long pixelBytes = (long) (to - from) * recordBytes;
            if (pixelBytes > MAX_ARRAY_BYTES) {
                throw new InvalidInputException("Records [" + from + ", " + to + ") of IDX images file "
                        + imagesUri + " hold " + pixelBytes + " pixel bytes; expected at most "
                        + MAX_ARRAY_BYTES + " (one Java array): read it in smaller ranges");
            }
            byte[] pixels = new byte[(int) pixelBytes];
            images.readRecords(header.count(), recordBytes, from, to, pixels);
            byte[] labelBytes = new byte[to - from];
            labels.readRecords(header.count(), 1, from, to, labelBytes);
            int[] labelValues = new int[labelBytes.length];
            for (int i = 0; i < labelBytes.length; i++) {
                labelValues[i] = labelBytes[i] & 0xff;
            }
            return new LabeledImages(header.rows(), header.cols(), labelValues, pixels);
        }
    }

    private static IdxHeader readHeaders(IdxStream images, IdxStream labels) {
        images.readMagic();
        int count = images.readCount();
        int rows = images.readHeaderInt();
        int cols = images.readHeaderInt();
        if (rows <= 0 || cols <= 0) {
            throw new InvalidInputException("IDX images file " + images.uri + " declares images of "
                    + rows + " rows x " + cols + " cols: expected both > 0");
        }
        if ((long) rows * cols > MAX_ARRAY_BYTES) {
            throw new InvalidInputException("IDX images file " + images.uri + " declares images of "
                    + rows + " rows x " + cols + " cols: expected at most " + MAX_ARRAY_BYTES
                    + " pixels per image");
        }
        labels.readMagic();
        int labelCount = labels.readCount();
        if (count != labelCount) {
            throw new InvalidInputException("IDX images file " + images.uri + " declares " + count
                    + " records but IDX labels file " + labels.uri + " declares " + labelCount
                    + ": expected the same count in both");
        }
        return new IdxHeader(count, rows, cols);
    }

    /** The two kinds of IDX file in a pair, with their magic numbers and header sizes. */
    private enum Kind {
        IMAGES("images", IMAGES_MAGIC, "unsigned bytes, 3 dimensions"),
        LABELS("labels", LABELS_MAGIC, "unsigned bytes, 1 dimension");

        final String label;
        final int magic;
        final String magicMeaning;

        Kind(String label, int magic, String magicMeaning) {
            this.label = label;
            this.magic = magic;
            this.magicMeaning = magicMeaning;
        }

        int headerBytes() {
            return 4 + 4 * (magic & 0xff);
        }

        Kind other() {
            return this == IMAGES ? LABELS : IMAGES;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /**
     * One open IDX file: the decoded (decompressed if gzip) byte stream and how many decoded
     * bytes have been consumed, so truncation can be reported in bytes and whole records.
     */
    private static final class IdxStream implements Closeable {
        private final String uri;
        private final Kind kind;
        private final FSDataInputStream raw;
        /** Length of a plain file, used to seek; -1 for gzip (length only known by decoding). */
        private final long plainLength;
        private final InputStream in;
        private long position;
        private boolean cutOff;

        private IdxStream(String uri, Kind kind, FSDataInputStream raw, long plainLength,
                          InputStream in) {
            this.uri = uri;
            this.kind = kind;
            this.raw = raw;
            this.plainLength = plainLength;
            this.in = in;
        }

        static IdxStream open(String uri, Kind kind, Configuration conf) {
            Path path;
            try {
                path = new Path(uri);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("Cannot use '" + uri + "' as the path of the IDX "
                        + kind + " file: expected a Hadoop path or URI; " + e.getMessage(), e);
            }
            FSDataInputStream raw = null;
            try {
                FileSystem fs = path.getFileSystem(conf);
                raw = fs.open(path, BUFFER_BYTES);
                int b0 = raw.read();
                int b1 = b0 < 0 ? -1 : raw.read();
                raw.seek(0);
                if (b0 == 0x1f && b1 == 0x8b) {
                    // GZIPInputStream buffers its compressed input; reads from it are bulk.
                    return new IdxStream(uri, kind, raw, -1, new GZIPInputStream(raw, BUFFER_BYTES));
                }
                long length = fs.getFileStatus(path).getLen();
                return new IdxStream(uri, kind, raw, length, raw);
            } catch (IOException e) {
                if (raw != null) {
                    try {
                        raw.close();
                    } catch (IOException closeFailure) {
                        e.addSuppressed(closeFailure);
                    }
                }
                throw new InvalidInputException(
                        "Cannot read IDX " + kind + " file " + uri + ": " + e, e);
            }
        }

        void readMagic() {
            int magic = readHeaderInt();
            if (magic != kind.magic) {
                throw new InvalidInputException(String.format(
                        "Wrong magic number in IDX %s file %s: expected 0x%08X (%s), found 0x%08X (%s)",
                        kind, uri, kind.magic, kind.magicMeaning, magic, describeMagic(magic)));
            }
        }

        private String describeMagic(int magic) {
            if (magic == kind.other().magic) {
                return "looks like an IDX " + kind.other() + " file; are the images and labels"
                        + " paths swapped?";
            }
            if ((magic >>> 16) == 0x1f8b) {
                return "looks gzip-compressed twice";
            }
            String type = idxTypeName((magic >>> 8) & 0xff);
            if ((magic >>> 16) == 0 && type != null) {
                int dims = magic & 0xff;
                return "an IDX file of " + type + " with " + dims + " dimension"
                        + (dims == 1 ? "" : "s") + ", not IDX " + kind;
            }
            return "not an IDX file";
        }

        private static String idxTypeName(int code) {
            return switch (code) {
                case 0x08 -> "unsigned bytes";
                case 0x09 -> "signed bytes";
                case 0x0B -> "int16";
                case 0x0C -> "int32";
                case 0x0D -> "float32";
                case 0x0E -> "float64";
                default -> null;
            };
        }

        int readCount() {
            int count = readHeaderInt();
            if (count < 0) {
                throw new InvalidInputException(String.format(
                        "IDX %s file %s declares a record count of %d (0x%08X): expected 0..%d",
                        kind, uri, Integer.toUnsignedLong(count), count, Integer.MAX_VALUE));
            }
            return count;
        }

        int readHeaderInt() {
            byte[] b = new byte[4];
            if (readUpTo(b, 4) < 4) {
                throw new InvalidInputException("Truncated IDX " + kind + " file " + uri
                        + ": expected a " + kind.headerBytes() + "-byte header, found only "
                        + position + " bytes" + decodedNote());
            }
            return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        }

        /** Reads records [from, to) of {@code recordBytes} each into {@code dest}, after the header. */
        void readRecords(int count, int recordBytes, int from, int to, byte[] dest) {
            long start = kind.headerBytes() + (long) from * recordBytes;
            if (skipTo(start) && readUpTo(dest, dest.length) == dest.length) {
                return;
            }
            long needed = kind.headerBytes() + (long) to * recordBytes;
            long wholeRecords = Math.max(0, position - kind.headerBytes()) / recordBytes;
            throw new InvalidInputException("Truncated IDX " + kind + " file " + uri
                    + ": the header declares " + count + " records of " + recordBytes + " byte"
                    + (recordBytes == 1 ? "" : "s") + ", so records [" + from + ", " + to
                    + ") need " + needed + " bytes, but the file holds only " + position
                    + " bytes (" + wholeRecords + " whole records)" + decodedNote());
        }

        /** Moves to decoded offset {@code target}; false if the file ends before it. */
        private boolean skipTo(long target) {
            if (plainLength >= 0) {
                if (target > plainLength) {
                    position = plainLength;
                    return false;
                }
                try {
                    raw.seek(target);
                } catch (IOException e) {
                    throw cannotRead(e);
                }
                position = target;
                return true;
            }
            byte[] scratch = new byte[(int) Math.min(BUFFER_BYTES, Math.max(0, target - position))];
            while (position < target) {
                int want = (int) Math.min(scratch.length, target - position);
                if (readUpTo(scratch, want) < want) {
                    return false;
                }
            }
            return true;
        }

        /** Reads up to {@code len} bytes into {@code b[0..]}, fewer only at the end of the data. */
        private int readUpTo(byte[] b, int len) {
            int total = 0;
            try {
                while (total < len) {
                    int n = in.read(b, total, len - total);
                    if (n < 0) {
                        break;
                    }
                    total += n;
                }
            } catch (EOFException e) {
                // GZIPInputStream throws this, instead of returning -1, when the compressed data
                // stops mid-stream: what was decoded so far is all the file holds.
                cutOff = true;
            } catch (IOException e) {
                throw cannotRead(e);
            } finally {
                position += total;
            }
            return total;
        }

        private String decodedNote() {
            if (plainLength >= 0) {
                return "";
            }
            return cutOff ? " after decompression; the gzip stream itself is cut off"
                    : " after decompression";
        }

        private InvalidInputException cannotRead(IOException e) {
            return new InvalidInputException("Cannot read IDX " + kind + " file " + uri
                    + " after " + position + " bytes" + decodedNote() + ": " + e, e);
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException e) {
                throw new InvalidInputException("Cannot close IDX " + kind + " file " + uri + ": " + e, e);
            }
        }
    }
}
