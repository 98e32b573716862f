package io.salun.saliency;

import io.salun.data.Shard;
import io.salun.train.Minibatch;
import io.salun.model.Net;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;

/**
 * The summed loss gradient over a set of examples (SALUN-SPEC §1 step 2):
 * {@code g = Σ_{(x,y)∈Df} ∇θ ℓCE(θ; x, y)}, a vector of the network's {@code N} parameters in
 * the order of its flattened {@code params()} view, accumulated in double precision.
 *
 * <p>DL4J's {@code computeGradientAndScore()} leaves the sum over the minibatch in the flattened
 * gradient (the division by the batch size happens later, in the updater, which is not run here),
 * so adding the per-minibatch gradients gives the exact per-example sum whatever the batching or
 * partitioning. Aggregator shape: {@link #add}, {@link #merge}, {@link #result}.
 */
public final class GradientSum implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] sum;
    private long examples;

    private GradientSum(int parameters) {
        this.sum = new double[parameters];
    }

    /** The zero gradient over no examples. */
    public static GradientSum empty(int parameters) {
        return new GradientSum(parameters);
    }

    /** Adds a minibatch's summed gradient (flattened, length N) over {@code batchExamples} examples. */
    public GradientSum add(INDArray minibatchGradientSum, int batchExamples) {
        if (minibatchGradientSum.length() != sum.length) {
            throw new IllegalArgumentException("gradient of length " + minibatchGradientSum.length()
                    + " added to a sum over " + sum.length + " parameters");
        }
        double[] g = minibatchGradientSum.toDoubleVector();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += g[i];
        }
        examples += batchExamples;
        return this;
    }

    /** Adds {@code other} into this sum (in place) and returns this. */
    public GradientSum merge(GradientSum other) {
        if (other.sum.length != sum.length) {
            throw new IllegalArgumentException("cannot merge gradient sums over " + sum.length + " and "
                    + other.sum.length + " parameters");
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] += other.sum[i];
        }
        examples += other.examples;
        return this;
    }

    public long examples() {
        return examples;
    }

    /** The summed gradient (a copy). */
    public double[] result() {
        return sum.clone();
    }

    /**
     * Sums the gradient of {@code net}'s loss over every row of {@code shard} (true labels), in
     * minibatches of {@code batchSize}. The network should be in inference form (no dropout).
     */
    public static GradientSum over(Net net, Shard shard, int batchSize, int classes) {
        GradientSum total = empty((int) net.numParams());
        for (int from = 0; from < shard.size(); from += batchSize) {
            int to = Math.min(shard.size(), from + batchSize);
            Minibatch batch = Minibatch.inOrder(shard, from, to, classes);
            total.add(net.gradient(batch.features(), batch.labels()), batch.size());
        }
        net.clear();
        return total;
    }
}
