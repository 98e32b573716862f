package io.salun.mask;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The exact-masking property tests check after training. */
public final class MaskAssertions {
    private MaskAssertions() {
    }

    /**
     * Asserts every parameter whose mask bit is 0 kept its exact bits, and returns how many
     * parameters whose bit is 1 changed value.
     */
    public static int assertMaskedUnchanged(Bitset mask, float[] before, float[] after) {
        assertEquals(before.length, after.length, "parameter count");
        assertEquals(mask.size(), before.length, "mask size");
        int moved = 0;
        for (int i = 0; i < before.length; i++) {
            if (!mask.get(i)) {
                assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(after[i]),
                        "masked-out parameter " + i + " changed");
            } else if (before[i] != after[i]) {
                moved++;
            }
        }
        return moved;
    }
}
