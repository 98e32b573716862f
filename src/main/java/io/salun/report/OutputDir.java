package io.salun.report;

import io.salun.config.InvalidInputException;
import io.salun.config.StorageException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An output folder written under a staging name beside it and published by one rename at the
 * end, then marked complete by a {@value #SUCCESS} file written last: a JSON list of every file
 * with its size and SHA-256. On HDFS and local disks the rename is atomic; on object stores (s3a,
 * gs) it is a copy, and the marker is what tells a reader the result is whole.
 *
 * <p>The run owns the folder for its lifetime through an {@link OutputLease}: a second run on the
 * same {@code output.dir} is refused before it touches anything. Before the rename, publication
 * checks that every file the run staged is there, and that the manifest lists exactly the staged
 * files with the hashes they still have; a folder that would be incomplete is never published. An
 * existing output is only replaced when asked. On failure the staging folder is removed and the
 * lease released. A publication interrupted by a crash (on an object store the rename is a copy,
 * file by file) leaves a {@code .<name>.publishing} marker; the next run on the folder removes the
 * half-published folder and publishes again.
 */
public final class OutputDir implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OutputDir.class);
    /** Name of the completion marker, the last file written (Hadoop's convention). */
    public static final String SUCCESS = "_SUCCESS";
    /** The setting that names an output folder, for messages. */
    private static final String SETTING = "output.dir";

    private final FileSystem fs;
    private final Path target;
    private final Path staging;
    private final boolean overwrite;
    private final OutputLease lease;
    private final Set<String> written = new LinkedHashSet<>();
    private SortedMap<String, FileDigests.Entry> manifested;
    private boolean published;

    /** Writes one file's bytes to a stream the caller does not close. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private OutputDir(FileSystem fs, Path target, Path staging, boolean overwrite, OutputLease lease) {
        this.fs = fs;
        this.target = target;
        this.staging = staging;
        this.overwrite = overwrite;
        this.lease = lease;
    }

    /**
     * Takes the folder {@code uri} for this run (before any work is done): checks it may be
     * written, takes its lease, and opens a fresh staging folder.
     *
     * @param run          who is writing, recorded in the lease (command and Spark application)
     * @param leaseTimeout how long the lease lives unrenewed before another run may take it over
     * @throws InvalidInputException if the folder exists (and may not be replaced), is a file, or
     *                               cannot be written, or another run holds it
     */
    public static OutputDir open(String uri, boolean overwrite, String run, Duration leaseTimeout, Configuration conf) {
        Path target = new Path(uri);
        FileSystem fs;
        try {
            fs = target.getFileSystem(conf);
        } catch (IOException e) {
            throw new InvalidInputException(SETTING + ": cannot reach the file system of " + uri + ": "
                    + StorageException.reason(e), e);
        }
        if (target.getParent() == null) {
            throw new InvalidInputException(SETTING + ": " + uri + " is a file system root; expected a folder inside one");
        }
        Path staging = new Path(target.getParent(), "." + target.getName() + ".staging");
        ensureFolder(fs, target.getParent(), uri);
        OutputLease lease = OutputLease.acquire(SETTING, target, run, leaseTimeout, conf);
        try {
            Path publishing = publishingMarker(target);
            if (status(fs, publishing) != null) {
                if (status(fs, new Path(target, SUCCESS)) == null) {
                    // a run died while it published: its folder may be missing files (on object stores a
                    // rename is a copy, file by file) and has no _SUCCESS. Ours to remove, as the lease is ours.
                    LOG.warn("output.dir: {} was left half-published by a run that died; removing it to publish again", uri);
                    fs.delete(target, true);
                }
                fs.delete(publishing, false);
            }
            FileStatus existing = status(fs, target);
            if (existing != null && existing.isFile()) {
                throw new InvalidInputException(SETTING + ": " + uri + " is a file; expected a folder to publish into"
                        + " (or a path that does not exist yet)");
            }
            if (existing != null && !overwrite) {
                throw new InvalidInputException(SETTING + ": " + uri + " already exists; choose another output.dir"
                        + " or set output.overwrite=true");
            }
            // we hold the lease, so a staging folder here is a dead run's leftover
            if (status(fs, staging) != null) {
                fs.delete(staging, true);
            }
            if (!fs.mkdirs(staging)) {
                throw new InvalidInputException(SETTING + ": could not create " + staging);
            }
            return new OutputDir(fs, target, staging, overwrite, lease);
        } catch (IOException | RuntimeException e) {
            lease.close();
            if (e instanceof RuntimeException r) {
                throw r instanceof InvalidInputException ? r : new InvalidInputException(SETTING + ": cannot prepare "
                        + uri + ": " + StorageException.reason(r), r);
            }
            throw new InvalidInputException(SETTING + ": cannot prepare " + uri + ": " + StorageException.reason(e), e);
        }
    }

    /** Creates {@code folder} (and its parents) or refuses naming what is in the way. */
    private static void ensureFolder(FileSystem fs, Path folder, String uri) {
        try {
            FileStatus st = status(fs, folder);
            if (st != null && st.isFile()) {
                throw new InvalidInputException(SETTING + ": the parent of " + uri + ", " + folder
                        + ", is a file; expected a folder");
            }
            if (st == null && !fs.mkdirs(folder)) {
                throw new InvalidInputException(SETTING + ": could not create the folder " + folder + " for " + uri);
            }
        } catch (IOException e) {
            throw new InvalidInputException(SETTING + ": cannot create the folder " + folder + " for " + uri + ": "
                    + StorageException.reason(e), e);
        }
    }

    private static FileStatus status(FileSystem fs, Path p) throws IOException {
        try {
            return fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    /**
     * The URI of {@code name} inside the staging folder, for a writer that needs a path (Spark,
     * Hadoop); the file must be there when the folder is published.
     */
    public String staged(String name) {
        written.add(name);
        return new Path(staging, name).toString();
    }

    /** The URI {@code name} will have once published. */
    public String published(String name) {
        return new Path(target, name).toString();
    }

    public String uri() {
        return target.toString();
    }

    /**
     * Writes staged file {@code name} (never replacing one); a failed write removes the partial
     * file and names output.dir, the file and the file system's reason.
     */
    public void write(String name, Writer writer) {
        Path file = new Path(staging, name);
        written.add(name);
        try {
            StorageException.guard(SETTING, "write", file.toString(), () -> {
                try (OutputStream out = fs.create(file, false)) {
                    writer.write(out);
                }
            });
        } catch (StorageException e) {
            removeQuietly(file);
            throw e;
        }
    }

    public void writeText(String name, String text) {
        write(name, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Writes {@code mask.bin}. */
    public void writeMask(io.salun.mask.Bitset mask) {
        write("mask.bin", out -> out.write(io.salun.mask.MaskFile.encode(mask)));
    }

    /** Writes {@code model.zip} (reproducible bytes, without updater state). */
    public void writeModel(org.deeplearning4j.nn.api.Model net) {
        write("model.zip", out -> io.salun.model.ModelStore.write(net, false, out));
    }

    /** Writes {@code report.json} and {@code report.html}, both rendered from {@code report}. */
    public void writeReport(Report report) {
        writeText("report.json", report.json());
        writeText("report.html", report.html());
    }

    /**
     * Writes {@link Manifest#FILE}, listing every file staged so far with its size and SHA-256;
     * publication then checks that these are still exactly the staged files.
     */
    public void writeManifest(Manifest manifest) {
        SortedMap<String, FileDigests.Entry> outputs = stagedFiles();
        outputs.remove(Manifest.FILE);
        writeText(Manifest.FILE, manifest.json(outputs));
        manifested = outputs;
    }

    /**
     * Publishes the staged folder as the output (replacing an old one only when allowed), after
     * checking that this run still holds it and that the folder is complete: every file the run
     * staged is present, and the manifest (if written) lists exactly the other files, unchanged.
     *
     * @throws IllegalStateException if the folder is incomplete or the run lost its lease
     */
    public void publish() {
        lease.check();
        SortedMap<String, FileDigests.Entry> files = stagedFiles();
        List<String> problems = new ArrayList<>();
        for (String name : written) {
            if (!files.containsKey(name)) {
                problems.add(name + " was written but is missing");
            }
        }
        if (manifested != null) {
            Map<String, FileDigests.Entry> rest = new TreeMap<>(files);
            rest.remove(Manifest.FILE);
            for (Map.Entry<String, FileDigests.Entry> e : rest.entrySet()) {
                FileDigests.Entry listed = manifested.get(e.getKey());
                if (listed == null) {
                    problems.add(e.getKey() + " is not in " + Manifest.FILE);
                } else if (!listed.sha256().equals(e.getValue().sha256())) {
                    problems.add(e.getKey() + " changed after " + Manifest.FILE + " recorded it");
                }
            }
            for (String name : manifested.keySet()) {
                if (!rest.containsKey(name)) {
                    problems.add(name + " is in " + Manifest.FILE + " but missing");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(SETTING + ": not publishing " + target + ", its staged result "
                    + staging + " is incomplete: " + String.join("; ", problems));
        }
        String marker = marker(files);
        Path publishing = publishingMarker(target);
        StorageException.guard(SETTING, "publish", target.toString(), () -> {
            try (OutputStream out = fs.create(publishing, true)) {
                out.write(target.toString().getBytes(StandardCharsets.UTF_8));
            }
            if (fs.exists(target)) {
                if (!overwrite) {
                    throw new InvalidInputException(SETTING + ": " + target + " appeared while the job ran; not replaced");
                }
                fs.delete(target, true);
            }
            if (!fs.rename(staging, target)) {
                throw new IOException("rename of " + staging + " to " + target + " failed");
            }
        });
        published = true;
        try {
            StorageException.guard(SETTING, "write", new Path(target, SUCCESS).toString(), () -> {
                try (OutputStream out = fs.create(new Path(target, SUCCESS), false)) {
                    out.write(marker.getBytes(StandardCharsets.UTF_8));
                }
            });
        } catch (StorageException e) {
            // without its marker the folder is not a result: take it back rather than leave it half-published
            removeQuietly(target);
            removeQuietly(publishing);
            throw e;
        }
        StorageException.guard(SETTING, "remove", publishing.toString(), () -> fs.delete(publishing, false));
    }

    /**
     * {@code .<name>.publishing}, there from just before the result is moved into place until its
     * {@code _SUCCESS} is written: a rerun that finds it knows the folder was left half-published.
     */
    static Path publishingMarker(Path target) {
        return new Path(target.getParent(), "." + target.getName() + ".publishing");
    }

    /** Every file staged so far (path relative to the folder) with its size and SHA-256, in path order. */
    public SortedMap<String, FileDigests.Entry> stagedFiles() {
        TreeMap<String, FileDigests.Entry> files = new TreeMap<>();
        StorageException.guard(SETTING, "list", staging.toString(), () -> {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(staging, true);
            String root = fs.makeQualified(staging).toUri().getPath();
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                String rel = f.getPath().toUri().getPath().substring(root.length() + 1);
                files.put(rel, new FileDigests.Entry(rel, f.getLen(), FileDigests.sha256(fs, f.getPath())));
            }
        });
        return files;
    }

    /** The marker's content: each staged file's path relative to the folder, size and SHA-256. */
    private static String marker(SortedMap<String, FileDigests.Entry> files) {
        StringBuilder json = new StringBuilder("{\n  \"files\": [");
        String sep = "\n";
        for (FileDigests.Entry e : files.values()) {
            json.append(sep).append("    {\"path\": \"").append(e.path().replace("\"", "\\\""))
                    .append("\", \"bytes\": ").append(e.bytes())
                    .append(", \"sha256\": \"").append(e.sha256()).append("\"}");
            sep = ",\n";
        }
        return json.append("\n  ]\n}\n").toString();
    }

    private void removeQuietly(Path p) {
        try {
            fs.delete(p, true);
        } catch (IOException | RuntimeException ignored) {
            // the caller reports the first failure; this one would only hide it
        }
    }

    /** Removes the staging folder unless the result was published, and releases the lease. */
    @Override
    public void close() {
        try {
            if (!published) {
                removeQuietly(staging);
            }
        } finally {
            lease.close();
        }
    }
}
