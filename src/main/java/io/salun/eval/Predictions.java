package io.salun.eval;

import io.salun.data.Shard;
import io.salun.train.Minibatch;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Inference-mode predictions over a shard, tallied per class separately for forget-set and
 * retain-set rows: {@code [0]} forget rows, {@code [1]} the others.
 */
public final class Predictions {
    private Predictions() {
    }

    public static ClassCounts[] count(MultiLayerNetwork net, Shard shard, int batchSize, int classes) {
        ClassCounts forget = ClassCounts.empty(classes);
        ClassCounts rest = ClassCounts.empty(classes);
        for (int from = 0; from < shard.size(); from += batchSize) {
            int to = Math.min(shard.size(), from + batchSize);
            Minibatch batch = Minibatch.inOrder(shard, from, to, classes);
            INDArray predicted = net.output(batch.features(), false).argMax(1);
            for (int i = 0; i < batch.size(); i++) {
                int row = from + i;
                (shard.forget(row) ? forget : rest).add(shard.label(row), predicted.getInt(i));
            }
        }
        return new ClassCounts[] {forget, rest};
    }
}
