package io.salun.data;

import java.io.Serializable;

/**
 * One labelled image: a stable record ID (for IDX input its 0-based index in the file), its
 * class label, its pixels scaled to [0, 1] (row-major, channels last) and whether it belongs to
 * the forget set {@code Df} of the current run.
 */
public record Example(long id, int label, float[] features, boolean forget) implements Serializable {

    /** The same record, marked as a member of the forget set (or not). */
    public Example withForget(boolean member) {
        return member == forget ? this : new Example(id, label, features, member);
    }
}
