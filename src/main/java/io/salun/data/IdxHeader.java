package io.salun.data;

import java.io.Serializable;

/**
 * The shape of an IDX images/labels pair as declared by the two headers, read without the data.
 *
 * <p>An IDX file starts with a big-endian int32 magic number ({@code 0x00000803} for unsigned
 * 8-bit images with 3 dimensions, {@code 0x00000801} for unsigned 8-bit labels with 1
 * dimension), then one big-endian int32 per dimension, then the raw bytes. For a pair,
 * {@code count} is the record count both headers declare, {@code rows} and {@code cols} the
 * image dimensions. {@link IdxReader#header} checks that the magic numbers are right, the
 * counts agree and the dimensions are positive; it does not check that the data is all there.
 */
public record IdxHeader(int count, int rows, int cols) implements Serializable {
    private static final long serialVersionUID = 1L;
}
