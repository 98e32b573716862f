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
 * The work of one partition in one round of parameter averaging, free of Spark: on the round's
 * network ({@link #prepare}d once per stage and kept by {@link StageNets}), take up to {@code localSteps} minibatch steps over the
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

    /** Runs one partition's round on a network built from {@code snapshot}; an exhausted or empty partition contributes nothing. */
    public static RoundAverage run(NetworkSnapshot snapshot, Optional<Bitset> mask, Shard shard,
                                       int partition, Round round) {
        if (!hasWork(shard, round)) {
            return RoundAverage.empty(snapshot.size(), snapshot.updaterState().length);
        }
        return run(prepare(snapshot, mask, round.term()), shard, partition, round);
    }

    /**
     * The network of {@code snapshot} ready for a stage's steps: its gradient term and the mask
     * (anchored at the snapshot's parameters) attached in the order the term asks for.
     */
    public static Net prepare(NetworkSnapshot snapshot, Optional<Bitset> mask, GradientTerm term) {
        Net net = snapshot.net();
        if (!term.afterMask()) {
            term.attach(net);
        }
        mask.ifPresent(m -> MaskedUpdate.attach(net, m));
        if (term.afterMask()) {
            term.attach(net);
        }
        return net;
    }

    /** Whether {@code shard} has minibatches left for {@code round}. */
    static boolean hasWork(Shard shard, Round round) {
        return firstBatch(shard, round) < batchesPerEpoch(round.order().streamSize(shard), round.batchSize());
    }

    private static int firstBatch(Shard shard, Round round) {
        return round.round() * round.localSteps();
    }

    /**
     * Runs one partition's round on {@code net}, a network {@link #prepare}d for the stage and
     * holding the round's starting parameters, updater state and counters.
     */
    public static RoundAverage run(Net net, Shard shard, int partition, Round round) {
        RoundAverage result = RoundAverage.empty((int) net.numParams(), net.updaterState() == null ? 0
                : (int) net.updaterState().length());
        int[] order = round.order().rows(shard, Seeds.derive(round.seed(), round.stage() + "/order", round.epoch(), partition));
        int batches = batchesPerEpoch(order.length, round.batchSize());
        int firstBatch = firstBatch(shard, round);
        if (firstBatch >= batches) {
            return result;
        }
        int lastBatch = Math.min(batches, firstBatch + round.localSteps());
        Nd4j.getRandom().setSeed(Seeds.derive(round.seed(), round.stage() + "/nd4j", round.epoch(), round.round(), partition));
        long beforeSeed = Seeds.derive(round.seed(), round.stage() + "/before", round.epoch(), partition);
        long examples = 0;
        double lossTotal = 0;
        int fits = 0;
        for (int b = firstBatch; b < lastBatch; b++) {
            // a step of its own before this one (SFR-on's forget step); its loss is not the stage's
            Optional<Minibatch> extra = round.targets().before(net, shard, b, round.batchSize(), round.classes(),
                    round.epoch(), beforeSeed);
            if (extra.isPresent()) {
                net.fit(extra.get().features(), extra.get().labels());
                fits++;
            }
            int from = b * round.batchSize();
            int to = Math.min(order.length, from + round.batchSize());
            Minibatch batch = round.targets().minibatch(net, shard, order, from, to, round.classes(), round.epoch());
            // DL4J's score adds the L2/weight-decay penalty; report the data loss
            double penalty = net.regularizationScore();
            net.fit(batch.features(), batch.labels());
            lossTotal += (net.score() - penalty) * batch.size();
            examples += batch.size();
            fits++;
        }
        float[] params = net.params().data().asFloat();
        INDArray state = net.updaterState();
        float[] updater = state == null ? new float[0] : state.data().asFloat();
        return result.add(params, updater, examples, fits, lossTotal);
    }
}
