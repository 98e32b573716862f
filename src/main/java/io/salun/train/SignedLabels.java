package io.salun.train;

import io.salun.data.Shard;
import io.salun.model.Net;

/**
 * NegGrad+ (Kurmanji et al., NeurIPS 2023): every minibatch of the mixed stream of Df and Dr
 * minimises {@code β·ℓ̄(B ∩ Dr) − (1 − β)·ℓ̄(B ∩ Df)}, each part's cross-entropy averaged over its
 * own rows of the minibatch, as the official code averages a retain batch and a forget batch.
 * With DL4J's convention (the step divides the summed gradient by the minibatch size {@code b})
 * that is a weight per row: {@code β·b/n_r} for a retain row and {@code −(1 − β)·b/n_f} for a
 * forget row ({@code n_r}, {@code n_f} the part sizes in this minibatch; a minibatch without
 * forget rows is plain {@code β}-weighted fine-tuning). The weights ride in the label rows, for
 * {@code io.salun.model.WeightedCrossEntropy}; labels are the true ones.
 *
 * @param beta β in [0, 1]: 1 is fine-tuning on Dr, 0 is gradient ascent on Df
 */
public record SignedLabels(double beta) implements Targets {
    public SignedLabels {
        if (!(beta >= 0 && beta <= 1)) {
            throw new IllegalArgumentException("NegGrad+ beta: expected a value in [0, 1], found " + beta);
        }
    }

    @Override
    public Minibatch minibatch(Net net, Shard shard, int[] order, int from, int to, int classes, int epoch) {
        int forget = 0;
        for (int i = from; i < to; i++) {
            if (shard.forget(order[i])) {
                forget++;
            }
        }
        int b = to - from;
        float retainWeight = b == forget ? 0f : (float) (beta * b / (b - forget));
        float forgetWeight = forget == 0 ? 0f : (float) (-(1 - beta) * b / forget);
        return Minibatch.weighted(shard, order, from, to, classes, shard::label,
                row -> shard.forget(row) ? forgetWeight : retainWeight);
    }

    @Override
    public String name() {
        return "neggrad+(beta=" + beta + ")";
    }
}
