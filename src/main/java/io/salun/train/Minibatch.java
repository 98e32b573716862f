package io.salun.train;

import io.salun.data.Shard;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.IntUnaryOperator;

/**
 * Rows {@code order[from..to)} of a shard as a features matrix {@code [b, d]} and targets: one-hot
 * labels {@code [b, K]} (float) for classification, real-valued targets for regression losses.
 */
public record Minibatch(INDArray features, INDArray labels, int size) {

    /**
     * @param labelOf the label each row is fitted to (true or random), by shard row index
     */
    public static Minibatch of(Shard shard, int[] order, int from, int to, int classes, IntUnaryOperator labelOf) {
        return weighted(shard, order, from, to, classes, labelOf, row -> 1f);
    }

    /**
     * As {@link #of}, each label row scaled by its example's weight: row {@code i} is
     * {@code weightOf(row)·e_label} (for {@code io.salun.model.WeightedCrossEntropy}).
     */
    public static Minibatch weighted(Shard shard, int[] order, int from, int to, int classes, IntUnaryOperator labelOf,
                                     RowWeight weightOf) {
        int b = to - from;
        int d = shard.featureLength();
        float[] x = new float[b * d];
        float[] y = new float[b * classes];
        for (int i = 0; i < b; i++) {
            int row = order[from + i];
            shard.copyFeatures(row, x, i * d);
            int label = labelOf.applyAsInt(row);
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("a record has label " + label
                        + " is outside the model's " + classes + " classes");
            }
            y[i * classes + label] = weightOf.of(row);
        }
        return new Minibatch(Nd4j.create(x, new long[] {b, d}, 'c'), Nd4j.create(y, new long[] {b, classes}, 'c'), b);
    }

    /** A label row's scale, by shard row index. */
    @FunctionalInterface
    public interface RowWeight {
        float of(int row);
    }

    /** Rows {@code [from, to)} of the shard in storage order, with their true labels. */
    public static Minibatch inOrder(Shard shard, int from, int to, int classes) {
        int[] identity = new int[to];
        for (int i = from; i < to; i++) {
            identity[i] = i;
        }
        return of(shard, identity, from, to, classes, shard::label);
    }
}
