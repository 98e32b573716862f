package io.salun.diffusion;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A PNG grid of generated images: one row per class, {@code columns} images per row, grey scale. */
public final class SampleGrid {
    private SampleGrid() {
    }

    /** PNG bytes of the grid; each image is {@code side × side} pixel values in [0, 1], drawn {@code scale}× larger. */
    public static byte[] png(float[][][] imagesByClass, int columns, int side, int scale) {
        int rows = imagesByClass.length;
        int gap = 2;
        int cell = side * scale + gap;
        BufferedImage grid = new BufferedImage(columns * cell + gap, rows * cell + gap, BufferedImage.TYPE_BYTE_GRAY);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < Math.min(columns, imagesByClass[r].length); c++) {
                float[] image = imagesByClass[r][c];
                for (int y = 0; y < side * scale; y++) {
                    for (int x = 0; x < side * scale; x++) {
                        float v = image[(y / scale) * side + x / scale];
                        int g = Math.round(255 * Math.max(0, Math.min(1, v)));
                        grid.getRaster().setSample(gap + c * cell + x, gap + r * cell + y, 0, g);
                    }
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(grid, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
