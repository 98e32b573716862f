package io.salun.mask;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A fixed-size set of {@code N} bits, the in-memory form of a weight saliency mask
 * {@code m ∈ {0,1}^N} (SALUN-SPEC §1 step 5).
 *
 * <p>Built by {@link #set(int)} and treated as immutable once published (broadcast, written
 * to a {@link MaskFile}, or handed to an update rule). The external byte form is
 * little-endian within each byte: bit {@code i} is {@code (bytes[i >> 3] >> (i & 7)) & 1},
 * {@code ceil(N/8)} bytes, unused high bits of the last byte zero. Java serialization stores
 * the packed words, so a broadcast mask costs about {@code N/8} bytes.
 */
public final class Bitset implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int size;
    /** Bit {@code i} lives in {@code words[i >> 6]} at position {@code i & 63}. */
    private final long[] words;

    /** A bitset of {@code size} bits, all zero. */
    public Bitset(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("bitset size must be >= 0, found " + size);
        }
        this.size = size;
        this.words = new long[(int) (((long) size + 63) >>> 6)];
    }

    /** Number of bits {@code N}. */
    public int size() {
        return size;
    }

    /** Whether bit {@code i} is set. */
    public boolean get(int i) {
        checkIndex(i);
        return (words[i >>> 6] & (1L << i)) != 0;
    }

    /** Sets bit {@code i}; for building only, before the bitset is published. */
    public void set(int i) {
        checkIndex(i);
        words[i >>> 6] |= 1L << i;
    }

    /** Number of set bits. */
    public int cardinality() {
        int count = 0;
        for (long w : words) {
            count += Long.bitCount(w);
        }
        return count;
    }

    /** Number of set bits with index in {@code [from, to)}; bounds already checked by the caller. */
    int cardinality(int from, int to) {
        if (from >= to) {
            return 0;
        }
        int first = from >>> 6;
        int last = (to - 1) >>> 6;
        long firstMask = -1L << from;             // shifts use the low 6 bits only
        long lastMask = -1L >>> (63 - ((to - 1) & 63));
        if (first == last) {
            return Long.bitCount(words[first] & firstMask & lastMask);
        }
        int count = Long.bitCount(words[first] & firstMask);
        for (int w = first + 1; w < last; w++) {
            count += Long.bitCount(words[w]);
        }
        return count + Long.bitCount(words[last] & lastMask);
    }

    /** The packed form: {@code ceil(N/8)} bytes, bit {@code i} at {@code (byte[i>>3] >> (i&7)) & 1}. */
    public byte[] toBytes() {
        byte[] bytes = new byte[byteCount(size)];
        for (int j = 0; j < bytes.length; j++) {
            bytes[j] = (byte) (words[j >>> 3] >>> ((j & 7) << 3));
        }
        return bytes;
    }

    /**
     * Inverse of {@link #toBytes()}.
     *
     * @throws IllegalArgumentException if {@code bytes.length != ceil(size/8)} or a padding bit
     *     (index {@code >= size} in the last byte) is set
     */
    public static Bitset fromBytes(int size, byte[] bytes) {
        Bitset bitset = new Bitset(size);
        int expected = byteCount(size);
        if (bytes.length != expected) {
            throw new IllegalArgumentException("a bitset of " + size + " bits needs " + expected
                    + " bytes, found " + bytes.length);
        }
        int usedInLast = size & 7;
        if (usedInLast != 0 && (bytes[expected - 1] & 0xFF) >>> usedInLast != 0) {
            throw new IllegalArgumentException("padding bits " + size + ".." + (expected * 8 - 1)
                    + " must be 0, found last byte 0x"
                    + String.format("%02x", bytes[expected - 1] & 0xFF));
        }
        for (int j = 0; j < expected; j++) {
            bitset.words[j >>> 3] |= (bytes[j] & 0xFFL) << ((j & 7) << 3);
        }
        return bitset;
    }

    /** {@code 1f} where set, {@code 0f} elsewhere; length {@code N}. */
    public float[] toFloatMask() {
        float[] mask = new float[size];
        for (int i = nextSet(0); i >= 0; i = nextSet(i + 1)) {
            mask[i] = 1f;
        }
        return mask;
    }

    /** {@code true} where set; length {@code N}. */
    public boolean[] toBooleans() {
        boolean[] flags = new boolean[size];
        for (int i = nextSet(0); i >= 0; i = nextSet(i + 1)) {
            flags[i] = true;
        }
        return flags;
    }

    /** Index of the first set bit at or after {@code from}, or -1. */
    private int nextSet(int from) {
        if (from >= size) {
            return -1;
        }
        int w = from >>> 6;
        long word = words[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                return (w << 6) + Long.numberOfTrailingZeros(word);
            }
            if (++w == words.length) {
                return -1;
            }
            word = words[w];
        }
    }

    /** Rejects a serialized form whose words do not fit {@code size}, so equals stays by content. */
    private void readObject(java.io.ObjectInputStream in)
            throws java.io.IOException, ClassNotFoundException {
        in.defaultReadObject();
        long expectedWords = ((long) size + 63) >>> 6;
        if (size < 0 || words == null || words.length != expectedWords
                || (size & 63) != 0 && words[words.length - 1] >>> (size & 63) != 0) {
            throw new java.io.InvalidObjectException("corrupt Bitset of size " + size);
        }
    }

    static int byteCount(int size) {
        return (int) (((long) size + 7) >>> 3);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("bit " + i + " outside [0, " + size + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bitset other && size == other.size && Arrays.equals(words, other.words);
    }

    @Override
    public int hashCode() {
        return 31 * Integer.hashCode(size) + Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        return "Bitset[size=" + size + ", cardinality=" + cardinality() + "]";
    }
}
