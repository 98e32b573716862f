package io.salun.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local file system with a disk that fills: {@code filling://DISK/path} is the local file
 * {@code /path}, and every write counts against DISK's capacity (freed again by deletes). A write
 * beyond it stores what still fits and then fails exactly as Hadoop's local file system fails on a
 * full disk: {@code FSError(IOException("No space left on device"))}. Register it with
 * {@code fs.filling.impl}; set a disk's capacity with {@link #capacity}.
 */
public final class FillingFileSystem extends RawLocalFileSystem {
    private static final Map<String, AtomicLong> FREE = new ConcurrentHashMap<>();
    /** Bytes each file holds of its disk's space, by local path (files written past this class hold none). */
    private static final Map<String, Long> HELD = new ConcurrentHashMap<>();
    private URI uri;

    /** Gives {@code disk} {@code bytes} of free space. */
    public static void capacity(String disk, long bytes) {
        FREE.computeIfAbsent(disk, d -> new AtomicLong()).set(bytes);
    }

    /** Bytes still free on {@code disk}. */
    public static long free(String disk) {
        return FREE.get(disk).get();
    }

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        super.initialize(name, conf);
        uri = URI.create(name.getScheme() + "://" + name.getAuthority());
    }

    @Override
    public URI getUri() {
        // RawLocalFileSystem's constructor asks before initialize() has set it
        return uri == null ? URI.create("filling:///") : uri;
    }

    @Override
    public String getScheme() {
        return "filling";
    }

    private AtomicLong free() {
        AtomicLong f = FREE.get(uri.getAuthority());
        if (f == null) {
            throw new IllegalStateException("no capacity set for disk " + uri.getAuthority());
        }
        return f;
    }

    // beneath RawLocalFileSystem's write buffer, so what is counted is what reaches the file
    @Override
    protected OutputStream createOutputStream(Path f, boolean append) throws IOException {
        return filling(f, super.createOutputStream(f, append));
    }

    @Override
    protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission) throws IOException {
        return filling(f, super.createOutputStreamWithMode(f, append, permission));
    }

    private OutputStream filling(Path f, OutputStream out) {
        AtomicLong free = free();
        String file = pathToFile(f).getAbsolutePath();
        HELD.put(file, 0L);
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                int fit;
                synchronized (free) {
                    fit = (int) Math.max(0, Math.min(len, free.get()));
                    free.addAndGet(-fit);
                }
                HELD.merge(file, (long) fit, Long::sum);
                out.write(b, off, fit);
                if (fit < len) {
                    throw diskFull();
                }
            }
        };
    }

    /** What Hadoop's local file system throws on ENOSPC (its constructor is package-private there). */
    private static FSError diskFull() {
        try {
            java.lang.reflect.Constructor<FSError> c = FSError.class.getDeclaredConstructor(Throwable.class);
            c.setAccessible(true);
            return c.newInstance(new IOException("No space left on device"));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    // RawLocalFileSystem's statuses load their permissions through java.io.File of the path's URI,
    // which must be file:; these carry what the job reads (length, kind, times) with default permissions
    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        return plain(super.getFileStatus(f));
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        FileStatus[] raw = super.listStatus(f);
        FileStatus[] out = new FileStatus[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = plain(raw[i]);
        }
        return out;
    }

    private static FileStatus plain(FileStatus st) {
        return new FileStatus(st.getLen(), st.isDirectory(), 1, st.getBlockSize(), st.getModificationTime(),
                st.getAccessTime(), FsPermission.getFileDefault(), "owner", "group", st.getPath());
    }

    @Override
    public boolean delete(Path p, boolean recursive) throws IOException {
        String root = pathToFile(p).getAbsolutePath();
        boolean deleted = super.delete(p, recursive);
        if (deleted) {
            long freed = 0;
            for (String f : HELD.keySet()) {
                if (f.equals(root) || f.startsWith(root + "/")) {
                    Long held = HELD.remove(f);
                    freed += held == null ? 0 : held;
                }
            }
            free().addAndGet(freed);
        }
        return deleted;
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        String from = pathToFile(src).getAbsolutePath();
        String to = pathToFile(dst).getAbsolutePath();
        boolean renamed = super.rename(src, dst);
        if (renamed) {
            for (String f : HELD.keySet()) {
                if (f.equals(from) || f.startsWith(from + "/")) {
                    Long held = HELD.remove(f);
                    HELD.put(to + f.substring(from.length()), held == null ? 0 : held);
                }
            }
        }
        return renamed;
    }
}
