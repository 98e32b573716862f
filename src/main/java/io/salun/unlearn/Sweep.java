package io.salun.unlearn;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A method's hyper-parameter search in {@code benchmark}: points (learning rate, epochs) on a grid,
 * each run once per seed; a point's score is its Avg. Gap to Retrain computed per seed (each seed
 * against its own Retrain) and then averaged; the best point has the smallest mean gap among those
 * that failed on no seed. A best point on the edge of what was tried extends the search one
 * geometric step beyond that edge ({@link #extension}), so a winner is never a grid's artefact.
 */
public final class Sweep {
    private Sweep() {
    }

    /** A learning rate and a number of epochs. */
    public record Point(double lr, int epochs) {
        @Override
        public String toString() {
            return "lr " + lr + ", " + epochs + " epochs";
        }
    }

    /** One point's trials, one per seed, in the order of the seeds. */
    public record PointResult(Point point, List<BenchmarkReport.Trial> trials) {
        /** Whether the point gave no model to compare on some seed (diverged, or changed nothing). */
        public boolean failed() {
            return trials.stream().anyMatch(BenchmarkReport.Trial::failed);
        }

        /** The Avg. Gap averaged over the seeds (each seed's gap to its own Retrain); NaN if it failed. */
        public double meanGap() {
            return failed() ? Double.NaN : mean(trials.stream().map(BenchmarkReport.Trial::gap).toList());
        }

        /** The sample standard deviation of the per-seed gaps (0 for one seed); NaN if it failed. */
        public double gapStd() {
            return failed() ? Double.NaN : std(trials.stream().map(BenchmarkReport.Trial::gap).toList());
        }
    }

    /** Every (lr, epochs) pair of the two axes, learning rates outermost. */
    public static List<Point> grid(List<Double> lrs, List<Integer> epochs) {
        List<Point> points = new ArrayList<>();
        for (double lr : lrs) {
            for (int e : epochs) {
                points.add(new Point(lr, e));
            }
        }
        return points;
    }

    /** The point with the smallest mean gap among those that did not fail (the first on a tie). */
    public static Optional<PointResult> best(List<PointResult> results) {
        return results.stream().filter(r -> !r.failed()).min(Comparator.comparingDouble(PointResult::meanGap));
    }

    /**
     * The points that extend the search when {@code best} sits on the edge of what was tried:
     * along the learning rates tried at its number of epochs, one step beyond its end by the ratio
     * of the last two (0.01 after 0.03, 0.1 → 0.0033 …, rounded to three significant digits); along
     * the epochs tried at its learning rate, likewise (10 after 5 → 20; 3 before 5 → 2, never
     * below 1). An axis with a single value tried, or where the best is inside, adds nothing;
     * neither does a point already tried.
     */
    public static List<Point> extension(List<Point> tried, Point best) {
        List<Point> out = new ArrayList<>();
        TreeSet<Double> lrs = new TreeSet<>();
        TreeSet<Integer> epochs = new TreeSet<>();
        for (Point p : tried) {
            if (p.epochs() == best.epochs()) {
                lrs.add(p.lr());
            }
            if (p.lr() == best.lr()) {
                epochs.add(p.epochs());
            }
        }
        if (lrs.size() >= 2) {
            if (best.lr() == lrs.last()) {
                out.add(new Point(round3(lrs.last() * lrs.last() / lrs.lower(lrs.last())), best.epochs()));
            } else if (best.lr() == lrs.first()) {
                out.add(new Point(round3(lrs.first() * lrs.first() / lrs.higher(lrs.first())), best.epochs()));
            }
        }
        if (epochs.size() >= 2) {
            if (best.epochs() == epochs.last()) {
                long e = Math.round((double) epochs.last() * epochs.last() / epochs.lower(epochs.last()));
                out.add(new Point(best.lr(), (int) Math.min(e, 100_000)));
            } else if (best.epochs() == epochs.first()) {
                long e = Math.round((double) epochs.first() * epochs.first() / epochs.higher(epochs.first()));
                if (e >= 1 && e < epochs.first()) {
                    out.add(new Point(best.lr(), (int) e));
                }
            }
        }
        out.removeIf(tried::contains);
        return out;
    }

    static double round3(double v) {
        return new BigDecimal(v).round(new MathContext(3)).doubleValue();
    }

    /** The mean of {@code values}. */
    public static double mean(List<Double> values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.size();
    }

    /** The sample standard deviation of {@code values} (n − 1 in the denominator; 0 for one value). */
    public static double std(List<Double> values) {
        if (values.size() < 2) {
            return 0;
        }
        double m = mean(values);
        double sum = 0;
        for (double v : values) {
            sum += (v - m) * (v - m);
        }
        return Math.sqrt(sum / (values.size() - 1));
    }
}
