package io.salun.saliency;

import io.salun.data.Shard;
import io.salun.model.Net;
import io.salun.train.Minibatch;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The diagonal of the empirical Fisher information over a set of examples, as SSD uses it
 * (Foster et al., AAAI 2024, §3): {@code I = (1/n) Σ_{(x,y)} (∇θ ℓCE(θ; x, y))²}, element-wise,
 * from each example's own gradient. It is summed here ({@link GradientSum} holds the sum of the
 * squares and the count), so it does not depend on batching or partitioning; the mean is taken by
 * the caller. The official code squares each minibatch's mean gradient instead and averages over
 * minibatches, which depends on the batch size (docs/METHODS.md §3b).
 */
public final class FisherDiagonal {
    private FisherDiagonal() {
    }

    /**
     * Sums the squared per-example gradients of {@code net}'s loss (true labels) over every row of
     * {@code shard}; the network should be in inference form, as for the saliency pass.
     */
    public static GradientSum over(Net net, Shard shard, int classes) {
        GradientSum total = GradientSum.empty((int) net.numParams());
        for (int row = 0; row < shard.size(); row++) {
            Minibatch one = Minibatch.inOrder(shard, row, row + 1, classes);
            INDArray g = net.gradient(one.features(), one.labels());
            total.add(g.mul(g), 1);
        }
        net.clear();
        return total;
    }
}
