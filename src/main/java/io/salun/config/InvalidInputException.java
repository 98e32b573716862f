package io.salun.config;

/**
 * Bad input found at the job's boundary: a setting, a path or a file's content that cannot be
 * used. The message names the setting or path, what was expected and what was found; the job
 * turns it into a non-zero exit without writing any output.
 */
public class InvalidInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
