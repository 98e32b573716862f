package io.salun.mask;

import io.salun.config.InvalidInputException;
import io.salun.config.StorageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The on-disk form of a saliency mask, saved beside the model so a run can resume
 * (SALUN-SPEC §1 step 5).
 *
 * <pre>
 *   offset 0   8 bytes  ASCII "SALUNMSK"
 *   offset 8   8 bytes  N, int64 little-endian, 0 &lt;= N &lt;= Integer.MAX_VALUE
 *   offset 16  ceil(N/8) bytes, {@link Bitset#toBytes()}: bit i = (byte[i>>3] >> (i&amp;7)) &amp; 1,
 *              padding bits of the last byte 0
 * </pre>
 * Nothing follows the bits; the file length is exactly {@code 16 + ceil(N/8)}. Files are
 * addressed by Hadoop {@link Path} URIs ({@code file:}, {@code hdfs:}, ...). Every rejection is
 * an {@link InvalidInputException} naming the path, what was expected and what was found.
 */
public final class MaskFile {

    /** The 8-byte magic at offset 0. */
    static final byte[] MAGIC = "SALUNMSK".getBytes(StandardCharsets.US_ASCII);
    /** Magic plus the int64 bit count. */
    static final int HEADER_BYTES = 16;

    private MaskFile() {
    }

    /**
     * Writes {@code mask} to {@code uri}; never overwrites, so a mask beside a model cannot be
     * silently replaced by one computed from a different forget set.
     *
     * @throws InvalidInputException if the file already exists or cannot be written
     */
    public static void write(Bitset mask, String uri, Configuration conf) {
        write(mask, uri, "mask file", conf);
    }

    /**
     * As {@link #write(Bitset, String, Configuration)}; a failed write (a full disk) removes the
     * partial file and throws a {@link StorageException} naming {@code setting} and the path.
     */
    public static void write(Bitset mask, String uri, String setting, Configuration conf) {
        byte[] bytes = encode(mask);
        Path path = new Path(uri);
        FileSystem fs;
        try {
            fs = path.getFileSystem(conf);
            if (fs.exists(path)) {
                throw new InvalidInputException("mask file " + uri
                        + ": expected no file at this path (masks are never overwritten), found one");
            }
        } catch (IOException e) {
            throw new InvalidInputException("mask file " + uri + ": cannot write: " + e, e);
        }
        StorageException.guard(setting, "write", uri, () -> {
            try (OutputStream out = fs.create(path, false)) {
                out.write(bytes);
            } catch (IOException | RuntimeException | org.apache.hadoop.fs.FSError e) {
                fs.delete(path, false);
                throw e;
            }
        });
    }

    /**
     * Reads a mask written by {@link #write}. Reads at most the header plus the size it
     * declares plus one byte, so a wrong path pointing at a large file fails fast.
     *
     * @throws InvalidInputException if the file is missing, unreadable or malformed
     */
    public static Bitset read(String uri, Configuration conf) {
        Path path = new Path(uri);
        byte[] bytes;
        try {
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                throw new InvalidInputException("mask file " + uri + ": expected a file, found none");
            }
            try (InputStream in = fs.open(path)) {
                byte[] header = in.readNBytes(HEADER_BYTES);
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                all.write(header);
                if (header.length == HEADER_BYTES) {
                    long n = declaredSize(header, uri);
                    all.write(in.readNBytes(Bitset.byteCount((int) n) + 1));
                }
                bytes = all.toByteArray();
            }
        } catch (IOException e) {
            throw new InvalidInputException("mask file " + uri + ": cannot read: " + e, e);
        }
        return decode(bytes, uri);
    }

    /** The complete file content for {@code mask}. */
    public static byte[] encode(Bitset mask) {
        byte[] bits = mask.toBytes();
        return ByteBuffer.allocate(HEADER_BYTES + bits.length)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put(MAGIC)
                .putLong(mask.size())
                .put(bits)
                .array();
    }

    /**
     * Parses a complete file content.
     *
     * @param sourceForMessages the path (or other origin) named in error messages
     * @throws InvalidInputException on a bad magic, a size outside {@code [0, 2^31-1]}, a byte
     *     count that does not match the declared size, or a padding bit set
     */
    public static Bitset decode(byte[] bytes, String sourceForMessages) {
        String where = "mask file " + sourceForMessages;
        if (bytes.length < HEADER_BYTES) {
            throw new InvalidInputException(where + ": expected a " + HEADER_BYTES
                    + "-byte header (\"SALUNMSK\" + int64 N), found only " + bytes.length
                    + " bytes (truncated)");
        }
        int n = (int) declaredSize(bytes, sourceForMessages);
        int bitBytes = Bitset.byteCount(n);
        long expectedLength = (long) HEADER_BYTES + bitBytes;
        if (bytes.length != expectedLength) {
            throw new InvalidInputException(where + ": header declares N=" + n + " bits, so expected "
                    + expectedLength + " bytes (16 header + " + bitBytes + "), found " + bytes.length
                    + (bytes.length < expectedLength ? " (truncated)" : " (trailing bytes)"));
        }
        try {
            return Bitset.fromBytes(n, Arrays.copyOfRange(bytes, HEADER_BYTES, bytes.length));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
    }

    /** Checks the magic and returns N from a buffer holding at least the header. */
    private static long declaredSize(byte[] header, String source) {
        byte[] magic = Arrays.copyOf(header, MAGIC.length);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new InvalidInputException("mask file " + source + ": expected magic \"SALUNMSK\" at offset 0, found "
                    + printable(magic));
        }
        long n = ByteBuffer.wrap(header, MAGIC.length, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new InvalidInputException("mask file " + source + ": expected N in [0, "
                    + Integer.MAX_VALUE + "] at offset 8, found " + n);
        }
        return n;
    }

    private static String printable(byte[] bytes) {
        StringBuilder text = new StringBuilder("\"");
        StringBuilder hex = new StringBuilder();
        for (byte b : bytes) {
            int c = b & 0xFF;
            text.append(c >= 0x20 && c < 0x7F ? (char) c : '.');
            hex.append(String.format("%02x", c));
        }
        return text.append("\" (0x").append(hex).append(')').toString();
    }
}
