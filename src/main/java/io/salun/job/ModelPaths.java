package io.salun.job;

import io.salun.config.Setting;
import io.salun.config.Settings;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Where the original model lives when {@code model.path} is not set: a cache keyed by the training settings. */
final class ModelPaths {
    private ModelPaths() {
    }

    static String original(Settings settings) {
        return settings.get(JobSettings.MODEL_PATH).orElseGet(() ->
                "work/models/" + settings.get(JobSettings.MODEL_ARCH) + "-" + trainingKey(settings) + ".zip");
    }

    /**
     * Where the privacy audit caches its shadow models: they follow the training recipe, the
     * original's configuration (Retrain's initial weights), the forget set (its halves), the
     * partitions they are trained as, and the seed.
     */
    static String shadows(Settings settings, String originalConfigJson, String forgetSetKey, int partitions, long seed) {
        return "work/models/shadows-" + settings.get(JobSettings.MODEL_ARCH) + "-" + trainingKey(settings) + "-"
                + shortHash(originalConfigJson) + "-" + forgetSetKey + "-p" + partitions + "-s" + seed;
    }

    /**
     * Where a benchmark caches the Retrain of one seed: under {@code benchmark.retrain-dir}
     * (default work/models), keyed as the shadows are, since Retrain follows the same things.
     */
    static String retrain(Settings settings, String originalConfigJson, String forgetSetKey, int partitions, long seed) {
        return settings.get(JobSettings.BENCHMARK_RETRAIN_DIR).orElse("work/models") + "/retrain-"
                + settings.get(JobSettings.MODEL_ARCH) + "-" + trainingKey(settings) + "-" + shortHash(originalConfigJson)
                + "-" + forgetSetKey + "-p" + partitions + "-s" + seed + ".zip";
    }

    /** The diffusion model: {@code diffusion.model}, or a cache keyed by the diffusion training settings. */
    static String diffusion(Settings settings) {
        return settings.get(JobSettings.DIFFUSION_MODEL).orElseGet(() ->
                "work/models/ddpm-x0-" + key(settings, JobSettings.DIFFUSION_TRAINING_KEYS, java.util.List.of()) + ".zip");
    }

    /** First 12 hex digits of the SHA-256 of the settings that decide the trained model. */
    static String trainingKey(Settings settings) {
        return key(settings, JobSettings.TRAINING_KEYS, JobSettings.TRAINING_KEYS_IF_SET);
    }

    private static String key(Settings settings, java.util.List<Setting<?>> keys, java.util.List<Setting<?>> ifSet) {
        StringBuilder text = new StringBuilder();
        for (Setting<?> s : keys) {
            text.append(s.key()).append('=').append(settings.effective().get(s.key())).append('\n');
        }
        for (Setting<?> s : ifSet) {
            if (!java.util.Objects.equals(settings.get(s), s.defaultValue())) {
                text.append(s.key()).append('=').append(settings.effective().get(s.key())).append('\n');
            }
        }
        return shortHash(text.toString());
    }

    /** The cache key of a forget set: the hash of its record IDs in ascending order, one per line. */
    static String forgetSetKey(long[] ascendingIds) {
        StringBuilder ids = new StringBuilder();
        for (long id : ascendingIds) {
            ids.append(id).append('\n');
        }
        return shortHash(ids.toString());
    }

    /** First 12 hex digits of the SHA-256 of {@code text}. */
    static String shortHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
