package io.salun.config;

import org.apache.hadoop.fs.FSError;

import java.io.IOException;

/**
 * A file system refused a write or a read the job needed while it ran (no space left, a quota, a
 * lost connection): not bad input, a fault of the environment. The message names the setting
 * whose path failed, the path and the file system's own reason, so the job ends with one line
 * ({@code ERROR output.dir: could not write …/model.zip: No space left on device}) and exit 1,
 * after removing what it had half-written.
 */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A write, copy or create action on a Hadoop file system. */
    @FunctionalInterface
    public interface IoAction {
        void run() throws IOException;
    }

    /**
     * Runs {@code action}, turning an {@link IOException} and Hadoop's {@link FSError} (what the
     * local file system throws for a full disk) into a {@code StorageException} whose message is
     * {@code setting: could not <what> <path>: <reason>}.
     */
    public static void guard(String setting, String what, String path, IoAction action) {
        try {
            action.run();
        } catch (IOException | FSError e) {
            throw new StorageException(setting + ": could not " + what + " " + path + ": " + reason(e), e);
        }
    }

    /** The innermost message of {@code e}: the file system's own words ("No space left on device"). */
    public static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
