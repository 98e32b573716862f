package io.salun.train;

import io.salun.config.Seeds;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.mask.MaskedUpdate;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Net;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Optional;

/**
 * The work of one partition in one round of parameter averaging, free of Spark: rebuild the
 * round's network from its snapshot, take up to {@code localSteps} minibatch steps over the
 * partition's rows in this epoch's order, and add the resulting parameters and updater state to a
 * {@link RoundAverage}.
 *
 * <p>Epoch {@code e}, round {@code r} of a partition visits minibatches
 * {@code [r·k, (r+1)·k)} of its epoch order ({@code k} = local steps); every seed is derived from
 * (seed, stage, epoch, partition), so a retried task recomputes the same bits.
 */
public final class LocalSteps {
    private LocalSteps() {
    }

    /** Everything a round needs besides the data and the network. */
    public record Round(String stage, long seed, int epoch, int round, int batchSize, int localSteps,
                        int classes, DataOrder order, Targets targets, GradientTerm term)
            implements java.io.Serializable {
    }

    /** Number of minibatches a shard of {@code rows} rows yields per epoch. */
    public static int batchesPerEpoch(int rows, int batchSize) {
        return (rows + batchSize - 1) / batchSize;
    }

    /** Runs one partition's round; an exhausted or empty partition contributes nothing. */
    public static RoundAverage run(NetworkSnapshot snapshot, Optional<Bitset> mask, Shard shard,
                                       int partition, Round round) {
        RoundAverage result = RoundAverage.empty(snapshot.size(), snapshot.updaterState().length);
        int batches = batchesPerEpoch(shard.size(), round.batchSize());
        int firstBatch = round.round() * round.localSteps();
        if (firstBatch >= batches) {
            return result;
        }
        int lastBatch = Math.min(batches, firstBatch + round.localSteps());
        Nd4j.getRandom().setSeed(Seeds.derive(round.seed(), round.stage() + "/nd4j", round.epoch(), round.round(), partition));
        Net net = snapshot.net();
        if (!round.term().afterMask()) {
            round.term().attach(net);
        }
        mask.ifPresent(m -> MaskedUpdate.attach(net, m));
        if (round.term().afterMask()) {
            round.term().attach(net);
        }
        int[] order = round.order().rows(shard, Seeds.derive(round.seed(), round.stage() + "/order", round.epoch(), partition));
        long examples = 0;
        double lossTotal = 0;
        for (int b = firstBatch; b < lastBatch; b++) {
            int from = b * round.batchSize();
            int to = Math.min(shard.size(), from + round.batchSize());
            Minibatch batch = round.targets().minibatch(net, shard, order, from, to, round.classes(), round.epoch());
            // DL4J's score adds the L2/weight-decay penalty; report the data loss
            double penalty = net.regularizationScore();
            net.fit(batch.features(), batch.labels());
            lossTotal += (net.score() - penalty) * batch.size();
            examples += batch.size();
        }
        float[] params = net.params().data().asFloat();
        INDArray state = net.updaterState();
        float[] updater = state == null ? new float[0] : state.data().asFloat();
        return result.add(params, updater, examples, lastBatch - firstBatch, lossTotal);
    }
}
