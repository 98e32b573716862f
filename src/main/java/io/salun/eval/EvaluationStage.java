package io.salun.eval;

import io.salun.data.Shard;
import io.salun.model.NetworkSnapshot;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.util.Set;

/**
 * Spark wiring of evaluation: broadcast the model, count correct predictions per class on the
 * executors ({@link Predictions}), {@code treeReduce} the counts; only the counts reach the driver.
 */
public final class EvaluationStage {
    private EvaluationStage() {
    }

    /** Per-class counts {@code [forget rows, other rows]} of {@code model} over {@code shards}. */
    public static ClassCounts[] counts(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> shards,
                                       int batchSize, int classes, int treeDepth) {
        Broadcast<NetworkSnapshot> network = sc.broadcast(model);
        try {
            return shards.map(shard -> Predictions.count(network.value().build(), shard, batchSize, classes))
                    .treeReduce((a, b) -> new ClassCounts[] {a[0].merge(b[0]), a[1].merge(b[1])}, treeDepth);
        } finally {
            network.destroy();
        }
    }

    /**
     * UA, RA and TA of {@code model}: {@code training} holds Df (flagged) and Dr, {@code test} Dt.
     * With {@code forgottenClasses} non-empty, TA excludes those classes and their test accuracy is
     * reported separately.
     */
    public static Metrics evaluate(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> training,
                                   JavaRDD<Shard> test, Set<Integer> forgottenClasses, int batchSize,
                                   int classes, int treeDepth) {
        ClassCounts[] train = counts(sc, model, training, batchSize, classes, treeDepth);
        ClassCounts testCounts = counts(sc, model, test, batchSize, classes, treeDepth)[1];
        double ta = forgottenClasses.isEmpty() ? testCounts.accuracy() : testCounts.accuracyExcluding(forgottenClasses);
        double forgottenTest = forgottenClasses.isEmpty() ? Double.NaN : testCounts.accuracyOf(forgottenClasses);
        return new Metrics(100.0 - train[0].accuracy(), train[1].accuracy(), ta, forgottenTest);
    }
}
