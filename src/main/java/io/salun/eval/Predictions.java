package io.salun.eval;

import io.salun.data.Shard;
import io.salun.train.Minibatch;
import io.salun.model.Net;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Inference-mode predictions over a shard, tallied per class separately for forget-set and
 * retain-set rows: {@code [0]} forget rows, {@code [1]} the others, with each row's cross-entropy
 * {@code −ln p(y|x)} (p floored at the smallest normal double, so a certain mistake counts as a
 * large finite loss).
 */
public final class Predictions {
    private Predictions() {
    }

    public static ClassCounts[] count(Net net, Shard shard, int batchSize, int classes) {
        ClassCounts forget = ClassCounts.empty(classes);
        ClassCounts rest = ClassCounts.empty(classes);
        for (int from = 0; from < shard.size(); from += batchSize) {
            int to = Math.min(shard.size(), from + batchSize);
            Minibatch batch = Minibatch.inOrder(shard, from, to, classes);
            INDArray probabilities = net.output(batch.features(), false);
            INDArray predicted = probabilities.argMax(1);
            for (int i = 0; i < batch.size(); i++) {
                int row = from + i;
                double p = probabilities.getDouble(i, shard.label(row));
                (shard.forget(row) ? forget : rest).add(shard.label(row), predicted.getInt(i),
                        -Math.log(Math.max(p, Double.MIN_NORMAL)));
            }
        }
        return new ClassCounts[] {forget, rest};
    }

    /**
     * The MIA feature of each row (SALUN-SPEC §4): the softmax probability the model gives the
     * row's true label ("confidence"), as a one-feature vector.
     */
    public static double[][] confidences(Net net, Shard shard, int batchSize, int classes) {
        double[][] out = new double[shard.size()][];
        for (int from = 0; from < shard.size(); from += batchSize) {
            int to = Math.min(shard.size(), from + batchSize);
            Minibatch batch = Minibatch.inOrder(shard, from, to, classes);
            INDArray probabilities = net.output(batch.features(), false);
            for (int i = 0; i < batch.size(); i++) {
                out[from + i] = new double[] {probabilities.getDouble(i, shard.label(from + i))};
            }
        }
        return out;
    }
}
