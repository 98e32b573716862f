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

    /** What one row's prediction is handed to: its index in the shard, true label, predicted label and p(true label). */
    @FunctionalInterface
    public interface Row {
        void accept(int row, int label, int predicted, double pTrue);
    }

    /** Runs inference-mode prediction over {@code shard} in minibatches and hands every row to {@code visit}, in order. */
    public static void forEach(Net net, Shard shard, int batchSize, int classes, Row visit) {
        for (int from = 0; from < shard.size(); from += batchSize) {
            int to = Math.min(shard.size(), from + batchSize);
            Minibatch batch = Minibatch.inOrder(shard, from, to, classes);
            INDArray probabilities = net.output(batch.features(), false);
            INDArray predicted = probabilities.argMax(1);
            for (int i = 0; i < batch.size(); i++) {
                int row = from + i;
                visit.accept(row, shard.label(row), predicted.getInt(i), probabilities.getDouble(i, shard.label(row)));
            }
        }
    }

    public static ClassCounts[] count(Net net, Shard shard, int batchSize, int classes) {
        ClassCounts forget = ClassCounts.empty(classes);
        ClassCounts rest = ClassCounts.empty(classes);
        forEach(net, shard, batchSize, classes, (row, label, predicted, p) ->
                (shard.forget(row) ? forget : rest).add(label, predicted, -Math.log(Math.max(p, Double.MIN_NORMAL))));
        return new ClassCounts[] {forget, rest};
    }

    /**
     * The MIA feature of each row (SALUN-SPEC §4): the softmax probability the model gives the
     * row's true label ("confidence"), as a one-feature vector.
     */
    public static double[][] confidences(Net net, Shard shard, int batchSize, int classes) {
        double[][] out = new double[shard.size()][];
        forEach(net, shard, batchSize, classes, (row, label, predicted, p) -> out[row] = new double[] {p});
        return out;
    }
}
