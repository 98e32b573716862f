package io.salun.data;

import io.salun.config.InvalidInputException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;

/**
 * The declared shape of a table's images and the conversions from what a data lake stores — a PNG,
 * raw 8-bit pixels, or an array of numbers — to the model's input: {@code height × width × channels}
 * floats in [0, 1], channels first (the order DL4J's flat convolutional input reshapes from).
 * Messages name the column and the shapes, never a record's ID or pixel values.
 */
public record ImageShape(int height, int width, int channels, boolean channelsLast) implements Serializable {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    public ImageShape {
        if (height < 1 || width < 1 || channels < 1) {
            throw new IllegalArgumentException("image shape must be positive, found " + height + "x" + width + "x" + channels);
        }
    }

    /** Number of model inputs: {@code height · width · channels}. */
    public int length() {
        return height * width * channels;
    }

    @Override
    public String toString() {
        return height + "x" + width + "x" + channels;
    }

    /** An {@code image} cell: PNG (recognised by its signature) or exactly {@link #length()} raw bytes. */
    public float[] fromImage(byte[] bytes, String column) {
        if (isPng(bytes)) {
            return fromPng(bytes, column);
        }
        if (bytes.length != length()) {
            throw new InvalidInputException(column + ": a record's image has " + bytes.length + " bytes and is not a PNG;"
                    + " expected a PNG or " + length() + " raw bytes (" + this + ", data.image.*)");
        }
        float[] out = new float[length()];
        for (int i = 0; i < bytes.length; i++) {
            out[toChannelsFirst(i)] = (bytes[i] & 0xff) / 255f;
        }
        return out;
    }

    /** A {@code features} cell: exactly {@link #length()} finite numbers. */
    public float[] fromFeatures(float[] values, String column) {
        if (values.length != length()) {
            throw new InvalidInputException(column + ": a record has " + values.length + " features; expected "
                    + length() + " (" + this + ", data.image.*)");
        }
        float[] out = new float[length()];
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(column + ": a record has a NaN or infinite feature; expected finite values");
            }
            out[toChannelsFirst(i)] = values[i];
        }
        return out;
    }

    /** Position in channels-first order of position {@code i} in the declared layout. */
    private int toChannelsFirst(int i) {
        if (!channelsLast || channels == 1) {
            return i;
        }
        int c = i % channels;
        int pixel = i / channels;
        return c * height * width + pixel;
    }

    static boolean isPng(byte[] bytes) {
        if (bytes.length < PNG_SIGNATURE.length) {
            return false;
        }
        for (int i = 0; i < PNG_SIGNATURE.length; i++) {
            if (bytes[i] != PNG_SIGNATURE[i]) {
                return false;
            }
        }
        return true;
    }

    private float[] fromPng(byte[] bytes, String column) {
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            image = null;
        }
        if (image == null) {
            throw new InvalidInputException(column + ": a record's image starts like a PNG but cannot be decoded");
        }
        if (image.getColorModel() instanceof java.awt.image.IndexColorModel) {
            throw new InvalidInputException(column + ": a record's PNG uses a colour palette; expected grey, RGB or RGBA"
                    + " samples");
        }
        Raster raster = image.getRaster();
        int bands = raster.getNumBands();
        if (image.getHeight() != height || image.getWidth() != width || bands != channels) {
            throw new InvalidInputException(column + ": a record's PNG is " + image.getHeight() + "x" + image.getWidth()
                    + "x" + bands + "; expected " + this + " (data.image.height, width, channels)");
        }
        float[] out = new float[length()];
        int plane = height * width;
        for (int b = 0; b < bands; b++) {
            float max = (1 << raster.getSampleModel().getSampleSize(b)) - 1;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    out[b * plane + y * width + x] = raster.getSample(x, y, b) / max;
                }
            }
        }
        return out;
    }
}
