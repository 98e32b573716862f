package io.salun.job;

import io.salun.audit.ShadowHalves;
import io.salun.audit.ShadowModels;
import io.salun.config.Settings;
import io.salun.data.Shard;
import io.salun.eval.MembershipLikelihood;
import io.salun.model.ModelStore;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.train.Minibatch;
import io.salun.unlearn.Method;
import io.salun.unlearn.Stage;
import io.salun.unlearn.Unlearning;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The per-example membership test of one run's forget set (docs/METHODS.md §4c), ready to score
 * any model of the original's architecture: {@code k} shadow models (read from their cache, the
 * missing ones trained in one Spark job, one per task, and cached), each forget record's
 * logit-scaled confidence under each, and the IN/OUT Gaussian test they give
 * ({@link MembershipLikelihood}). The {@code audit} command scores one model with it; the benchmark
 * scores Retrain and each method's chosen model on every seed.
 */
final class PrivacyAudit {
    private static final Logger LOG = LoggerFactory.getLogger(PrivacyAudit.class);

    private final int shadows;
    private final Shard forget;
    private final int classes;
    private final MembershipLikelihood test;

    private PrivacyAudit(int shadows, Shard forget, int classes, MembershipLikelihood test) {
        this.shadows = shadows;
        this.forget = forget;
        this.classes = classes;
        this.test = test;
    }

    /** One model's audit: every forget record's score, the rate that looks trained on, and the verdict at 5 %. */
    record Result(double[] scores, double rate, boolean indistinguishable) {
    }

    /**
     * The test of {@code c}'s forget set from {@code k} shadow models (even, ≥ 4) trained with the
     * original recipe, kept in {@code dir} (or, when empty, in the cache keyed by the training
     * settings, original, forget set, partitions and seed).
     */
    static PrivacyAudit prepare(JavaSparkContext sc, Settings settings, RunSetup.Classification c, int k,
                                Optional<String> dir) {
        long seed = c.inputs().seed();
        Shard all = sortedById(c.inputs().all().collect());
        Shard forget = all.select(all::forget);
        Stage retrain = Unlearning.stage(Method.RETRAIN, Optional.empty(), Recipes.training(settings), c.inputs());
        List<NetworkSnapshot> models = shadows(sc, settings, dir, c.original(), retrain, all, seed, k);
        int classes = c.task().classes();
        double[][] phi = new double[k][];
        boolean[][] in = new boolean[k][forget.size()];
        for (int s = 0; s < k; s++) {
            phi[s] = statistic(models.get(s).net(), forget, classes);
            for (int i = 0; i < forget.size(); i++) {
                in[s][i] = ShadowHalves.trainsOn(seed, s, forget.id(i));
            }
        }
        return new PrivacyAudit(k, forget, classes, new MembershipLikelihood(phi, in));
    }

    /** {@code model}'s forget records scored against the shadows. */
    Result of(Net model) {
        double[] phi = statistic(model, forget, classes);
        double rate = test.targetRate(phi);
        return new Result(test.scores(phi), rate, indistinguishable(rate, forget.size(), test.calibration()));
    }

    /** The shadows' own rates, each shadow scored against the others (what never-seen and trained-on records show). */
    MembershipLikelihood.Calibration calibration() {
        return test.calibration();
    }

    int forgetRecords() {
        return forget.size();
    }

    int shadows() {
        return shadows;
    }

    /** Whether a rate over {@code n} records is within what never-seen records show (two-proportion test, 5 %). */
    static boolean indistinguishable(double rate, int n, MembershipLikelihood.Calibration cal) {
        return MembershipLikelihood.indistinguishable(rate, n, cal.falsePositiveRate(), cal.outScores().length);
    }

