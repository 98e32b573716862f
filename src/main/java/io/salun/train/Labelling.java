package io.salun.train;

import io.salun.config.Seeds;
import io.salun.data.Shard;
import io.salun.model.Net;

/**
 * Which label each training row is fitted to in an epoch.
 *
 * <ul>
 *   <li>{@link #trueLabels()}: every row its own label (training, Retrain, FT).</li>
 *   <li>{@link #randomForgetLabels}: Random Labeling (RL, and SalUn = RL under the saliency mask):
 *       a forget-set row gets {@code y'} drawn uniformly, fresh every epoch, from the other
 *       {@code K − 1} classes ({@code y' ≠ y}, SALUN-SPEC §2), or from all {@code K} when
 *       {@code excludeTrueLabel} is false (the reference code's behaviour); retain rows keep
 *       theirs. The draw depends only on (seed, epoch, record ID), not on partitioning.</li>
 * </ul>
 */
public interface Labelling extends Targets {

    /** The label row {@code row} of {@code shard} is fitted to in {@code epoch}. */
    int label(Shard shard, int row, int epoch);

    /** Features and one-hot labels; the network is not consulted. */
    @Override
    default Minibatch minibatch(Net net, Shard shard, int[] order, int from, int to, int classes, int epoch) {
        return Minibatch.of(shard, order, from, to, classes, row -> label(shard, row, epoch));
    }

    static Labelling trueLabels() {
        return new TrueLabels();
    }

    static Labelling randomForgetLabels(long seed, int classes, boolean excludeTrueLabel) {
        if (classes < 2) {
            throw new IllegalArgumentException("random labels need at least 2 classes, found " + classes);
        }
        return new RandomForgetLabels(seed, classes, excludeTrueLabel);
    }

    /** Every row keeps its own label. */
    record TrueLabels() implements Labelling {
        @Override
        public int label(Shard shard, int row, int epoch) {
            return shard.label(row);
        }

        @Override
        public String name() {
            return "true-labels";
        }
    }

    /** Forget rows get a fresh random label each epoch; retain rows keep theirs. */
    record RandomForgetLabels(long seed, int classes, boolean excludeTrueLabel) implements Labelling {
        @Override
        public int label(Shard shard, int row, int epoch) {
            int y = shard.label(row);
            if (!shard.forget(row)) {
                return y;
            }
            long s = Seeds.derive(seed, "random-label", epoch, shard.id(row));
            if (!excludeTrueLabel) {
                return Seeds.uniform(s, classes);
            }
            return (y + 1 + Seeds.uniform(s, classes - 1)) % classes;
        }

        @Override
        public String name() {
            return excludeTrueLabel ? "random-labels(y'!=y)" : "random-labels";
        }
    }
}
