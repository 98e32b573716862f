package io.salun.saliency;

import io.salun.config.InvalidInputException;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.NetworkSnapshot;
import io.salun.spark.ShardAggregate;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import io.salun.model.Net;

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
        return ShardAggregate.reduce(sc, network, forget, (net, partition, shards) -> {
            if (!shards.hasNext()) {
                return Optional.empty();
            }
            GradientSum sum = kernel.over(net.net(), shards.next());
            while (shards.hasNext()) {
                sum = sum.merge(kernel.over(net.net(), shards.next()));
            }
            return Optional.of(sum);
        }, GradientSum::merge, treeDepth);
    }

    /** The summed cross-entropy gradient of the forget set at {@code original}, in inference mode. */
    public static GradientSum gradientSum(JavaSparkContext sc, NetworkSnapshot original, JavaRDD<Shard> forget,
                                          int batchSize, int classes, int treeDepth) {
        return gradientSum(sc, inferenceForm(original), forget, (net, shard) -> GradientSum.over(net, shard, batchSize, classes),
                treeDepth);
    }

    /** The saliency mask of {@code original} for the forget set. */
    public static Bitset mask(JavaSparkContext sc, NetworkSnapshot original, JavaRDD<Shard> forget,
                              int batchSize, int classes, double ratio, int treeDepth) {
        return SaliencyMask.topK(gradientSum(sc, original, forget, batchSize, classes, treeDepth).result(), ratio);
    }

    /**
     * The network as inference mode sees it (SALUN-SPEC §1 step 1): dropout removed. DL4J's
     * gradient pass always normalises BatchNorm with batch statistics, so such models are refused
     * rather than given a subtly different mask.
     */
    static NetworkSnapshot inferenceForm(NetworkSnapshot snapshot) {
        for (NeuralNetConfiguration layerConf : snapshot.config().layers()) {
            Layer layer = layerConf.getLayer();
            if (layer instanceof BatchNormalization) {
                throw new InvalidInputException("model: layer '" + layer.getLayerName()
                        + "' is BatchNormalization; the saliency pass needs inference-mode gradients, which "
                        + "DL4J cannot compute for BatchNorm — use a model without BatchNorm");
            }
        }
        return new NetworkSnapshot(snapshot.config().editLayers(c -> c.getLayer().setIDropout(null)), snapshot.parameters(),
                new float[0], snapshot.iteration(), snapshot.epoch());
    }

}
