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
 * end, so a reader never sees a half-written result; an existing output is only replaced when
 * asked. On failure the staging folder is removed.
 */
public final class OutputDir implements AutoCloseable {
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
            if (!fs.rename(staging, target)) {
                throw new IOException("rename of " + staging + " to " + target + " failed");
            }
            published = true;
        } catch (IOException e) {
            throw new UncheckedIOException("could not publish " + target + ": " + e.getMessage(), e);
        }
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
