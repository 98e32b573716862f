package io.salun.data;

import io.salun.config.InvalidInputException;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Conversions of stored images to the model's channels-first [0, 1] input, against hand-built pixels. */
class ImageShapeTest {
    private static float s(int v) {
        return v / 255f;
    }

    @Test
    void rawInterleavedPixelsBecomeChannelPlanes() {
        // one row of two RGB pixels: r0 g0 b0 r1 g1 b1 -> r0 r1 g0 g1 b0 b1
        byte[] raw = {10, 20, 30, 40, 50, (byte) 255};
        float[] hwc = new ImageShape(1, 2, 3, true).fromImage(raw, "image");
        assertArrayEquals(new float[] {s(10), s(40), s(20), s(50), s(30), 1f}, hwc);
        // declared channels first: kept in order
        float[] chw = new ImageShape(1, 2, 3, false).fromImage(raw, "image");
        assertArrayEquals(new float[] {s(10), s(20), s(30), s(40), s(50), 1f}, chw);
        float[] features = new ImageShape(1, 2, 3, true).fromFeatures(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, "f");
        assertArrayEquals(new float[] {0.1f, 0.4f, 0.2f, 0.5f, 0.3f, 0.6f}, features);
    }

    @Test
    void pngDecodesToTheSamePlanesAsItsPixels() throws IOException {
        BufferedImage rgb = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        int[][] pixels = {{0x000000, 0xff0000, 0x00ff00}, {0x0000ff, 0x102030, 0xffffff}};
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 3; x++) {
                rgb.setRGB(x, y, pixels[y][x]);
            }
        }
        byte[] png = png(rgb);
        assertTrue(ImageShape.isPng(png));
        float[] out = new ImageShape(2, 3, 3, true).fromImage(png, "image");
        float[] expected = new float[18];
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 3; x++) {
                int p = pixels[y][x];
                expected[y * 3 + x] = s((p >> 16) & 0xff);
                expected[6 + y * 3 + x] = s((p >> 8) & 0xff);
                expected[12 + y * 3 + x] = s(p & 0xff);
            }
        }
        assertArrayEquals(expected, out);

        BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 7);
        grey.getRaster().setSample(1, 0, 0, 200);
        assertArrayEquals(new float[] {s(7), s(200)}, new ImageShape(1, 2, 1, true).fromImage(png(grey), "image"));
    }

    @Test
    void shapesThatDisagreeAreRefusedByName() throws IOException {
        ImageShape shape = new ImageShape(28, 28, 1, true);
        InvalidInputException raw = assertThrows(InvalidInputException.class, () -> shape.fromImage(new byte[700], "data.train column image"));
        assertTrue(raw.getMessage().contains("700 bytes") && raw.getMessage().contains("784"), raw.getMessage());
        BufferedImage small = new BufferedImage(14, 14, BufferedImage.TYPE_BYTE_GRAY);
        InvalidInputException png = assertThrows(InvalidInputException.class, () -> shape.fromImage(png(small), "image"));
        assertTrue(png.getMessage().contains("14x14x1") && png.getMessage().contains("28x28x1"), png.getMessage());
        byte[] truncated = java.util.Arrays.copyOf(png(small), 20);
        assertThrows(InvalidInputException.class, () -> shape.fromImage(truncated, "image"));
        IndexColorModel palette = new IndexColorModel(1, 2, new byte[] {0, -1}, new byte[] {0, -1}, new byte[] {0, -1});
        BufferedImage indexed = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_BINARY, palette);
        assertThrows(InvalidInputException.class, () -> shape.fromImage(png(indexed), "image"));
        float[] nan = new float[784];
        nan[5] = Float.NaN;
        InvalidInputException finite = assertThrows(InvalidInputException.class, () -> shape.fromFeatures(nan, "features"));
        assertFalse(finite.getMessage().contains("NaN,"), "a feature value leaked: " + finite.getMessage());
        assertThrows(InvalidInputException.class, () -> shape.fromFeatures(new float[783], "features"));
    }

    private static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, "png", out));
        return out.toByteArray();
    }
}
