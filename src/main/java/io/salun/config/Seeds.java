package io.salun.config;

import java.nio.charset.StandardCharsets;

/**
 * Derives every random stream of a run from the one master seed, so that a stage, an epoch or a
 * Spark partition always draws the same numbers, however often Spark retries its task and
 * whatever ran before it. Mixing is SplitMix64's finaliser (Steele, Lea, Flood 2014).
 */
public final class Seeds {
    private Seeds() {
    }

    /** SplitMix64 finaliser: a bijection on 64-bit values with good avalanche. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A seed for {@code stage} and the given coordinates (epoch, round, partition, record ID …). */
    public static long derive(long master, String stage, long... coordinates) {
        long h = mix(master + 0x9e3779b97f4a7c15L);
        for (byte b : stage.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ (b & 0xff));
        }
        for (long c : coordinates) {
            h = mix(h + 0x9e3779b97f4a7c15L ^ c);
        }
        return h;
    }

    /** A uniform integer in [0, bound) from a derived seed (bound > 0), without modulo bias worth noting at bound ≪ 2^32. */
    public static int uniform(long seed, int bound) {
        return (int) (((mix(seed) >>> 33) * bound) >>> 31);
    }
}
