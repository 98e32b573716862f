package io.salun.unlearn;

/**
 * An unlearning run that would publish the original model under a new name: no parameter it was
 * allowed to train moved, or the forget set's loss did not change. Refused rather than reported
 * as a deletion done; the message says which setting to raise.
 */
public final class NoEffectException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NoEffectException(String message) {
        super(message);
    }
}
