package io.salun.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.salun.config.InvalidInputException;
import io.salun.config.StorageException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A run's claim on a folder it will write ({@code output.dir}, {@code schedule.dir}) for the run's
 * lifetime: a small file {@code .<name>.lease} beside the folder, created only if absent, holding
 * who holds it (a random token, the Spark application, host, process and start time) and renewed
 * by touching its modification time every {@code timeout / 4}. A second run on the same folder,
 * from this machine or another, finds the file and is refused at once; it takes the claim over
 * only from a holder that is gone: one whose lease was not renewed within {@code timeout}, or,
 * on the same host, whose process no longer exists (so a rerun after a driver crash resumes
 * without waiting).
 *
 * <p>Creation is atomic where the file system makes it so: {@code O_EXCL} on local disks (Hadoop's
 * local file system checks and creates in two steps, so the lease goes through java.nio there),
 * and HDFS's create-if-absent at the NameNode. Taking over a dead holder's lease first moves it
 * aside under a unique name (an atomic rename), then checks that what it moved is the stale lease
 * it saw, and gives it back otherwise, so two runs that find the same dead lease do not both win.
 * The holder checks the lease is still its own before it publishes ({@link #check()}).
 *
 * <p>Object stores ({@code s3a://}, {@code gs://} …) have no create-if-absent in the Hadoop client
 * Spark ships (S3A 3.3.4 checks, then writes) and no atomic rename, but they list and read their
 * own writes consistently. There {@code .<name>.lease} is a folder of claims, one object per run
 * ({@code claim-<token>}, never overwritten) beside its heartbeat ({@code alive-<token>},
 * rewritten to renew): a run refuses if a live claim is there, else writes its claim and lists
 * again; it holds the lease if every other live claim is younger than its own (by the store's
 * modification time), refuses if one is older, and on a tie of times withdraws and tries again.
 * A claim written after another was visible is younger, so two runs cannot both hold the lease.
 */
public final class OutputLease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OutputLease.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileSystem fs;
    private final Path file;
    private final String setting;
    private final Path target;
    private final String token;
    private final boolean listed;
    private final ScheduledExecutorService renewal;
    private volatile String lost;

    /** Who holds a lease, as its file says. */
    record Holder(String token, String run, String host, long pid, String since) {
        static Optional<Holder> parse(byte[] bytes) {
            try {
                JsonNode n = JSON.readTree(bytes);
                if (n == null || !n.hasNonNull("token")) {
                    return Optional.empty();
                }
                return Optional.of(new Holder(n.get("token").asText(), n.path("run").asText("?"),
                        n.path("host").asText("?"), n.path("pid").asLong(-1), n.path("since").asText("?")));
            } catch (IOException e) {
                return Optional.empty();
            }
        }
    }

    private OutputLease(FileSystem fs, Path file, String setting, Path target, String token, Duration timeout,
                        boolean listed) {
        this.fs = fs;
        this.file = file;
        this.setting = setting;
        this.target = target;
        this.token = token;
        this.listed = listed;
        this.renewal = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "salun-lease " + target.getName());
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(250, timeout.toMillis() / 4);
        renewal.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    /** The lease file of {@code target}: {@code .<name>.lease} in the same parent folder. */
    public static Path fileOf(Path target) {
        return new Path(target.getParent(), "." + target.getName() + ".lease");
    }

    /**
     * Takes the lease on {@code target} for the run described by {@code run} (e.g. the command
     * and Spark application), or refuses.
     *
     * @param setting the setting that named {@code target}, for messages
     * @param timeout how long a lease lives without renewal before another run may take it over
     * @throws InvalidInputException if another live run holds it
     */
    public static OutputLease acquire(String setting, Path target, String run, Duration timeout, Configuration conf) {
        FileSystem fs;
        try {
            fs = target.getFileSystem(conf);
        } catch (IOException e) {
            throw new InvalidInputException(setting + ": cannot reach the file system of " + target + ": "
                    + StorageException.reason(e), e);
        }
        return acquire(setting, target, run, timeout, conf, !(isLocal(fs) || isHdfs(fs)));
    }

    private static boolean isHdfs(FileSystem fs) {
        return fs.getScheme().equals("hdfs") || fs.getScheme().equals("viewfs");
    }

    /** As {@link #acquire(String, Path, String, Duration, Configuration)}, with claims in a listed folder when {@code listed}. */
    static OutputLease acquire(String setting, Path target, String run, Duration timeout, Configuration conf,
                               boolean listed) {
        if (target.getParent() == null) {
            throw new InvalidInputException(setting + ": " + target + " is a file system root; expected a folder inside one");
        }
        Path file = fileOf(target);
        String token = UUID.randomUUID().toString();
        byte[] content = content(token, run);
        FileSystem fs;
        try {
            fs = target.getFileSystem(conf);
        } catch (IOException e) {
            throw new InvalidInputException(setting + ": cannot reach the file system of " + target + ": "
                    + StorageException.reason(e), e);
        }
        if (listed) {
            return claim(fs, file, setting, target, token, content, timeout);
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                if (createNew(fs, file, content)) {
                    LOG.debug("lease {} taken ({})", file, run);
                    return new OutputLease(fs, file, setting, target, token, timeout, false);
                }
                Optional<Observed> held = observe(fs, file);
                if (held.isEmpty()) {
                    continue; // released between our attempt and the look: try again
                }
                Optional<String> gone = gone(held.get(), timeout);
                if (gone.isEmpty()) {
                    throw new InvalidInputException(refusal(setting, target, held.get(), timeout));
                }
                LOG.warn("{}: taking over the lease on {} from a run that is gone ({})", setting, target, gone.get());
                takeOver(fs, file, held.get(), token);
            } catch (java.nio.file.AccessDeniedException | org.apache.hadoop.security.AccessControlException e) {
                throw new InvalidInputException(setting + ": cannot write beside " + target + " (permission denied: "
                        + StorageException.reason(e) + "); expected a folder this job may write", e);
            } catch (IOException e) {
                throw new StorageException(setting + ": could not take the lease " + file + ": "
                        + StorageException.reason(e), e);
            }
        }
        throw new StorageException(setting + ": could not take the lease " + file + " after 5 attempts;"
                + " other runs keep taking and releasing it", null);
    }

    /**
     * Fails if the lease is no longer this run's: taken over by another run while this one
     * stalled longer than the timeout. Called before a result is published.
     */
    public void check() {
        String why = lost;
        if (why == null && listed) {
            try {
                // a run that took over removed this claim first: while it is there, the lease is this run's
                if (!fs.exists(claimOf(file, token))) {
                    why = "its claim in " + file + " is gone";
                }
            } catch (IOException e) {
                why = "its lease " + file + " cannot be read: " + StorageException.reason(e);
            }
        } else if (why == null) {
            try {
                Optional<Observed> now = observe(fs, file);
                if (now.isEmpty()) {
                    why = "its lease file " + file + " is gone";
                } else if (now.get().holder().map(h -> !h.token().equals(token)).orElse(true)) {
                    why = "another run holds its lease " + file + " now";
                }
            } catch (IOException e) {
                why = "its lease " + file + " cannot be read: " + StorageException.reason(e);
            }
        }
        if (why != null) {
            throw new IllegalStateException(setting + ": this run lost its claim on " + target + " (" + why
                    + "), so it does not publish there; run it again");
        }
    }

    /** Stops renewing and removes the lease if it is still this run's. */
    @Override
    public void close() {
        renewal.shutdownNow();
        if (listed) {
            try {
                fs.delete(aliveOf(file, token), false);
                fs.delete(claimOf(file, token), false);
            } catch (IOException e) {
                LOG.warn("{}: could not release the lease {}: {}", setting, file, StorageException.reason(e));
            }
            return;
        }
        try {
            Optional<Observed> now = observe(fs, file);
            if (now.isPresent() && now.get().holder().map(h -> h.token().equals(token)).orElse(false)) {
                fs.delete(file, false);
            }
        } catch (IOException e) {
            LOG.warn("{}: could not release the lease {}: {}", setting, file, StorageException.reason(e));
        }
    }

    private void renew() {
        if (listed) {
            try {
                if (!fs.exists(claimOf(file, token))) {
                    lost = "its claim in " + file + " was removed";
                    LOG.warn("{}: {}", setting, lost);
                    renewal.shutdown();
                    return;
                }
                heartbeat(fs, file, token);
            } catch (IOException | RuntimeException e) {
                LOG.warn("{}: could not renew the lease {}: {}", setting, file, StorageException.reason(e));
            }
            return;
        }
        try {
            Optional<Observed> now = observe(fs, file);
            if (now.isEmpty() || now.get().holder().map(h -> !h.token().equals(token)).orElse(true)) {
                lost = now.isEmpty() ? "its lease file " + file + " was removed" : "another run took its lease " + file;
                LOG.warn("{}: {}", setting, lost);
                renewal.shutdown();
                return;
            }
            fs.setTimes(file, System.currentTimeMillis(), -1);
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: could not renew the lease {}: {}", setting, file, StorageException.reason(e));
        }
    }

    /** A run's claim in a listed lease: its token, holder, when it was written, and when last renewed. */
    record Claim(String token, Optional<Holder> holder, long written, long renewed) {
        /** Whether the claim's run may be alive: renewed within {@code timeout} and, on this host, its process running. */
        boolean alive(Duration timeout) {
            return gone(new Observed(new byte[0], holder, renewed), timeout).isEmpty();
        }
    }

    static Path claimOf(Path folder, String token) {
        return new Path(folder, "claim-" + token);
    }

    static Path aliveOf(Path folder, String token) {
        return new Path(folder, "alive-" + token);
    }

    /** Every claim in {@code folder}, with its heartbeat's time (the claim's own when it has none yet). */
    static List<Claim> claims(FileSystem fs, Path folder) throws IOException {
        Map<String, FileStatus> claims = new TreeMap<>();
        Map<String, Long> alive = new TreeMap<>();
        FileStatus[] listing;
        try {
            listing = fs.listStatus(folder);
        } catch (FileNotFoundException e) {
            return List.of();
        }
        for (FileStatus st : listing) {
            String n = st.getPath().getName();
            if (n.startsWith("claim-")) {
                claims.put(n.substring(6), st);
            } else if (n.startsWith("alive-")) {
                alive.put(n.substring(6), st.getModificationTime());
            }
        }
        List<Claim> out = new ArrayList<>();
        for (Map.Entry<String, FileStatus> c : claims.entrySet()) {
            Optional<Holder> holder;
            try (InputStream in = fs.open(c.getValue().getPath())) {
                holder = Holder.parse(in.readNBytes(64 * 1024));
            } catch (FileNotFoundException e) {
                continue; // withdrawn meanwhile
            }
            long written = c.getValue().getModificationTime();
            out.add(new Claim(c.getKey(), holder, written, Math.max(written, alive.getOrDefault(c.getKey(), written))));
        }
        return out;
    }

    private static void heartbeat(FileSystem fs, Path folder, String token) throws IOException {
        try (OutputStream out = fs.create(aliveOf(folder, token), true)) {
            out.write(Instant.now().toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The listed protocol of object stores (see the class comment). */
    private static OutputLease claim(FileSystem fs, Path folder, String setting, Path target, String token, byte[] content,
                                     Duration timeout) {
        java.util.Random backoff = new java.util.Random();
        try {
            for (int attempt = 0; attempt < 12; attempt++) {
                Optional<Claim> live = liveOtherThan(fs, folder, token, timeout, Long.MAX_VALUE);
                if (live.isPresent()) {
                    throw new InvalidInputException(refusal(setting, target, live.get(), timeout));
                }
                try (OutputStream out = fs.create(claimOf(folder, token), false)) {
                    out.write(content);
                }
                long mine = fs.getFileStatus(claimOf(folder, token)).getModificationTime();
                Optional<Claim> rival = liveOtherThan(fs, folder, token, timeout, mine);
                if (rival.isEmpty()) {
                    heartbeat(fs, folder, token);
                    LOG.debug("lease {} claimed", folder);
                    return new OutputLease(fs, folder, setting, target, token, timeout, true);
                }
                fs.delete(claimOf(folder, token), false);
                if (rival.get().written() < mine) {
                    throw new InvalidInputException(refusal(setting, target, rival.get(), timeout));
                }
                // claimed in the same instant as another run (stores keep whole seconds): both withdraw and
                // try again after a random pause
                Thread.sleep(200 + backoff.nextInt(1800));
            }
        } catch (IOException e) {
            throw new StorageException(setting + ": could not claim the lease " + folder + ": " + StorageException.reason(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(setting + ": interrupted while claiming the lease " + folder, e);
        }
        throw new StorageException(setting + ": could not claim the lease " + folder + " after 12 attempts;"
                + " other runs keep claiming it at the same instant", null);
    }

    /**
     * A live claim of another run written no later than {@code notAfter}; claims of runs that are
     * gone are removed on the way.
     */
    private static Optional<Claim> liveOtherThan(FileSystem fs, Path folder, String token, Duration timeout, long notAfter)
            throws IOException {
        Optional<Claim> found = Optional.empty();
        for (Claim c : claims(fs, folder)) {
            if (c.token().equals(token)) {
                continue;
            }
            if (!c.alive(timeout)) {
                LOG.warn("lease {}: removing the claim of a run that is gone ({})", folder,
                        gone(new Observed(new byte[0], c.holder(), c.renewed()), timeout).orElse("?"));
                fs.delete(aliveOf(folder, c.token()), false);
                fs.delete(claimOf(folder, c.token()), false);
            } else if (c.written() <= notAfter && found.map(f -> c.written() < f.written()).orElse(true)) {
                found = Optional.of(c);
            }
        }
        return found;
    }

    private static String refusal(String setting, Path target, Claim held, Duration timeout) {
        return refusal(setting, target, new Observed(new byte[0], held.holder(), held.renewed()), timeout);
    }

    /** A lease file as found: its bytes, its holder if they parse, and when it was last renewed. */
    record Observed(byte[] bytes, Optional<Holder> holder, long modified) {
    }

    private static Optional<Observed> observe(FileSystem fs, Path file) throws IOException {
        try {
            FileStatus status = fs.getFileStatus(file);
            byte[] bytes;
            try (InputStream in = fs.open(file)) {
                bytes = in.readNBytes(64 * 1024);
            }
            return Optional.of(new Observed(bytes, Holder.parse(bytes), status.getModificationTime()));
        } catch (FileNotFoundException e) {
            return Optional.empty();
        }
    }

    /** Why the holder of {@code held} is gone, or empty while it may be alive. */
    static Optional<String> gone(Observed held, Duration timeout) {
        long silent = System.currentTimeMillis() - held.modified();
        if (silent > timeout.toMillis()) {
            return Optional.of("not renewed for " + silent / 1000 + " s, longer than the lease timeout of "
                    + timeout.toSeconds() + " s");
        }
        if (held.holder().isPresent()) {
            Holder h = held.holder().get();
            if (h.host().equals(host()) && h.pid() > 0 && ProcessHandle.of(h.pid()).map(p -> !p.isAlive()).orElse(true)) {
                return Optional.of("its process " + h.pid() + " on this host " + h.host() + " has ended");
            }
        }
        return Optional.empty();
    }

    private static String refusal(String setting, Path target, Observed held, Duration timeout) {
        long ago = Math.max(0, (System.currentTimeMillis() - held.modified()) / 1000);
        String who = held.holder().map(h -> h.run() + " on host " + h.host() + " (pid " + h.pid() + ") since " + h.since())
                .orElse("a run whose lease is still being written");
        return setting + ": another run holds " + target + ": " + who + ", lease renewed " + ago + " s ago ("
                + fileOf(target) + "). Two runs must not write one output: wait for it to end, or choose another "
                + setting + ". A run that died frees it once its lease is " + timeout.toSeconds()
                + " s old (output.lease-timeout), or at once from its own host.";
    }

    /** Moves a dead holder's lease aside; gives it back if what moved is not the lease that was seen. */
    private static void takeOver(FileSystem fs, Path file, Observed seen, String token) throws IOException {
        Path aside = new Path(file.getParent(), file.getName() + ".gone-" + token);
        if (!moveAside(fs, file, aside)) {
            return; // another run moved it first
        }
        Optional<Observed> moved = observe(fs, aside);
        if (moved.isPresent() && !(Arrays.equals(moved.get().bytes(), seen.bytes())
                && moved.get().modified() == seen.modified())) {
            // a live lease, renewed or newly taken since we looked: give it back unless a third run has one now
            if (!createNew(fs, file, moved.get().bytes())) {
                LOG.warn("lease {}: a lease moved aside by mistake could not be restored; another run holds it now", file);
            }
        }
        fs.delete(aside, false);
    }

    private static boolean isLocal(FileSystem fs) {
        return fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem;
    }

    private static java.nio.file.Path local(FileSystem fs, Path p) {
        return fs instanceof LocalFileSystem l ? l.pathToFile(p).toPath() : ((RawLocalFileSystem) fs).pathToFile(p).toPath();
    }

    /** Creates {@code file} with {@code content} if nothing is there; false if something is. */
    static boolean createNew(FileSystem fs, Path file, byte[] content) throws IOException {
        if (isLocal(fs)) {
            java.nio.file.Path p = local(fs, file);
            Files.createDirectories(p.getParent());
            try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                out.write(content);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            }
            return true;
        }
        try (OutputStream out = fs.create(file, false)) {
            out.write(content);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (org.apache.hadoop.ipc.RemoteException e) {
            if (e.unwrapRemoteException(FileAlreadyExistsException.class) instanceof FileAlreadyExistsException) {
                return false;
            }
            throw e;
        }
    }

    private static boolean moveAside(FileSystem fs, Path from, Path to) throws IOException {
        if (isLocal(fs)) {
            try {
                Files.move(local(fs, from), local(fs, to), StandardCopyOption.ATOMIC_MOVE);
                return true;
            } catch (NoSuchFileException e) {
                return false;
            }
        }
        return fs.rename(from, to);
    }

    private static byte[] content(String token, String run) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("token", token);
        c.put("run", run);
        c.put("host", host());
        c.put("pid", ProcessHandle.current().pid());
        c.put("since", Instant.now().toString());
        try {
            return JSON.writeValueAsString(c).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
