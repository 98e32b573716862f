package io.salun.report;

import io.salun.spark.HadoopConf;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * SHA-256 of inputs for the audit manifest, on any Hadoop file system. A single file's digest is
 * the SHA-256 of its bytes; a folder's (a Parquet table, a folder of part files) is the SHA-256 of
 * the lines {@code relative-path size sha256} of its data files in path order — files starting
 * with {@code _} or {@code .} (markers, checksums) are left out. Large inputs are hashed by Spark
 * tasks, one file per task, so the driver reads no data.
 */
public final class FileDigests {
    private FileDigests() {
    }

    /** One data file of an input. */
    public record Entry(String path, long bytes, String sha256) implements Serializable {
    }

    /** An input's digest and the number of files and bytes it covers. */
    public record Digest(String sha256, int files, long bytes) {
    }

    /** The digest of the file or folder {@code uri}; hashed on the executors when {@code sc} is given. */
    public static Digest of(String uri, Configuration conf, JavaSparkContext sc) {
        Path root = new Path(uri);
        try {
            FileSystem fs = root.getFileSystem(conf);
            FileStatus status = fs.getFileStatus(root);
            if (!status.isDirectory()) {
                return new Digest(sha256(fs, root), 1, status.getLen());
            }
            String base = fs.makeQualified(root).toUri().getPath();
            List<String[]> files = new ArrayList<>();
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                String rel = f.getPath().toUri().getPath().substring(base.length() + 1);
                boolean hidden = false;
                for (String part : rel.split("/")) {
                    hidden |= part.startsWith("_") || part.startsWith(".");
                }
                if (!hidden) {
                    files.add(new String[] {f.getPath().toString(), rel});
                }
            }
            files.sort(java.util.Comparator.comparing(f -> f[1]));
            List<Entry> entries;
            if (sc != null && files.size() > 1) {
                HadoopConf shipped = new HadoopConf(conf);
                entries = sc.parallelize(files, Math.min(files.size(), Math.max(1, sc.defaultParallelism())))
                        .map(f -> entry(f, shipped.get())).collect();
            } else {
                entries = new ArrayList<>();
                for (String[] f : files) {
                    entries.add(entry(f, conf));
                }
            }
            StringBuilder lines = new StringBuilder();
            long bytes = 0;
            for (Entry e : entries) {
                lines.append(e.path()).append(' ').append(e.bytes()).append(' ').append(e.sha256()).append('\n');
                bytes += e.bytes();
            }
            return new Digest(hex(digest().digest(lines.toString().getBytes(StandardCharsets.UTF_8))), entries.size(), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + uri + ": " + e.getMessage(), e);
        }
    }

    /** One digest over named files: SHA-256 of the lines {@code name size sha256} in the given order. */
    public static Digest ofParts(java.util.Map<String, String> parts, Configuration conf) {
        StringBuilder lines = new StringBuilder();
        long bytes = 0;
        for (java.util.Map.Entry<String, String> p : parts.entrySet()) {
            Digest d = of(p.getValue(), conf, null);
            lines.append(p.getKey()).append(' ').append(d.bytes()).append(' ').append(d.sha256()).append('\n');
            bytes += d.bytes();
        }
        return new Digest(io.salun.config.Settings.sha256Hex(lines.toString()), parts.size(), bytes);
    }

    /** SHA-256 of one file's bytes. */
    public static String sha256(FileSystem fs, Path file) throws IOException {
        MessageDigest digest = digest();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = fs.open(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return hex(digest.digest());
    }

    private static Entry entry(String[] file, Configuration conf) throws IOException {
        Path path = new Path(file[0]);
        FileSystem fs = path.getFileSystem(conf);
        return new Entry(file[1], fs.getFileStatus(path).getLen(), sha256(fs, path));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
