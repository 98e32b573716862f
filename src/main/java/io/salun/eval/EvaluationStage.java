package io.salun.eval;

import io.salun.data.Shard;
import io.salun.model.NetworkSnapshot;
import io.salun.spark.Devices;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.util.List;
import java.util.Set;

/**
 * Spark wiring of evaluation: broadcast the model, count correct predictions per class on the
 * executors ({@link Predictions}), {@code treeReduce} the counts. For MIA-Efficacy the driver
 * receives the confidences of the attack's two balanced training sets (members sampled from Dr,
 * non-members from the test set) and trains the attacker; the forget set is scored on the executors, so only a count
 * comes back.
 */
public final class EvaluationStage {
    private EvaluationStage() {
    }

    /** The sets a model is evaluated on (all persisted by the caller, one shard per partition). */
    public record Sets(JavaRDD<Shard> training, JavaRDD<Shard> forget, JavaRDD<Shard> test,
                       JavaRDD<Shard> members, JavaRDD<Shard> nonMembers, Set<Integer> forgottenClasses) {
    }

    /** Per-class counts {@code [forget rows, other rows]} of {@code model} over {@code shards}. */
    public static ClassCounts[] counts(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> shards,
                                       int batchSize, int classes, int treeDepth) {
        Broadcast<NetworkSnapshot> network = sc.broadcast(model);
        try {
            return shards.map(shard -> {
                Devices.bindTask();
                return Predictions.count(network.value().build(), shard, batchSize, classes);
            })
                    .treeReduce((a, b) -> new ClassCounts[] {a[0].merge(b[0]), a[1].merge(b[1])}, treeDepth);
        } finally {
            network.destroy();
        }
    }

    /** UA, RA, TA and MIA-Efficacy of {@code model} on {@code sets}. */
    public static Metrics evaluate(JavaSparkContext sc, NetworkSnapshot model, Sets sets, int batchSize,
                                   int classes, int treeDepth) {
        ClassCounts[] train = counts(sc, model, sets.training(), batchSize, classes, treeDepth);
        ClassCounts testCounts = counts(sc, model, sets.test(), batchSize, classes, treeDepth)[1];
        Set<Integer> forgotten = sets.forgottenClasses();
        double ta = forgotten.isEmpty() ? testCounts.accuracy() : testCounts.accuracyExcluding(forgotten);
        double forgottenTest = forgotten.isEmpty() ? Double.NaN : testCounts.accuracyOf(forgotten);
        double mia = miaEfficacy(sc, model, sets, batchSize, classes);
        return new Metrics(100.0 - train[0].accuracy(), train[1].accuracy(), ta, mia, forgottenTest, train[0].meanLoss());
    }

    /**
     * MIA-Efficacy (%): attacker trained on members (a sample of Dr) vs non-members (a sample of the
     * test set without forgotten classes), applied to the forget set.
     */
    public static double miaEfficacy(JavaSparkContext sc, NetworkSnapshot model, Sets sets, int batchSize, int classes) {
        Broadcast<NetworkSnapshot> network = sc.broadcast(model);
        Broadcast<MembershipInferenceAttack> attack = null;
        try {
            List<double[]> members = sets.members().flatMap(shard -> java.util.Arrays.asList(
                    confidencesOnDevice(network.value(), shard, batchSize, classes)).iterator()).collect();
            List<double[]> nonMembers = sets.nonMembers().flatMap(shard -> java.util.Arrays.asList(
                    confidencesOnDevice(network.value(), shard, batchSize, classes)).iterator()).collect();
            attack = sc.broadcast(MembershipInferenceAttack.train(members.toArray(double[][]::new),
                    nonMembers.toArray(double[][]::new)));
            Broadcast<MembershipInferenceAttack> a = attack;
            long[] counts = sets.forget().map(shard -> {
                double[][] c = confidencesOnDevice(network.value(), shard, batchSize, classes);
                long nonMember = 0;
                for (double[] x : c) {
                    if (a.value().predictsNonMember(x)) {
                        nonMember++;
                    }
                }
                return new long[] {nonMember, c.length};
            }).reduce((x, y) -> new long[] {x[0] + y[0], x[1] + y[1]});
            return counts[1] == 0 ? Double.NaN : 100.0 * counts[0] / counts[1];
        } finally {
            network.destroy();
            if (attack != null) {
                attack.destroy();
            }
        }
    }

    /** True-label confidences of a shard's records, computed on the task's device. */
    private static double[][] confidencesOnDevice(NetworkSnapshot network, Shard shard, int batchSize, int classes) {
        Devices.bindTask();
        return Predictions.confidences(network.build(), shard, batchSize, classes);
    }
}
