package io.salun.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.salun.config.InvalidInputException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format (Hugging Face's, what PyTorch users exchange weights in): an 8-byte
 * little-endian header length {@code n}, {@code n} bytes of JSON mapping each tensor's name to its
 * {@code dtype}, {@code shape} and {@code data_offsets} {@code [begin, end)} into the data that
 * follows (row-major, little-endian), and an optional {@code __metadata__} of strings.
 *
 * <p>A small reader and writer of our own rather than a library: the format is one page long, the
 * Java libraries for it on Maven Central are young and pull native or Kotlin dependencies, and
 * every check a user needs a clear message for (a truncated file, overlapping or out-of-range
 * offsets, a shape that does not match its bytes) is easier to make here. Writing is reproducible:
 * tensors in key order, contiguous, the header padded with spaces to a multiple of 8 bytes.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bytes per element of each dtype this reader accepts. */
    private static final Map<String, Integer> SIZES = Map.of("F32", 4, "F64", 8, "F16", 2, "BF16", 2, "I64", 8,
            "I32", 4, "I16", 2, "I8", 1, "U8", 1, "BOOL", 1);

    private Safetensors() {
    }

    /** One tensor: its dtype, shape and little-endian bytes. */
    public record Tensor(String dtype, long[] shape, byte[] data) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** The shape as text: {@code [64, 3, 3, 3]}. */
        public String shapeText() {
            return Arrays.toString(shape);
        }

        /** The values as floats (F32 exactly, F64 rounded, F16 and BF16 widened). */
        public float[] floats() {
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[(int) elements()];
            for (int i = 0; i < out.length; i++) {
                out[i] = switch (dtype) {
                    case "F32" -> b.getFloat();
                    case "F64" -> (float) b.getDouble();
                    case "F16" -> halfToFloat(b.getShort());
                    case "BF16" -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
                    default -> throw new IllegalStateException("not a floating-point tensor: " + dtype);
                };
            }
            return out;
        }

        /** IEEE 754 binary16 to binary32 (Java 17 has no Float.float16ToFloat). */
        static float halfToFloat(short h) {
            int bits = h & 0xFFFF;
            int sign = (bits & 0x8000) << 16;
            int exp = (bits >>> 10) & 0x1F;
            int mant = bits & 0x3FF;
            if (exp == 0x1F) {
                return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
            }
            if (exp == 0) {
                if (mant == 0) {
                    return Float.intBitsToFloat(sign);
                }
                return (sign != 0 ? -1 : 1) * mant * 0x1p-24f;
            }
            return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        }

        public static Tensor ofFloats(long[] shape, float[] values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putFloat(v);
            }
            return new Tensor("F32", shape.clone(), b.array());
        }

        public static Tensor ofLong(long value) {
            return new Tensor("I64", new long[0], ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
        }

        public boolean isFloating() {
            return dtype.equals("F32") || dtype.equals("F64") || dtype.equals("F16") || dtype.equals("BF16");
        }
    }

    /**
     * Reads every tensor of a safetensors file, named {@code source} in messages (with
     * {@code setting}), in the file's key order.
     *
     * @throws InvalidInputException naming the file and, where it applies, the tensor, when the
     *                               file is truncated, its header is not the format's JSON, a dtype
     *                               is unknown, or a tensor's offsets do not fit its shape or the data
     */
    public static Map<String, Tensor> read(byte[] file, String setting, String source) {
        String at = setting + ": " + source;
        if (file.length < 8) {
            throw new InvalidInputException(at + " is truncated: " + file.length + " bytes, fewer than the 8 of a"
                    + " safetensors header length");
        }
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n <= 0 || n > file.length - 8L) {
            throw new InvalidInputException(at + " is truncated or not a safetensors file: its header claims " + n
                    + " bytes of JSON, the file holds " + (file.length - 8) + " after the length");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new InvalidInputException(at + ": its header is not JSON: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new InvalidInputException(at + ": its header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLength = file.length - dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        TreeMap<Long, String> begins = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            if (key.equals("__metadata__")) {
                continue;
            }
            JsonNode t = e.getValue();
            String dtype = t.path("dtype").asText("");
            Integer size = SIZES.get(dtype);
            if (size == null) {
                throw new InvalidInputException(at + ": tensor " + key + " has dtype '" + dtype + "'; expected one of "
                        + new TreeMap<>(SIZES).keySet());
            }
            JsonNode shapeNode = t.path("shape");
            JsonNode offsets = t.path("data_offsets");
            if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw new InvalidInputException(at + ": tensor " + key + " lacks a shape or its two data_offsets");
            }
            long[] shape = new long[shapeNode.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw new InvalidInputException(at + ": tensor " + key + " has a negative dimension in " + shapeNode);
                }
                elements *= shape[i];
            }
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            if (begin < 0 || end < begin || end > dataLength) {
                throw new InvalidInputException(at + ": tensor " + key + " has data_offsets [" + begin + ", " + end
                        + ") outside the file's " + dataLength + " bytes of data (truncated?)");
            }
            if (end - begin != elements * size) {
                throw new InvalidInputException(at + ": tensor " + key + " of shape " + Arrays.toString(shape) + " and "
                        + dtype + " needs " + elements * size + " bytes, its data_offsets give " + (end - begin));
            }
            Map.Entry<Long, String> before = begins.floorEntry(begin);
            if (before != null && before.getKey() == begin && elements > 0) {
                throw new InvalidInputException(at + ": tensors " + before.getValue() + " and " + key + " overlap");
            }
            begins.put(begin, key);
            tensors.put(key, new Tensor(dtype, shape, Arrays.copyOfRange(file, (int) (dataStart + begin),
                    (int) (dataStart + end))));
        }
        return tensors;
    }

    /**
     * Writes {@code tensors} as a safetensors file, in key order, with {@code metadata} as its
     * {@code __metadata__} (may be empty); the same tensors give the same bytes.
     */
    public static void write(Map<String, Tensor> tensors, Map<String, String> metadata, OutputStream out) throws IOException {
        TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode node = header.putObject(e.getKey());
            node.put("dtype", t.dtype());
            var shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            var offsets = node.putArray("data_offsets");
            offsets.add(offset);
            offsets.add(offset + t.data().length);
            offset += t.data().length;
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = Arrays.copyOf(json, padded);
        Arrays.fill(head, json.length, padded, (byte) ' ');
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(head);
        for (Tensor t : sorted.values()) {
            out.write(t.data());
        }
    }

    /** The names of a file's tensors, for messages. */
    static String names(List<String> keys) {
        return keys.size() <= 8 ? keys.toString() : keys.subList(0, 8) + " and " + (keys.size() - 8) + " more";
    }
}
