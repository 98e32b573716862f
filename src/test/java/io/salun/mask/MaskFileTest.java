package io.salun.mask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.salun.config.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskFileTest {

    private static Bitset tenBits() {
        Bitset bits = new Bitset(10);
        bits.set(0);
        bits.set(3);
        bits.set(9);
        return bits;
    }

    @Test
    void encodingIsCheckedByteForByte() {
        byte[] expected = {
            'S', 'A', 'L', 'U', 'N', 'M', 'S', 'K',
            10, 0, 0, 0, 0, 0, 0, 0, // N = 10, int64 little-endian
            0x09, 0x02               // bits 0,3 | bit 9
        };
        assertArrayEquals(expected, MaskFile.encode(tenBits()));
        assertEquals("SALUNMSK", new String(Arrays.copyOf(expected, 8), StandardCharsets.US_ASCII));
    }

    @Test
    void sizeIsLittleEndianInt64() {
        byte[] encoded = MaskFile.encode(new Bitset(431_080));
        // 431080 = 0x00_06_93_E8
        assertArrayEquals(new byte[] {(byte) 0xE8, (byte) 0x93, 0x06, 0, 0, 0, 0, 0},
                Arrays.copyOfRange(encoded, 8, 16));
        assertEquals(16 + 53_885, encoded.length);
    }

    @Test
    void encodeDecodeRoundTrips() {
        Random random = new Random(9);
        for (int size : new int[] {0, 1, 8, 10, 64, 65, 4321}) {
            Bitset bits = BitsetTest.randomBitset(size, random);
            assertEquals(bits, MaskFile.decode(MaskFile.encode(bits), "memory"));
        }
    }

    @Test
    void writeThenReadRoundTripsAndNeverOverwrites(@TempDir Path dir) {
        Configuration conf = new Configuration(false);
        Bitset bits = BitsetTest.randomBitset(10_001, new Random(4));
        String uri = dir.resolve("mask.bin").toUri().toString();
        MaskFile.write(bits, uri, conf);
        assertEquals(bits, MaskFile.read(uri, conf));

        InvalidInputException again = assertThrows(InvalidInputException.class,
                () -> MaskFile.write(new Bitset(3), uri, conf));
        assertTrue(again.getMessage().contains(uri), again.getMessage());
        assertEquals(bits, MaskFile.read(uri, conf), "the first mask is kept");
    }

    @Test
    void fileOnDiskHasTheDocumentedBytes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ten.mask");
        MaskFile.write(tenBits(), file.toUri().toString(), new Configuration(false));
        assertArrayEquals(MaskFile.encode(tenBits()), Files.readAllBytes(file));
    }

    @Test
    void readRejectsMissingFileNamingPath(@TempDir Path dir) {
        String uri = dir.resolve("absent.mask").toUri().toString();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> MaskFile.read(uri, new Configuration(false)));
        assertTrue(e.getMessage().contains(uri), e.getMessage());
    }

    @Test
    void readRejectsTruncatedFile(@TempDir Path dir) throws Exception {
        byte[] full = MaskFile.encode(tenBits());
        Path file = dir.resolve("short.mask");
        Files.write(file, Arrays.copyOf(full, full.length - 1));
        String uri = file.toUri().toString();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> MaskFile.read(uri, new Configuration(false)));
        assertMentions(e, uri, "N=10", "18", "17", "truncated");
    }

    @Test
    void decodeRejectsTruncatedHeader() {
        byte[] head = Arrays.copyOf(MaskFile.encode(tenBits()), 12);
        assertMentions(assertThrows(InvalidInputException.class, () -> MaskFile.decode(head, "h.mask")),
                "h.mask", "16-byte header", "12", "truncated");
    }

    @Test
    void decodeRejectsTrailingBytes() {
        byte[] longer = Arrays.copyOf(MaskFile.encode(tenBits()), 19);
        assertMentions(assertThrows(InvalidInputException.class, () -> MaskFile.decode(longer, "t.mask")),
                "t.mask", "18", "19", "trailing");
    }

    @Test
    void decodeRejectsWrongMagic() {
        byte[] bytes = MaskFile.encode(tenBits());
        bytes[7] = 'X';
        assertMentions(assertThrows(InvalidInputException.class, () -> MaskFile.decode(bytes, "m.mask")),
                "m.mask", "SALUNMSK", "SALUNMSX");
    }

    @Test
    void decodeRejectsPaddingBitsSet() {
        byte[] bytes = MaskFile.encode(tenBits());
        bytes[17] |= 0x04; // bit 10 does not exist for N = 10
        assertMentions(assertThrows(InvalidInputException.class, () -> MaskFile.decode(bytes, "p.mask")),
                "p.mask", "padding", "0x06");
    }

    @Test
    void decodeRejectsNegativeOrHugeSize() {
        byte[] bytes = MaskFile.encode(tenBits());
        bytes[15] = (byte) 0x80; // sign bit of the int64
        assertMentions(assertThrows(InvalidInputException.class, () -> MaskFile.decode(bytes, "n.mask")),
                "n.mask", "expected N in [0, 2147483647]");
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }
}
