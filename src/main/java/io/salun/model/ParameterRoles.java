package io.salun.model;

import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;

import java.util.Set;

/**
 * Which entries of a network's flat parameter vector are trainable and which are BatchNorm's
 * running statistics (SALUN-SPEC §2a). DL4J keeps the statistics ({@code mean} and {@code var},
 * or {@code log10stdev}) inside {@code params()} and moves them with a pseudo-gradient through a
 * no-op updater; the reference keeps them as buffers. So they are never ranked by the saliency
 * pass, never counted in the mask's ratio and never frozen (their mask bit is 1), and keep
 * updating in every training step as PyTorch buffers do.
 */
public final class ParameterRoles {
    private static final Set<String> STATISTICS = Set.of(BatchNormalizationParamInitializer.GLOBAL_MEAN,
            BatchNormalizationParamInitializer.GLOBAL_VAR, BatchNormalizationParamInitializer.GLOBAL_LOG_STD);

    private ParameterRoles() {
    }

    /** Whether parameter {@code block} holds running statistics. */
    public static boolean isStatistics(Net.Block block) {
        return block.conf() instanceof BatchNormalization && STATISTICS.contains(block.param());
    }

    /** Whether {@code block} belongs to a frozen layer (an imported input normalisation): it never moves. */
    public static boolean isFixed(Net.Block block) {
        return block.conf() instanceof org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop
                || block.conf() instanceof org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
    }

    /** {@code trainable}, {@code statistics} or {@code fixed}. */
    public static String role(Net.Block block) {
        return isStatistics(block) ? "statistics" : isFixed(block) ? "fixed" : "trainable";
    }

    /**
     * For each flat position of {@code net}'s parameters, whether it is not trainable: running
     * statistics, or a frozen layer's. Neither is ranked by the saliency pass or frozen by the mask.
     */
    public static boolean[] untrainable(Net net) {
        boolean[] stats = new boolean[(int) net.numParams()];
        long offset = 0;
        for (Net.Block b : net.blocks()) {
            if (isStatistics(b) || isFixed(b)) {
                java.util.Arrays.fill(stats, (int) offset, (int) (offset + b.length()), true);
            }
            offset += b.length();
        }
        if (offset != net.numParams()) {
            throw new IllegalStateException("parameter blocks cover " + offset + " of " + net.numParams() + " parameters");
        }
        return stats;
    }

    /** As {@link #untrainable(Net)}, of the network {@code snapshot} describes. */
    public static boolean[] untrainable(NetworkSnapshot snapshot) {
        return untrainable(snapshot.net());
    }
}
