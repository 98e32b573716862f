package io.salun.mask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BitsetTest {

    @Test
    void byteLayoutIsLittleEndianWithinEachByte() {
        Bitset bits = new Bitset(10);
        bits.set(0);
        bits.set(3);
        bits.set(9);
        // bits 0 and 3 -> 0b0000_1001; bit 9 is bit 1 of byte 1 -> 0b0000_0010
        assertArrayEquals(new byte[] {0x09, 0x02}, bits.toBytes());
        assertEquals(3, bits.cardinality());
        assertTrue(bits.get(9));
        assertFalse(bits.get(8));
    }

    @Test
    void byteCountIsCeilingOfSizeOverEight() {
        assertEquals(0, new Bitset(0).toBytes().length);
        assertEquals(1, new Bitset(1).toBytes().length);
        assertEquals(1, new Bitset(8).toBytes().length);
        assertEquals(2, new Bitset(9).toBytes().length);
        assertEquals(16, new Bitset(128).toBytes().length);
    }

    @Test
    void roundTripsThroughBytesForSizesAroundWordBoundaries() {
        Random random = new Random(7);
        for (int size : new int[] {0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000}) {
            Bitset bits = randomBitset(size, random);
            Bitset back = Bitset.fromBytes(size, bits.toBytes());
            assertEquals(bits, back, "size " + size);
            assertEquals(bits.hashCode(), back.hashCode());
            assertEquals(bits.cardinality(), back.cardinality());
        }
    }

    @Test
    void fromBytesRejectsWrongLengthAndPaddingBits() {
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                () -> Bitset.fromBytes(10, new byte[3]));
        assertTrue(length.getMessage().contains("2") && length.getMessage().contains("3"), length.getMessage());
        // N = 10 uses bits 0..1 of the last byte; bit 2 of it (index 10) is padding
        assertThrows(IllegalArgumentException.class, () -> Bitset.fromBytes(10, new byte[] {0, 0x04}));
        assertEquals(2, Bitset.fromBytes(10, new byte[] {0, 0x03}).cardinality());
    }

    @Test
    void floatAndBooleanViewsMatchGet() {
        Bitset bits = randomBitset(200, new Random(3));
        float[] floats = bits.toFloatMask();
        boolean[] flags = bits.toBooleans();
        assertEquals(200, floats.length);
        assertEquals(200, flags.length);
        for (int i = 0; i < 200; i++) {
            assertEquals(bits.get(i) ? 1f : 0f, floats[i]);
            assertEquals(bits.get(i), flags[i]);
        }
    }

    @Test
    void rangeCardinalityMatchesCounting() {
        Bitset bits = randomBitset(300, new Random(11));
        for (int from = 0; from <= 300; from += 13) {
            for (int to = from; to <= 300; to += 7) {
                int expected = 0;
                for (int i = from; i < to; i++) {
                    expected += bits.get(i) ? 1 : 0;
                }
                assertEquals(expected, bits.cardinality(from, to), "[" + from + ", " + to + ")");
            }
        }
        assertEquals(bits.cardinality(), bits.cardinality(0, 300));
    }

    @Test
    void equalityIsByContentAndSize() {
        Bitset a = new Bitset(70);
        Bitset b = new Bitset(70);
        a.set(69);
        assertNotEquals(a, b);
        b.set(69);
        assertEquals(a, b);
        assertNotEquals(new Bitset(70), new Bitset(71));
    }

    @Test
    void indexOutsideSizeIsRejected() {
        Bitset bits = new Bitset(10);
        assertThrows(IndexOutOfBoundsException.class, () -> bits.set(10));
        assertThrows(IndexOutOfBoundsException.class, () -> bits.get(-1));
        assertThrows(IllegalArgumentException.class, () -> new Bitset(-1));
    }

    @Test
    void javaSerializationRoundTrips() throws Exception {
        Bitset bits = randomBitset(1001, new Random(5));
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
            out.writeObject(bits);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(buffer.toByteArray()))) {
            assertEquals(bits, in.readObject());
        }
    }

    static Bitset randomBitset(int size, Random random) {
        Bitset bits = new Bitset(size);
        for (int i = 0; i < size; i++) {
            if (random.nextBoolean()) {
                bits.set(i);
            }
        }
        return bits;
    }
}
