package io.salun.mask;

import java.util.Optional;

/**
 * The audit of a masked update (SALUN-SPEC §2, exact masking): comparing the parameters before and
 * after, bit for bit, how many frozen ones moved (must be none) and how many trainable ones moved
 * (must be some, or nothing was unlearned). Without a mask every parameter is trainable.
 */
public final class FrozenParameters {
    private FrozenParameters() {
    }

    /** Parameters the mask froze ({@code m_i = 0}) whose bits differ between {@code before} and {@code after}. */
    public static long movedOutside(Bitset mask, float[] before, float[] after) {
        check(mask.size(), before, after);
        long changed = 0;
        for (int i = 0; i < before.length; i++) {
            if (!mask.get(i) && Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i])) {
                changed++;
            }
        }
        return changed;
    }

    /** Trainable parameters (all of them without a mask) whose bits differ between {@code before} and {@code after}. */
    public static long movedInside(Optional<Bitset> mask, float[] before, float[] after) {
        check(mask.map(Bitset::size).orElse(before.length), before, after);
        long changed = 0;
        for (int i = 0; i < before.length; i++) {
            if ((mask.isEmpty() || mask.get().get(i))
                    && Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i])) {
                changed++;
            }
        }
        return changed;
    }

    private static void check(int bits, float[] before, float[] after) {
        if (before.length != after.length || before.length != bits) {
            throw new IllegalArgumentException("cannot compare " + before.length + " with " + after.length
                    + " parameters under a mask of " + bits + " bits");
        }
    }
}
