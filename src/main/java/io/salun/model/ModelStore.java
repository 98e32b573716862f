package io.salun.model;

import io.salun.config.InvalidInputException;
import io.salun.config.StorageException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.LocalDateTime;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Saves and loads DL4J models (ModelSerializer zip: configuration JSON, coefficients, optionally
 * updater state) through Hadoop's FileSystem API, so {@code file://}, {@code hdfs://},
 * {@code s3a://} and {@code gs://} paths share one code path.
 *
 * <p>Written zips are reproducible: ModelSerializer stamps each entry with the current time, so the
 * same model saved twice would differ in its bytes (and its SHA-256 in the manifest). The entries
 * are rewritten in their order with one fixed time and no other metadata, so equal parameters
 * give equal files.
 */
public final class ModelStore {
    /** The entry time of every written zip (the earliest a zip's DOS time can hold). */
    static final LocalDateTime ENTRY_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private ModelStore() {
    }

    /** Writes {@code net} to {@code uri}; refuses to replace an existing file. */
    public static void save(Model net, String uri, boolean withUpdater, Configuration conf) {
        save(net, uri, withUpdater, "model file", conf);
    }

    /**
     * Writes {@code net} to {@code uri}, refusing to replace an existing file; a failed write
     * removes the partial file and names {@code setting}, the path and the reason.
     */
    public static void save(Model net, String uri, boolean withUpdater, String setting, Configuration conf) {
        Path path = new Path(uri);
        StorageException.guard(setting, "write", uri, () -> {
            FileSystem fs = path.getFileSystem(conf);
            try (OutputStream out = fs.create(path, false)) {
                write(net, withUpdater, out);
            } catch (IOException | RuntimeException | org.apache.hadoop.fs.FSError e) {
                fs.delete(path, false);
                throw e;
            }
        });
    }

    /** Writes {@code net} as a reproducible ModelSerializer zip to {@code out} (left open). */
    public static void write(Model net, boolean withUpdater, OutputStream out) throws IOException {
        Buffer zip = new Buffer();
        ModelSerializer.writeModel(net, zip, withUpdater);
        // streamed from the buffer to out: one in-memory copy of the model's bytes, not three
        reproducible(zip.input(), out);
    }

    /** {@code zip} with every entry at {@link #ENTRY_TIME}, no comments or extra fields, same order and content. */
    static byte[] reproducible(byte[] zip) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(zip.length);
        reproducible(new ByteArrayInputStream(zip), out);
        return out.toByteArray();
    }

    private static void reproducible(InputStream zip, OutputStream out) throws IOException {
        ZipOutputStream rewritten = new ZipOutputStream(new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush(); // out is the caller's: left open
            }
        });
        try (ZipInputStream in = new ZipInputStream(zip)) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                ZipEntry fixed = new ZipEntry(e.getName());
                fixed.setTimeLocal(ENTRY_TIME);
                rewritten.putNextEntry(fixed);
                in.transferTo(rewritten);
                rewritten.closeEntry();
            }
        }
        rewritten.close();
    }

    /** A byte buffer read back in place, without the copy {@code toByteArray} makes. */
    private static final class Buffer extends ByteArrayOutputStream {
        InputStream input() {
            return new ByteArrayInputStream(buf, 0, count);
        }
    }

    /**
     * Reads the multilayer network at {@code uri}.
     *
     * @throws InvalidInputException naming {@code setting} if nothing is there, it is a folder, an
     *                               empty file, not a zip, or not a DL4J MultiLayerNetwork zip
     */
    public static MultiLayerNetwork load(String uri, String setting, Configuration conf) {
        Net net = loadNet(uri, setting, conf);
        if (net.isGraph()) {
            throw new InvalidInputException(setting + ": " + uri + " is a DL4J ComputationGraph; a MultiLayerNetwork is"
                    + " expected here");
        }
        return net.stack();
    }

    /**
     * Reads the DL4J model at {@code uri}, a MultiLayerNetwork or a ComputationGraph zip (told apart by
     * its configuration.json).
     *
     * @throws InvalidInputException naming {@code setting} if nothing is there, it is a folder, an
     *                               empty file, not a zip, or not a DL4J model zip of either kind
     */
    public static Net loadNet(String uri, String setting, Configuration conf) {
        Path path = new Path(uri);
        String expected = "expected a DL4J model zip (ModelSerializer: configuration.json and coefficients.bin, of a"
                + " MultiLayerNetwork or a ComputationGraph)";
        try {
            FileSystem fs = path.getFileSystem(conf);
            FileStatus status;
            try {
                status = fs.getFileStatus(path);
            } catch (FileNotFoundException e) {
                throw new InvalidInputException(setting + ": no model at " + uri);
            }
            if (status.isDirectory()) {
                throw new InvalidInputException(setting + ": " + expected + " at " + uri + ", found a directory");
            }
            if (status.getLen() == 0) {
                throw new InvalidInputException(setting + ": " + uri + " is empty (0 bytes); " + expected);
            }
            byte[] bytes;
            try (InputStream in = fs.open(path)) {
                bytes = in.readAllBytes();
            }
            if (bytes.length < 4 || bytes[0] != 'P' || bytes[1] != 'K' || bytes[2] != 3 || bytes[3] != 4) {
                throw new InvalidInputException(setting + ": " + uri + " is not a zip file (it starts with bytes "
                        + HexFormat.ofDelimiter(" ").formatHex(bytes, 0, Math.min(4, bytes.length))
                        + ", a zip with 50 4b 03 04); " + expected);
            }
            String configuration = entry(bytes, "configuration.json");
            if (configuration == null) {
                throw new InvalidInputException(setting + ": " + uri + " has no configuration.json; " + expected);
            }
            if (configuration.contains("\"vertices\"")) {
                return Net.of(ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), true));
            }
            return Net.of(ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), true));
        } catch (InvalidInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException(setting + ": " + uri + " is not a readable DL4J model zip: "
                    + StorageException.reason(e) + "; " + expected, e);
        }
    }

    /** The text of zip entry {@code name} of {@code zip}, or null. */
    private static String entry(byte[] zip, String name) throws IOException {
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().equals(name)) {
                    return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
            }
        }
        return null;
    }

    /** Whether {@code uri} names PyTorch weights (a {@code .safetensors} file) rather than a DL4J zip. */
    public static boolean isSafetensors(String uri) {
        return uri.toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors");
    }

    /**
     * Reads the safetensors file at {@code uri}.
     *
     * @throws InvalidInputException naming {@code setting} if it is missing, a folder, or not a
     *                               whole safetensors file
     */
    public static Map<String, Safetensors.Tensor> readSafetensors(String uri, String setting, Configuration conf) {
        Path path = new Path(uri);
        byte[] bytes;
        try {
            FileSystem fs = path.getFileSystem(conf);
            FileStatus status;
            try {
                status = fs.getFileStatus(path);
            } catch (FileNotFoundException e) {
                throw new InvalidInputException(setting + ": no model at " + uri);
            }
            if (status.isDirectory()) {
                throw new InvalidInputException(setting + ": expected a safetensors file at " + uri + ", found a directory");
            }
            if (status.getLen() > Integer.MAX_VALUE - 16) {
                throw new InvalidInputException(setting + ": " + uri + " holds " + status.getLen() + " bytes; files up to"
                        + " 2 GiB are read");
            }
            try (InputStream in = fs.open(path)) {
                bytes = in.readAllBytes();
            }
        } catch (IOException e) {
            throw new InvalidInputException(setting + ": cannot read " + uri + ": " + StorageException.reason(e), e);
        }
        return Safetensors.read(bytes, setting, uri);
    }

    /** Whether something exists at {@code uri}. */
    public static boolean exists(String uri, Configuration conf) {
        Path path = new Path(uri);
        try {
            return path.getFileSystem(conf).exists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("could not check " + uri + ": " + e.getMessage(), e);
        }
    }
}
