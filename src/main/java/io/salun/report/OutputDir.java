package io.salun.report;

import io.salun.config.InvalidInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * An output folder written under a staging name beside it and published by one rename at the
 * end, then marked complete by a {@value #SUCCESS} file written last: a JSON list of every file
 * with its size and SHA-256. On HDFS the rename is atomic; on object stores (s3a, gs) it is a
 * copy, and the marker is what tells a reader the result is whole. An existing output is only
 * replaced when asked. On failure the staging folder is removed.
 */
public final class OutputDir implements AutoCloseable {
    /** Name of the completion marker, the last file written (Hadoop's convention). */
    public static final String SUCCESS = "_SUCCESS";

    private final FileSystem fs;
    private final Path target;
    private final Path staging;
    private final boolean overwrite;
    private boolean published;

    private OutputDir(FileSystem fs, Path target, Path staging, boolean overwrite) {
        this.fs = fs;
        this.target = target;
        this.staging = staging;
        this.overwrite = overwrite;
    }

    /** Checks that {@code uri} may be written (before any work is done) and opens its staging folder. */
    public static OutputDir open(String uri, boolean overwrite, Configuration conf) {
        Path target = new Path(uri);
        try {
            FileSystem fs = target.getFileSystem(conf);
            if (fs.exists(target) && !overwrite) {
                throw new InvalidInputException("output.dir: " + uri + " already exists; choose another output.dir"
                        + " or set output.overwrite=true");
            }
            Path staging = new Path(target.getParent(), "." + target.getName() + ".staging");
            if (fs.exists(staging)) {
                fs.delete(staging, true);
            }
            if (!fs.mkdirs(staging)) {
                throw new InvalidInputException("output.dir: could not create " + staging);
            }
            return new OutputDir(fs, target, staging, overwrite);
        } catch (IOException e) {
            throw new UncheckedIOException("output.dir: cannot prepare " + uri + ": " + e.getMessage(), e);
        }
    }

    /** The URI of {@code name} inside the staging folder. */
    public String staged(String name) {
        return new Path(staging, name).toString();
    }

    /** The URI {@code name} will have once published. */
    public String published(String name) {
        return new Path(target, name).toString();
    }

    public String uri() {
        return target.toString();
    }

    public void writeText(String name, String text) {
        try (OutputStream out = fs.create(new Path(staging, name), false)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + staged(name) + ": " + e.getMessage(), e);
        }
    }

    /** Publishes the staged folder as the output (replacing an old one only when allowed). */
    public void publish() {
        try {
            if (fs.exists(target)) {
                if (!overwrite) {
                    throw new InvalidInputException("output.dir: " + target + " appeared while the job ran; not replaced");
                }
                fs.delete(target, true);
            }
            String marker = marker();
            if (!fs.rename(staging, target)) {
                throw new IOException("rename of " + staging + " to " + target + " failed");
            }
            published = true;
            try (OutputStream out = fs.create(new Path(target, SUCCESS), false)) {
                out.write(marker.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not publish " + target + ": " + e.getMessage(), e);
        }
    }

    /** Every file staged so far (path relative to the folder) with its size and SHA-256, in path order. */
    public java.util.SortedMap<String, FileDigests.Entry> stagedFiles() {
        java.util.TreeMap<String, FileDigests.Entry> files = new java.util.TreeMap<>();
        try {
            org.apache.hadoop.fs.RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus> it = fs.listFiles(staging, true);
            String root = fs.makeQualified(staging).toUri().getPath();
            while (it.hasNext()) {
                org.apache.hadoop.fs.LocatedFileStatus f = it.next();
                String rel = f.getPath().toUri().getPath().substring(root.length() + 1);
                files.put(rel, new FileDigests.Entry(rel, f.getLen(), FileDigests.sha256(fs, f.getPath())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not list " + staging + ": " + e.getMessage(), e);
        }
        return files;
    }

    /** The marker's content: each staged file's path relative to the folder, size and SHA-256. */
    private String marker() {
        StringBuilder json = new StringBuilder("{\n  \"files\": [");
        String sep = "\n";
        for (FileDigests.Entry e : stagedFiles().values()) {
            json.append(sep).append("    {\"path\": \"").append(e.path().replace("\"", "\\\""))
                    .append("\", \"bytes\": ").append(e.bytes())
                    .append(", \"sha256\": \"").append(e.sha256()).append("\"}");
            sep = ",\n";
        }
        return json.append("\n  ]\n}\n").toString();
    }

    @Override
    public void close() {
        if (!published) {
            try {
                fs.delete(staging, true);
            } catch (IOException e) {
                throw new UncheckedIOException("could not remove staging folder " + staging, e);
            }
        }
    }
}
