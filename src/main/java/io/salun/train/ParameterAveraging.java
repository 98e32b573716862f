package io.salun.train;

import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.model.LrSchedule;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.spark.ShardAggregate;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Data-parallel training on Spark by parameter averaging. A stage broadcasts its network's
 * configuration, mask and gradient term once; each round broadcasts only the current parameters,
 * updater state and iteration counter, every partition runs {@link LocalSteps} on its cached
 * {@link Shard} with the network its executor kept from the last round ({@link StageNets}), and a
 * tree of merges on the executors averages the results ({@link RoundAverage}), the driver receiving
 * only the float32 mean ({@link ShardAggregate#reduceOnExecutors}). The one
 * engine serves training the original model, Retrain, and masked fine-tuning (SalUn and the other
 * unlearning methods).
 *
 * <p>With a mask, masked-out parameters are re-projected onto the starting network after every
 * average too, so they stay bit-identical to it (SALUN-SPEC §2, exact masking).
 */
public final class ParameterAveraging {
    private static final Logger LOG = LoggerFactory.getLogger(ParameterAveraging.class);

    private ParameterAveraging() {
    }

    /** How a stage trains. */
    public record Plan(String stage, int epochs, int batchSize, int localSteps, int classes, long seed,
                       DataOrder order, Targets targets, GradientTerm term, int treeDepth, LrSchedule.Spec schedule)
            implements java.io.Serializable {
        public Plan {
            if (epochs < 0 || batchSize < 1 || localSteps < 1 || treeDepth < 1) {
                throw new IllegalArgumentException("plan " + stage + ": epochs >= 0, batch >= 1, local steps >= 1,"
                        + " tree depth >= 1 expected, found " + epochs + ", " + batchSize + ", " + localSteps + ", " + treeDepth);
            }
            java.util.Objects.requireNonNull(schedule, "schedule");
        }

        /**
         * Whether {@code shorter}'s rounds are exactly this plan's first rounds: the same plan with
         * fewer epochs, and neither the schedule nor the gradient term depends on the stage's total
         * length (a cosine schedule anneals to the last epoch, the l1 decay to the last step). Every
         * round is a function of the state and its position (seed, epoch, round), so a run of this
         * plan may then continue from {@code shorter}'s result and end in the same bits.
         */
        public boolean continues(Plan shorter) {
            boolean lengthFree = !schedule.kind().equals("cosine") && !(term instanceof GradientTerm.L1Decay);
            return lengthFree && shorter.epochs < epochs && shorter.equals(new Plan(stage, shorter.epochs, batchSize,
                    localSteps, classes, seed, order, targets, term, treeDepth, schedule));
        }

        /** A plan at the update rule's constant learning rate. */
        public Plan(String stage, int epochs, int batchSize, int localSteps, int classes, long seed,
                    DataOrder order, Targets targets, GradientTerm term, int treeDepth) {
            this(stage, epochs, batchSize, localSteps, classes, seed, order, targets, term, treeDepth,
                    LrSchedule.Spec.CONSTANT);
        }
    }

    /** Minibatch steps per partition in one epoch: the largest partition's. */
    public static int stepsPerEpoch(JavaRDD<Shard> shards, int batchSize) {
        return stepsPerEpoch(shards, batchSize, DataOrder.MIXED);
    }

    /** As {@link #stepsPerEpoch(JavaRDD, int)} for an epoch visiting the rows {@code order} streams. */
    public static int stepsPerEpoch(JavaRDD<Shard> shards, int batchSize, DataOrder order) {
        int maxRows = shards.map(order::streamSize).collect().stream().mapToInt(Integer::intValue).max().orElse(0);
        return LocalSteps.batchesPerEpoch(maxRows, batchSize);
    }

    /** Loss of one round, for progress logs and reports. */
    public record RoundLoss(int epoch, int round, double meanLoss, long examples) implements java.io.Serializable {
    }

    /**
     * The trained network, its loss history, and the seconds it took (summed over the runs that
     * resumed it, so a stage resumed from a checkpoint still reports its whole training time).
     */
    public record Result(NetworkSnapshot network, List<RoundLoss> losses, double seconds) {
    }

    /**
     * Trains {@code start} on {@code shards} (persisted by the caller, one {@link Shard} per
     * partition) following {@code plan}; with a mask only its set bits move.
     */
    public static Result train(JavaSparkContext sc, NetworkSnapshot start, JavaRDD<Shard> shards,
                               Plan plan, Optional<Bitset> mask) {
        return train(sc, start, shards, plan, mask, Optional.empty());
    }

    /**
     * As {@link #train(JavaSparkContext, NetworkSnapshot, JavaRDD, Plan, Optional)}, saving the state
     * after finished rounds to {@code checkpoints} and resuming from the latest saved one. Rounds are
     * pure functions of the state and their position, so a resumed run ends in the same bits.
     */
    public static Result train(JavaSparkContext sc, NetworkSnapshot start, JavaRDD<Shard> shards,
                               Plan plan, Optional<Bitset> mask, Optional<Checkpoints> checkpoints) {
        return train(sc, start, shards, plan, mask, checkpoints, Optional.empty());
    }

    /**
     * As {@link #train(JavaSparkContext, NetworkSnapshot, JavaRDD, Plan, Optional, Optional)},
     * continuing from {@code prefix}, the result of a shorter run of the same stage (the caller
     * checks {@link Plan#continues}; same start, data and mask), as from a checkpoint taken after
     * its last round: only the remaining rounds run, and the result is the same bits as a run from
     * {@code start}. Its seconds include the prefix's. A later checkpoint of this run wins.
     */
    public static Result train(JavaSparkContext sc, NetworkSnapshot start, JavaRDD<Shard> shards,
                               Plan plan, Optional<Bitset> mask, Optional<Checkpoints> checkpoints,
                               Optional<Result> prefix) {
        DataOrder order = plan.order();
        List<Integer> sizes = shards.map(order::streamSize).collect();
        int maxRows = sizes.stream().mapToInt(Integer::intValue).max().orElse(0);
        if (maxRows == 0) {
            throw new IllegalArgumentException("stage " + plan.stage() + " has no training records");
        }
        int rounds = (LocalSteps.batchesPerEpoch(maxRows, plan.batchSize()) + plan.localSteps() - 1) / plan.localSteps();
        LOG.info("{}: {} epochs x {} rounds over {} partitions ({} records), batch {}, {} local steps per round{}{}",
                plan.stage(), plan.epochs(), rounds, sizes.size(), sizes.stream().mapToLong(Integer::longValue).sum(),
                plan.batchSize(), plan.localSteps(), plan.schedule().constant() ? "" : ", learning rate " + plan.schedule(),
                mask.map(m -> ", mask keeps " + m.cardinality() + " of " + m.size()).orElse(""));
        // what every round shares travels once; each round then sends only parameters, state and counter
        // the schedule counts epochs by the iteration counter: S steps per epoch from the stage's start
        io.salun.model.NetworkConfig config = plan.schedule().applyTo(start.config(), plan.epochs(),
                plan.targets().fitsPerEpoch(LocalSteps.batchesPerEpoch(maxRows, plan.batchSize())), start.iteration());
        StageNets.Stage stage = new StageNets.Stage(plan.stage() + "/" + java.util.UUID.randomUUID(), config,
                start.epoch(), mask.orElse(null), plan.term());
        Broadcast<StageNets.Stage> stageBroadcast = sc.broadcast(stage);
        float[] anchor = start.parameters();
        NetworkSnapshot current = start;
        List<RoundLoss> losses = new ArrayList<>();
        long done = 0;
        double earlierSeconds = 0;
        Optional<Checkpoints.State> saved = checkpoints.flatMap(c -> c.latest(plan.stage()));
        if (prefix.isPresent() && (saved.isEmpty() || saved.get().rounds() < prefix.get().losses().size())) {
            current = prefix.get().network();
            losses.addAll(prefix.get().losses());
            done = prefix.get().losses().size();
            earlierSeconds = prefix.get().seconds();
            LOG.info("{}: continuing a shorter run of the same stage after its {} rounds", plan.stage(), done);
        } else if (saved.isPresent()) {
            current = saved.get().network();
            losses.addAll(saved.get().losses());
            done = saved.get().rounds();
            earlierSeconds = saved.get().seconds();
            LOG.info("{}: resuming from the checkpoint after epoch {} round {} ({} of {} rounds done)", plan.stage(),
                    (done - 1) / rounds + 1, (done - 1) % rounds + 1, done, (long) rounds * plan.epochs());
        }
        long began = System.nanoTime();
        try {
            for (int epoch = 0; epoch < plan.epochs(); epoch++) {
                double epochLoss = 0;
                long epochExamples = 0;
                for (int round = 0; round < rounds; round++) {
                    if ((long) epoch * rounds + round < done) {
                        continue;
                    }
                    LocalSteps.Round spec = new LocalSteps.Round(plan.stage(), plan.seed(), epoch, round,
                            plan.batchSize(), plan.localSteps(), plan.classes(), plan.order(), plan.targets(), plan.term());
                    RoundAverage average = round(sc, current, shards, spec, stageBroadcast, plan.treeDepth());
                    if (!Double.isFinite(average.meanLoss())) {
                        throw new TrainingDivergedException(plan.stage(), epoch, round, average.meanLoss());
                    }
                    float[] params = average.parameters();
                    mask.ifPresent(m -> project(params, anchor, m));
                    current = current.with(params, average.updaterState(), current.iteration() + average.steps());
                    losses.add(new RoundLoss(epoch, round, average.meanLoss(), average.examples()));
                    epochLoss += average.meanLoss() * average.examples();
                    epochExamples += average.examples();
                    LOG.debug("{}: epoch {}/{} round {}/{} loss {}", plan.stage(), epoch + 1, plan.epochs(),
                            round + 1, rounds, average.meanLoss());
                    if (checkpoints.isPresent() && checkpoints.get().due(round, rounds)) {
                        checkpoints.get().save(new Checkpoints.State(plan.stage(), (long) epoch * rounds + round + 1,
                                current, new ArrayList<>(losses), earlierSeconds + (System.nanoTime() - began) / 1e9));
                    }
                }
                if (epochExamples == 0) {
                    continue;
                }
                LOG.info("{}: epoch {}/{} done, mean loss {}, {} s elapsed", plan.stage(), epoch + 1, plan.epochs(),
                        String.format("%.4f", epochLoss / epochExamples), String.format("%.1f", (System.nanoTime() - began) / 1e9));
            }
        } finally {
            stageBroadcast.destroy();
            StageNets.release(stage.key());
        }
        return new Result(current, Collections.unmodifiableList(losses), earlierSeconds + (System.nanoTime() - began) / 1e9);
    }

    private static RoundAverage round(JavaSparkContext sc, NetworkSnapshot current, JavaRDD<Shard> shards,
                                      LocalSteps.Round spec, Broadcast<StageNets.Stage> stage, int depth) {
        StageNets.Start start = new StageNets.Start(current.parameters(), current.updaterState(), current.iteration());
        return ShardAggregate.reduceOnExecutors(sc, start, shards, (from, partition, it) -> {
            StageNets.Stage s = stage.value();
            RoundAverage local = RoundAverage.empty(from.parameters().length, from.updaterState().length);
            while (it.hasNext()) {
                Shard shard = it.next();
                if (!LocalSteps.hasWork(shard, spec)) {
                    continue;
                }
                Net net = StageNets.take(s, from);
                local.merge(LocalSteps.run(net, shard, partition, spec));
                StageNets.give(s, net);
            }
            return Optional.of(local);
        }, RoundAverage::merge, RoundAverage::result, depth);
    }

    /**
     * A round's machinery without its work, for {@code bench}: the round's broadcast of
     * {@code network}'s parameters and updater state, one task per partition returning a partial of
     * the same size, the merges on the executors and the mean back to the driver.
     */
    public static RoundAverage emptyRound(JavaSparkContext sc, NetworkSnapshot network, JavaRDD<Shard> shards, int depth) {
        StageNets.Start start = new StageNets.Start(network.parameters(), network.updaterState(), network.iteration());
        return ShardAggregate.reduceOnExecutors(sc, start, shards, (from, partition, it) -> Optional.of(
                RoundAverage.empty(from.parameters().length, from.updaterState().length)
                        .add(from.parameters().clone(), from.updaterState().clone(), 1, 0, 0)),
                RoundAverage::merge, RoundAverage::result, depth);
    }

    /** {@code θ ← where(m, θ, anchor)} on flat arrays. */
    static void project(float[] params, float[] anchor, Bitset mask) {
        for (int i = 0; i < params.length; i++) {
            if (!mask.get(i)) {
                params[i] = anchor[i];
            }
        }
    }
}
