package io.salun.saliency;

import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.model.ParameterRoles;
import io.salun.spark.ShardAggregate;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;


import java.util.Optional;

/**
 * Spark wiring of the saliency pass (SALUN-SPEC §1): broadcast θo → each partition of the forget
 * set sums its per-example gradients (a {@link Kernel}: {@link GradientSum#over} for
 * classification, the guided diffusion loss for generation) → {@code treeReduce} → the driver
 * keeps the top {@code ⌊N·ratio⌋} entries of {@code |g|} as the mask ({@link SaliencyMask#topK}).
 */
public final class SaliencyStage {
    private SaliencyStage() {
    }

    /** The summed loss gradient of one shard at a network built for its task. */
    @FunctionalInterface
    public interface Kernel extends java.io.Serializable {
        GradientSum over(Net net, Shard shard);
    }

    /** The summed gradient of {@code kernel} at {@code network}, over every partition of {@code forget}. */
    public static GradientSum gradientSum(JavaSparkContext sc, NetworkSnapshot network, JavaRDD<Shard> forget,
                                          Kernel kernel, int treeDepth) {
        return ShardAggregate.reduceOnExecutors(sc, network, forget, (net, partition, shards) -> {
            if (!shards.hasNext()) {
                return Optional.empty();
            }
            GradientSum sum = kernel.over(net.net(), shards.next());
            while (shards.hasNext()) {
                sum = sum.merge(kernel.over(net.net(), shards.next()));
            }
            return Optional.of(sum);
        }, GradientSum::merge, sum -> sum, treeDepth);
    }

    /** The summed cross-entropy gradient of the forget set at {@code original}, in inference mode. */
    public static GradientSum gradientSum(JavaSparkContext sc, NetworkSnapshot original, JavaRDD<Shard> forget,
                                          int batchSize, int classes, int treeDepth) {
        return gradientSum(sc, original.inferenceForm(), forget, (net, shard) -> GradientSum.over(net, shard, batchSize, classes),
                treeDepth);
    }

    /** The saliency mask of {@code original} for the forget set. */
    public static Bitset mask(JavaSparkContext sc, NetworkSnapshot original, JavaRDD<Shard> forget,
                              int batchSize, int classes, double ratio, int treeDepth) {
        return SaliencyMask.topK(gradientSum(sc, original, forget, batchSize, classes, treeDepth).result(), ratio,
                ParameterRoles.untrainable(original));
    }




}
