package io.salun.train;

import io.salun.config.InvalidInputException;
import io.salun.config.StorageException;
import io.salun.model.NetworkSnapshot;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Where a run keeps what it has finished, so that a rerun after a driver crash resumes instead of
 * starting over: the state after the last finished training round of each stage (network with
 * updater state, position, loss history) and any file a stage wants kept (the saliency mask).
 *
 * <p>A folder on any Hadoop file system, stamped with the run's fingerprint (a hash of its
 * settings and inputs): a folder with another fingerprint belongs to another run and is cleared.
 * Each state is written to a new file named by its position and the older ones are removed after,
 * so a crash while writing leaves the previous state readable; a file that does not read back is
 * skipped for the one before it.
 */
public final class Checkpoints {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);
    private static final String FINGERPRINT = "fingerprint";
    private static final String SETTING = "checkpoint.dir";

    private final FileSystem fs;
    private final Path dir;
    private final int every;
    private final boolean created;
    private final Configuration conf;
    private final String scope;

    /** The state of a stage after {@code rounds} finished rounds (counted over all epochs). */
    public record State(String stage, long rounds, NetworkSnapshot network, List<ParameterAveraging.RoundLoss> losses,
                        double seconds) implements Serializable {
    }

    private Checkpoints(FileSystem fs, Path dir, int every, boolean created, Configuration conf, String scope) {
        this.conf = conf;
        this.scope = scope;
        this.fs = fs;
        this.dir = dir;
        this.every = every;
        this.created = created;
    }

    /**
     * Opens the checkpoint folder {@code uri} for the run {@code fingerprint}, saving a state every
     * {@code every} rounds (and always after an epoch's last round).
     */
    public static Checkpoints open(String uri, String fingerprint, int every, Configuration conf) {
        Path dir = new Path(uri);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            Path stamp = new Path(dir, FINGERPRINT);
            if (fs.exists(dir)) {
                if (fs.getFileStatus(dir).isFile()) {
                    throw new InvalidInputException(SETTING + ": " + uri + " is a file; expected a folder for the run's"
                            + " checkpoints (or a path that does not exist yet)");
                }
                String found = fs.exists(stamp) ? read(fs, stamp) : "";
                if (!found.equals(fingerprint)) {
                    LOG.info("checkpoints: {} belongs to another run (settings or inputs differ); starting afresh", uri);
                    fs.delete(dir, true);
                }
            }
            boolean created = !fs.exists(stamp);
            if (created) {
                if (!fs.mkdirs(dir)) {
                    throw new InvalidInputException(SETTING + ": could not create the folder " + uri);
                }
                StorageException.guard(SETTING, "write", stamp.toString(), () -> {
                    try (FSDataOutputStream out = fs.create(stamp, true)) {
                        out.write(fingerprint.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    }
                });
            }
            return new Checkpoints(fs, dir, every, created, conf, "");
        } catch (java.nio.file.AccessDeniedException | org.apache.hadoop.security.AccessControlException e) {
            throw new InvalidInputException(SETTING + ": cannot create " + uri + " (permission denied: "
                    + StorageException.reason(e) + "); expected a folder this job may write", e);
        } catch (IOException e) {
            throw new InvalidInputException(SETTING + ": cannot prepare " + uri + ": " + StorageException.reason(e), e);
        }
    }

    /**
     * The same folder for one of several trainings of a run (a benchmark's trials, a generation
     * run's methods) or for one of several runs sharing it (a benchmark's seeds): their states and
     * kept files (the mask) are kept apart under {@code scope}. A run scoped once keeps its mask
     * beside its trainings, which scope again and so share it.
     */
    public Checkpoints within(String scope) {
        if (!scope.matches("[A-Za-z0-9+@._-]+")) {
            throw new IllegalArgumentException("checkpoint scope '" + scope + "': expected letters, digits and + @ . _ -");
        }
        return new Checkpoints(fs, dir, every, created, conf, this.scope + scope + "~");
    }

    /** Whether a state after {@code round} (0-based within its epoch of {@code rounds}) is due. */
    boolean due(int round, int rounds) {
        return every > 0 && ((round + 1) % every == 0 || round + 1 == rounds);
    }

    /**
     * Saves the state of a stage, then removes its older states. A state that cannot be written
     * (a full disk) is removed rather than left half-written, and the run stops: the previous
     * state stays whole, so a rerun after the cause is fixed resumes from it.
     */
    void save(State state) {
        Path file = new Path(dir, String.format("%s%s.%012d.state", scope, state.stage(), state.rounds()));
        try {
            StorageException.guard(SETTING, "write the checkpoint", file.toString(), () -> {
                try (ObjectOutputStream out = new ObjectOutputStream(fs.create(file, true))) {
                    out.writeObject(state);
                }
            });
        } catch (StorageException e) {
            try {
                fs.delete(file, false);
            } catch (IOException | RuntimeException ignored) {
                // the write's own failure is the one to report
            }
            throw new StorageException(e.getMessage() + "; the run stopped (the last whole checkpoint is kept:"
                    + " a rerun resumes from it)", e.getCause());
        }
        try {
            for (FileStatus old : states(state.stage())) {
                if (!old.getPath().getName().equals(file.getName())) {
                    fs.delete(old.getPath(), false);
                }
            }
        } catch (IOException e) {
            throw new StorageException(SETTING + ": could not remove older checkpoints in " + dir + ": "
                    + StorageException.reason(e), e);
        }
    }

    /** Writes {@code mask} as the kept file {@code name}; a failed write leaves no partial file. */
    public void keep(String name, io.salun.mask.Bitset mask) {
        io.salun.mask.MaskFile.write(mask, file(name), SETTING, conf);
    }

    /** The latest readable state of {@code stage}, if any. */
    Optional<State> latest(String stage) {
        try {
            List<FileStatus> files = states(stage);
            files.sort(Comparator.comparing((FileStatus f) -> f.getPath().getName()).reversed());
            for (FileStatus f : files) {
                try (ObjectInputStream in = new ObjectInputStream(fs.open(f.getPath()))) {
                    return Optional.of((State) in.readObject());
                } catch (IOException | ClassNotFoundException | ClassCastException e) {
                    LOG.warn("checkpoints: {} does not read back ({}); trying an older one", f.getPath(), e.toString());
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("could not list checkpoints in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The URI of a kept file {@code name} (e.g. the mask); it may not exist yet. */
    public String file(String name) {
        return new Path(dir, scope + name).toString();
    }

    /** Whether kept file {@code name} exists. */
    public boolean has(String name) {
        try {
            return fs.exists(new Path(dir, scope + name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the folder: the run it served has published its result. */
    public void clear() {
        try {
            fs.delete(dir, true);
        } catch (IOException e) {
            LOG.warn("checkpoints: could not remove {}: {}", dir, e.toString());
        }
    }

    /**
     * Removes the folder if this run created it: the run was refused or diverged, and a rerun with
     * the same settings would end the same way, so nothing it kept can serve a resume. A folder
     * inherited from an earlier, crashed run is left as it was.
     */
    public void discardIfCreated() {
        if (created) {
            clear();
        }
    }

    private List<FileStatus> states(String stage) throws IOException {
        List<FileStatus> out = new ArrayList<>();
        if (!fs.exists(dir)) {
            return out;
        }
        for (FileStatus f : fs.listStatus(dir)) {
            String n = f.getPath().getName();
            String prefix = scope + stage + ".";
            if (n.startsWith(prefix) && n.endsWith(".state") && n.length() == prefix.length() + 12 + 6) {
                out.add(f);
            }
        }
        return out;
    }

    private static String read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
