package io.salun.eval;

import io.salun.data.Shard;
import io.salun.model.NetworkSnapshot;
import io.salun.spark.ShardAggregate;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * "Was it forgotten?" for one run, without Retrain: for the forget, retain and test sets of one
 * model, the accuracy of each class and a histogram of the true-label confidence p(y|x), which is
 * what a confidence-based membership attack sees. A forgotten record should look like an unseen
 * one: recognised about as often as a test image and with test-like confidences, not retain-like
 * ones. Computed on the executors; only the tallies come back.
 */
public final class Forgetting {
    /** Histogram bins over [0, 1] of the true-label confidence. */
    public static final int BINS = 20;

    private Forgetting() {
    }

    /** One set's tallies: per-class counts, the confidence histogram and the confidences' sum. */
    public static final class Tally implements Serializable {
        private static final long serialVersionUID = 1L;
        private final ClassCounts counts;
        private final long[] histogram = new long[BINS];
        private double confidenceSum;

        Tally(int classes) {
            counts = ClassCounts.empty(classes);
        }

        void add(int label, int predicted, double p) {
            counts.add(label, predicted);
            histogram[bin(p)]++;
            confidenceSum += p;
        }

        Tally merge(Tally other) {
            counts.merge(other.counts);
            for (int b = 0; b < BINS; b++) {
                histogram[b] += other.histogram[b];
            }
            confidenceSum += other.confidenceSum;
            return this;
        }

        public long records() {
            return counts.total();
        }

        /** Accuracy (%); NaN for an empty set. */
        public double accuracy() {
            return counts.accuracy();
        }

        /** Accuracy (%) over {@code classes}. */
        public double accuracyOf(Set<Integer> classes) {
            return counts.accuracyOf(classes);
        }

        /** Accuracy (%) of each class; NaN where the set has no record of it. */
        public double[] perClass() {
            return counts.perClass();
        }

        /** Records per confidence bin: bin b holds p in [b/BINS, (b+1)/BINS), the last also p = 1. */
        public long[] histogram() {
            return histogram.clone();
        }

        /** Mean true-label confidence; NaN for an empty set. */
        public double meanConfidence() {
            long n = records();
            return n == 0 ? Double.NaN : confidenceSum / n;
        }
    }

    /** A model's tallies on the three sets. */
    public record Profile(Tally forget, Tally retain, Tally test) implements Serializable {
    }

    /** The bin of confidence {@code p} (values outside [0, 1] are clamped). */
    public static int bin(double p) {
        return Math.max(0, Math.min(BINS - 1, (int) Math.floor(p * BINS)));
    }

    /**
     * The profile of {@code model}: forget and retain rows from {@code training} (each row's
     * forget flag), test rows from {@code test}.
     */
    public static Profile of(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> training, JavaRDD<Shard> test,
                             int batchSize, int classes, int treeDepth) {
        Tally[] train = tally(sc, model, training, batchSize, classes, treeDepth);
        Tally[] t = tally(sc, model, test, batchSize, classes, treeDepth);
        return new Profile(train[0], train[1], t[1]);
    }

    private static Tally[] tally(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> shards, int batchSize,
                                 int classes, int treeDepth) {
        return ShardAggregate.reduce(sc, model, shards, (network, partition, it) -> {
            Tally[] out = {new Tally(classes), new Tally(classes)};
            while (it.hasNext()) {
                Shard shard = it.next();
                Predictions.forEach(network.net(), shard, batchSize, classes, (row, label, predicted, p) ->
                        out[shard.forget(row) ? 0 : 1].add(label, predicted, p));
            }
            return Optional.of(out);
        }, (a, b) -> new Tally[] {a[0].merge(b[0]), a[1].merge(b[1])}, treeDepth);
    }

    /**
     * Total variation distance between the distributions of two histograms: half the sum of the
     * absolute differences of their bin fractions (0: identical, 1: disjoint); NaN if one is empty.
     */
    public static double totalVariation(long[] a, long[] b) {
        long na = 0;
        long nb = 0;
        for (int i = 0; i < a.length; i++) {
            na += a[i];
            nb += b[i];
        }
        if (na == 0 || nb == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((double) a[i] / na - (double) b[i] / nb);
        }
        return sum / 2;
    }

