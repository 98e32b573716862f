package io.salun.eval;

import io.salun.data.Shard;
import io.salun.model.NetworkSnapshot;
import io.salun.spark.ShardAggregate;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.List;
import java.util.Optional;
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
        return ShardAggregate.reduce(sc, model, shards, (network, partition, it) -> {
            if (!it.hasNext()) {
                return Optional.empty();
            }
            ClassCounts[] counts = Predictions.count(network.net(), it.next(), batchSize, classes);
            while (it.hasNext()) {
                counts = merge(counts, Predictions.count(network.net(), it.next(), batchSize, classes));
            }
            return Optional.of(counts);
        }, EvaluationStage::merge, treeDepth);
    }

    private static ClassCounts[] merge(ClassCounts[] a, ClassCounts[] b) {
        return new ClassCounts[] {a[0].merge(b[0]), a[1].merge(b[1])};
    }

    /** UA, RA, TA and MIA-Efficacy of {@code model} on {@code sets}. */
    public static Metrics evaluate(JavaSparkContext sc, NetworkSnapshot model, Sets sets, int batchSize,
                                   int classes, int treeDepth) {
        ClassCounts[] train = counts(sc, model, sets.training(), batchSize, classes, treeDepth);
        ClassCounts testCounts = counts(sc, model, sets.test(), batchSize, classes, treeDepth)[1];
        Set<Integer> forgotten = sets.forgottenClasses();
        double ta = forgotten.isEmpty() ? testCounts.accuracy() : testCounts.accuracyExcluding(forgotten);
        double forgottenTest = forgotten.isEmpty() ? Double.NaN : testCounts.accuracyOf(forgotten);
        double mia = miaEfficacy(sc, model, sets, batchSize, classes, treeDepth);
        return new Metrics(100.0 - train[0].accuracy(), train[1].accuracy(), ta, mia, forgottenTest, train[0].meanLoss());
    }

    /**
     * MIA-Efficacy (%): attacker trained on members (a sample of Dr) vs non-members (a sample of the
     * test set without forgotten classes), applied to the forget set.
     */
    public static double miaEfficacy(JavaSparkContext sc, NetworkSnapshot model, Sets sets, int batchSize, int classes,
                                     int treeDepth) {
        List<double[]> members = confidences(sc, model, sets.members(), batchSize, classes);
        List<double[]> nonMembers = confidences(sc, model, sets.nonMembers(), batchSize, classes);
        MembershipInferenceAttack attack = MembershipInferenceAttack.train(members.toArray(double[][]::new),
                nonMembers.toArray(double[][]::new));
        // the forget set is scored on the executors: only the count of predicted non-members comes back
        long[] counts = ShardAggregate.reduce(sc, new Scoring(model, attack), sets.forget(), (scoring, partition, it) -> {
            if (!it.hasNext()) {
                return Optional.empty();
            }
            long nonMember = 0;
            long all = 0;
            while (it.hasNext()) {
                double[][] c = Predictions.confidences(scoring.model().net(), it.next(), batchSize, classes);
                for (double[] x : c) {
                    if (scoring.attack().predictsNonMember(x)) {
                        nonMember++;
                    }
                }
                all += c.length;
            }
            return Optional.of(new long[] {nonMember, all});
        }, (x, y) -> new long[] {x[0] + y[0], x[1] + y[1]}, treeDepth);
        return counts[1] == 0 ? Double.NaN : 100.0 * counts[0] / counts[1];
    }

    /** What the forget set's scoring tasks share: the model and the trained attacker. */
    private record Scoring(NetworkSnapshot model, MembershipInferenceAttack attack) implements java.io.Serializable {
    }

    /** The true-label confidences of every record of {@code shards}, in partition order. */
    private static List<double[]> confidences(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> shards,
                                              int batchSize, int classes) {
        return ShardAggregate.collect(sc, model, shards, (network, partition, it) -> {
            List<double[]> out = new java.util.ArrayList<>();
            while (it.hasNext()) {
                out.addAll(java.util.Arrays.asList(Predictions.confidences(network.net(), it.next(), batchSize, classes)));
            }
            return Optional.of(out);
        });
    }

}
