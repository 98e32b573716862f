package io.salun.data;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * Decoded images and labels of an IDX pair (or a range of it): {@code n} images of
 * {@code rows x cols} unsigned 8-bit pixels and one label 0..255 per image.
 *
 * <p>The IDX format (MNIST, Fashion-MNIST) stores images as a big-endian int32 magic number
 * {@code 0x00000803}, int32 dimensions {@code n, rows, cols}, then {@code n*rows*cols} raw bytes
 * in row-major order, and labels as magic {@code 0x00000801}, int32 {@code n}, then {@code n}
 * raw bytes. This record holds exactly those bytes: {@code pixels} is the concatenation of the
 * images, image {@code i} at offset {@code i*rows*cols}; {@code labels[i]} is the unsigned
 * label byte of image {@code i}. Record {@code i} here is record {@code from + i} of the file
 * when it was read as a range {@code [from, to)} by {@link IdxReader}.
 *
 * <p>The arrays are shared, not copied (a full training file is ~47 MB of pixels): callers must
 * not modify them. {@link #equals} and {@link #hashCode} compare the array contents.
 */
public record LabeledImages(int rows, int cols, int[] labels, byte[] pixels) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Checks the shape: positive dimensions, labels 0..255, {@code size()*rows*cols} pixels. */
    public LabeledImages {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(
                    "Image dimensions must be positive; found rows=" + rows + ", cols=" + cols);
        }
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(pixels, "pixels");
        long expectedPixels = (long) labels.length * rows * cols;
        if (pixels.length != expectedPixels) {
            throw new IllegalArgumentException("Expected " + labels.length + " images x " + rows
                    + " x " + cols + " = " + expectedPixels + " pixels; found " + pixels.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] > 255) {
                throw new IllegalArgumentException(
                        "Expected labels in 0..255; found label " + labels[i] + " at index " + i);
            }
        }
    }

    /** Number of images, {@code labels.length}. */
    public int size() {
        return labels.length;
    }

    /** Pixels per image, {@code rows*cols}. */
    public int featureLength() {
        return rows * cols;
    }

    /**
     * Writes image {@code i} as {@code featureLength()} floats {@code pixel/255f} in [0, 1],
     * row-major, into {@code dest[destOffset ..]}.
     */
    public void features(int i, float[] dest, int destOffset) {
        Objects.checkIndex(i, labels.length);
        int length = featureLength();
        Objects.checkFromIndexSize(destOffset, length, dest.length);
        int base = i * length;
        for (int k = 0; k < length; k++) {
            dest[destOffset + k] = (pixels[base + k] & 0xff) / 255f;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabeledImages other
                && rows == other.rows
                && cols == other.cols
                && Arrays.equals(labels, other.labels)
                && Arrays.equals(pixels, other.pixels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(rows, cols, Arrays.hashCode(labels), Arrays.hashCode(pixels));
    }

    @Override
    public String toString() {
        return "LabeledImages[" + size() + " images of " + rows + "x" + cols + "]";
    }
}