    /**
     * The plain-language reading of a run, one line per question: does the forget set's accuracy
     * look like unseen data's or like training data's; do its confidences (what the attack sees);
     * which classes lost the most; for class-wise forgetting, are the classes' test images still
     * recognised.
     */
    public static List<String> verdict(Profile before, Profile after, Set<Integer> forgottenClasses) {
        List<String> lines = new ArrayList<>();
        double f = after.forget().accuracy();
        double t = after.test().accuracy();
        double r = after.retain().accuracy();
        if (forgottenClasses.isEmpty()) {
            lines.add(String.format(Locale.ROOT, "Accuracy: the forget set is recognised at %.1f%% after unlearning (%.1f%%"
                    + " before), against %.1f%% for unseen test images and %.1f%% for the retain set: %s.", f,
                    before.forget().accuracy(), t, r, Math.abs(f - t) <= Math.abs(f - r)
                            ? "the forgotten records are recognised like unseen data"
                            : "the forgotten records are still recognised more like training data than like unseen data"));
        } else {
            double classTest = after.test().accuracyOf(forgottenClasses);
            lines.add(String.format(Locale.ROOT, "Accuracy: the forgotten classes' training records are recognised at"
                    + " %.1f%% after unlearning (%.1f%% before) and their unseen test images at %.1f%% (%.1f%% before);"
                    + " the retain set at %.1f%%. %s", f, before.forget().accuracy(), classTest,
                    before.test().accuracyOf(forgottenClasses), r, classTest < 100.0 / Math.max(2, after.forget().perClass().length)
                            ? "The classes are forgotten: the model no longer recognises them, seen or unseen."
                            : "The model still recognises the classes on unseen images: they are not forgotten."));
        }
        double toTest = totalVariation(after.forget().histogram(), after.test().histogram());
        double toRetain = totalVariation(after.forget().histogram(), after.retain().histogram());
        double wasTest = totalVariation(before.forget().histogram(), before.test().histogram());
        lines.add(String.format(Locale.ROOT, "Confidence (what a membership attack sees): the forget set's mean true-label"
                + " confidence is %.3f after (%.3f before), the test set's %.3f and the retain set's %.3f; its"
                + " distribution is at distance %.2f from the test set's (%.2f before) and %.2f from the retain set's"
                + " (total variation, 0 = identical): %s.", after.forget().meanConfidence(),
                before.forget().meanConfidence(), after.test().meanConfidence(), after.retain().meanConfidence(), toTest,
                wasTest, toRetain, toTest <= toRetain
                        ? "its confidences look more like unseen data's than like training data's"
                        : "its confidences still look more like training data's than like unseen data's")
                + (forgottenClasses.isEmpty() && after.forget().meanConfidence() < after.test().meanConfidence() - 0.05
                        ? " They are lower than unseen data's, which a model that never saw these records would not"
                        + " show: the unlearning may have gone too far (an attacker can spot them by their low"
                        + " confidence)." : ""));
        double[] was = before.forget().perClass();
        double[] is = after.forget().perClass();
        List<Integer> classes = new ArrayList<>();
        for (int c = 0; c < is.length; c++) {
            if (Double.isFinite(was[c]) && Double.isFinite(is[c])) {
                classes.add(c);
            }
        }
        classes.sort((a, b) -> Double.compare(is[a] - was[a], is[b] - was[b]));
        classes.removeIf(c -> !(is[c] < was[c]));
        if (classes.isEmpty()) {
            lines.add("Per class: the forget set's accuracy fell for no class.");
            return lines;
        }
        StringBuilder perClass = new StringBuilder("Per class: the forget set's accuracy fell most for ");
        for (int i = 0; i < Math.min(3, classes.size()); i++) {
            int c = classes.get(i);
            perClass.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "class %d (%.1f%% → %.1f%%)", c, was[c],
                    is[c]));
        }
        lines.add(perClass.append('.').toString());
        return lines;
    }
}
