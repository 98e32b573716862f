package io.salun.audit;

import io.salun.data.Shard;
import io.salun.model.NetworkSnapshot;
import io.salun.train.LocalTraining;
import io.salun.train.ParameterAveraging;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.util.ArrayList;
import java.util.List;

/**
 * Spark wiring of the audit's shadow models: model parallelism, not data parallelism. The whole
 * training set is broadcast once; each task trains one shadow from {@code start} with the original
 * recipe ({@code plan}, as Retrain) on the retain set and its half of the forget set
 * ({@link ShadowHalves}), split as the engine's partitions, in one process
 * ({@link LocalTraining}) and returns its parameters. A shadow's stage is {@code shadow-k}, so its
 * data order is its own and a retried or relocated task trains the same bits.
 */
public final class ShadowModels {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ShadowModels.class);

    private ShadowModels() {
    }

    /** The plan of shadow {@code k}: {@code plan} under its own stage name (its own data order). */
    public static ParameterAveraging.Plan plan(ParameterAveraging.Plan plan, int k) {
        return new ParameterAveraging.Plan("shadow-" + k, plan.epochs(), plan.batchSize(), plan.localSteps(), plan.classes(),
                plan.seed(), plan.order(), plan.targets(), plan.term(), plan.treeDepth(), plan.schedule());
    }

    /** Shadow {@code k} trained in this process: what each task of {@link #train} does. */
    public static NetworkSnapshot trainOne(NetworkSnapshot start, Shard all, ParameterAveraging.Plan plan, long seed,
                                           int partitions, int k) {
        long t0 = System.nanoTime();
        List<Shard> shards = ShadowHalves.partitions(all, seed, k, partitions);
        NetworkSnapshot trained = LocalTraining.train(start, shards, plan(plan, k));
        LOG.info("audit: shadow {} trained on {} records as {} partitions, {} epochs, in {} s", k,
                shards.stream().mapToInt(Shard::size).sum(), partitions, plan.epochs(),
                String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        return new NetworkSnapshot(start.config(), trained.parameters(), new float[0], trained.iteration(), trained.epoch());
    }

    /** The shadows {@code shadows} trained in one Spark job, one task each, in the order given. */
    public static List<NetworkSnapshot> train(JavaSparkContext sc, NetworkSnapshot start, Shard all,
                                              ParameterAveraging.Plan plan, long seed, int partitions,
                                              List<Integer> shadows) {
        Broadcast<Shard> data = sc.broadcast(all);
        Broadcast<NetworkSnapshot> from = sc.broadcast(start);
        try {
            List<NetworkSnapshot> out = new ArrayList<>();
            for (float[] p : sc.parallelize(shadows, shadows.size())
                    .map(k -> trainOne(from.value(), data.value(), plan, seed, partitions, k).parameters()).collect()) {
                out.add(new NetworkSnapshot(start.config(), p, new float[0], 0, 0));
            }
            return out;
        } finally {
            data.destroy();
            from.destroy();
        }
    }
}
