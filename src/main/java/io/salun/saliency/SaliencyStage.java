package io.salun.saliency;

import io.salun.config.InvalidInputException;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.NetworkSnapshot;
import io.salun.spark.Devices;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;

/**
 * Spark wiring of the saliency pass (SALUN-SPEC §1): broadcast θo → each partition of the forget
 * set sums its per-example gradients ({@link GradientSum}) → {@code treeReduce} → the driver keeps
 * the top {@code ⌊N·ratio⌋} entries of {@code |g|} as the mask ({@link SaliencyMask#topK}).
 */
public final class SaliencyStage {
    private SaliencyStage() {
    }

    /** The summed forget-set gradient at {@code original}, over all partitions of {@code forget}. */
    public static GradientSum gradientSum(JavaSparkContext sc, NetworkSnapshot original, JavaRDD<Shard> forget,
                                          int batchSize, int classes, int treeDepth) {
        Broadcast<NetworkSnapshot> network = sc.broadcast(inferenceForm(original));
        try {
            return forget.map(shard -> {
                Devices.bindTask();
                return GradientSum.over(network.value().build(), shard, batchSize, classes);
            })
                    .treeReduce(GradientSum::merge, treeDepth);
        } finally {
            network.destroy();
        }
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
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(snapshot.configurationJson());
        for (NeuralNetConfiguration layerConf : conf.getConfs()) {
            Layer layer = layerConf.getLayer();
            if (layer instanceof BatchNormalization) {
                throw new InvalidInputException("model: layer '" + layer.getLayerName()
                        + "' is BatchNormalization; the saliency pass needs inference-mode gradients, which "
                        + "DL4J cannot compute for BatchNorm — use a model without BatchNorm");
            }
            layer.setIDropout(null);
        }
        return new NetworkSnapshot(conf.toJson(), snapshot.parameters(), new float[0],
                snapshot.iteration(), snapshot.epoch());
    }
}
