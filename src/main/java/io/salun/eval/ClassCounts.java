package io.salun.eval;

import java.io.Serializable;
import java.util.Set;

/**
 * Per-class tallies of correct predictions and the summed cross-entropy of the true labels
 * (aggregator shape: {@link #add}, {@link #merge}). Accuracy in percent = 100 · correct / total
 * over the chosen classes; mean loss = Σ −ln p(y|x) / total.
 */
public final class ClassCounts implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long[] correct;
    private final long[] total;
    private double lossSum;

    private ClassCounts(int classes) {
        this.correct = new long[classes];
        this.total = new long[classes];
    }

    public static ClassCounts empty(int classes) {
        return new ClassCounts(classes);
    }

    /** Records one prediction. */
    public ClassCounts add(int trueLabel, int predicted) {
        total[trueLabel]++;
        if (trueLabel == predicted) {
            correct[trueLabel]++;
        }
        return this;
    }

    /** Records one prediction and its cross-entropy {@code −ln p(trueLabel | x)}. */
    public ClassCounts add(int trueLabel, int predicted, double loss) {
        lossSum += loss;
        return add(trueLabel, predicted);
    }

    public ClassCounts merge(ClassCounts other) {
        if (other.total.length != total.length) {
            throw new IllegalArgumentException("cannot merge counts over " + total.length + " and "
                    + other.total.length + " classes");
        }
        for (int c = 0; c < total.length; c++) {
            correct[c] += other.correct[c];
            total[c] += other.total[c];
        }
        lossSum += other.lossSum;
        return this;
    }

    public long total() {
        long t = 0;
        for (long v : total) {
            t += v;
        }
        return t;
    }

    /** Mean cross-entropy of the true labels; NaN when there is nothing to count. */
    public double meanLoss() {
        long n = total();
        return n == 0 ? Double.NaN : lossSum / n;
    }

    /** Accuracy (%) of each class; NaN for a class with no records. */
    public double[] perClass() {
        double[] out = new double[total.length];
        for (int c = 0; c < total.length; c++) {
            out[c] = total[c] == 0 ? Double.NaN : 100.0 * correct[c] / total[c];
        }
        return out;
    }

    /** Records per class. */
    public long[] totals() {
        return total.clone();
    }

    /** Accuracy (%) over every class; NaN when there is nothing to count. */
    public double accuracy() {
        return accuracy(c -> true);
    }

    /** Accuracy (%) over the classes in {@code classes}. */
    public double accuracyOf(Set<Integer> classes) {
        return accuracy(classes::contains);
    }

    /** Accuracy (%) over the classes not in {@code classes}. */
    public double accuracyExcluding(Set<Integer> classes) {
        return accuracy(c -> !classes.contains(c));
    }

    private double accuracy(java.util.function.IntPredicate include) {
        long right = 0;
        long all = 0;
        for (int c = 0; c < total.length; c++) {
            if (include.test(c)) {
                right += correct[c];
                all += total[c];
            }
        }
        return all == 0 ? Double.NaN : 100.0 * right / all;
    }
}