    /** The shadows: every cached one read, the missing ones trained in one Spark job and cached. */
    private static List<NetworkSnapshot> shadows(JavaSparkContext sc, Settings settings, Optional<String> where,
                                                 Net original, Stage retrain, Shard all, long seed, int k) {
        long[] ids = java.util.stream.IntStream.range(0, all.size()).filter(all::forget).mapToLong(all::id).toArray();
        int partitions = retrain.data().getNumPartitions();
        String dir = where.orElseGet(() -> ModelPaths.shadows(settings,
                original.config().json(), ModelPaths.forgetSetKey(ids), partitions, seed));
        NetworkSnapshot[] got = new NetworkSnapshot[k];
        List<Integer> missing = new ArrayList<>();
        for (int s = 0; s < k; s++) {
            String path = dir + "/shadow-" + s + ".zip";
            if (ModelStore.exists(path, sc.hadoopConfiguration())) {
                got[s] = NetworkSnapshot.of(ModelStore.loadNet(path, "audit.shadow-dir", sc.hadoopConfiguration()));
            } else {
                missing.add(s);
            }
        }
        LOG.info("audit: {} of {} shadow models cached in {}; training {} (the retain set and half of the forget set"
                + " each, {} epochs), one per task", k - missing.size(), k, dir, missing.size(), retrain.plan().epochs());
        if (!missing.isEmpty()) {
            long t0 = System.nanoTime();
            List<NetworkSnapshot> trained = ShadowModels.train(sc, retrain.start(), all, retrain.plan(), seed,
                    partitions, missing);
            LOG.info("audit: trained {} shadow models in {} s", missing.size(),
                    String.format("%.1f", (System.nanoTime() - t0) / 1e9));
            for (int j = 0; j < missing.size(); j++) {
                int s = missing.get(j);
                got[s] = trained.get(j);
                TrainCommand.save(original.withParameters(got[s].parameters()).model(), dir + "/shadow-" + s + ".zip", false,
                        "audit.shadow-dir", sc.hadoopConfiguration());
            }
        }
        return Arrays.asList(got);
    }

    /** Each forget record's logit-scaled true-label confidence under {@code net} (inference mode). */
    static double[] statistic(Net net, Shard rows, int classes) {
        double[] phi = new double[rows.size()];
        for (int from = 0; from < rows.size(); from += 500) {
            int to = Math.min(rows.size(), from + 500);
            INDArray p = net.output(Minibatch.inOrder(rows, from, to, classes).features(), false);
            for (int i = from; i < to; i++) {
                phi[i] = MembershipLikelihood.logit(p.getDouble(i - from, rows.label(i)));
            }
        }
        return phi;
    }


    /** Every row of {@code shards} in one shard, sorted by record ID (so nothing depends on partitioning). */
    static Shard sortedById(List<Shard> shards) {
        int n = shards.stream().mapToInt(Shard::size).sum();
        int d = shards.stream().filter(s -> s.size() > 0).findFirst().map(Shard::featureLength).orElse(0);
        Integer[] order = new Integer[n];
        long[] ids = new long[n];
        int[] labels = new int[n];
        boolean[] forget = new boolean[n];
        float[] features = new float[n * d];
        int j = 0;
        for (Shard s : shards) {
            for (int i = 0; i < s.size(); i++) {
                ids[j] = s.id(i);
                labels[j] = s.label(i);
                forget[j] = s.forget(i);
                s.copyFeatures(i, features, j * d);
                order[j] = j;
                j++;
            }
        }
        Arrays.sort(order, (a, b) -> Long.compare(ids[a], ids[b]));
        long[] sIds = new long[n];
        int[] sLabels = new int[n];
        boolean[] sForget = new boolean[n];
        float[] sFeatures = new float[n * d];
        for (int i = 0; i < n; i++) {
            int from = order[i];
            sIds[i] = ids[from];
            sLabels[i] = labels[from];
            sForget[i] = forget[from];
            System.arraycopy(features, from * d, sFeatures, i * d, d);
        }
        return new Shard(sIds, sLabels, sForget, sFeatures, d);
    }
}
