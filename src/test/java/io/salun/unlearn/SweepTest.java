package io.salun.unlearn;

import io.salun.eval.Metrics;
import io.salun.unlearn.BenchmarkReport.Trial;
import io.salun.unlearn.Sweep.Point;
import io.salun.unlearn.Sweep.PointResult;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's search: selection by the per-seed gap's mean, and the extension past an edge. */
class SweepTest {
    private static Trial trial(Point p, long seed, double gap) {
        TrialOutcome<Metrics> o = new TrialOutcome<>("salun", true, null, 1, List.of(), new Metrics(gap, 0, 0, 0, Double.NaN));
        return new Trial("salun", p.lr(), p.epochs(), seed, Optional.of(o), gap, 0, false, false);
    }

    private static Trial diverged(Point p, long seed) {
        return new Trial("salun", p.lr(), p.epochs(), seed, Optional.empty(), Double.NaN, 0, true, false);
    }

    @Test
    void theBestPointHasTheSmallestMeanOfItsPerSeedGapsAndNoFailedSeed() {
        Random random = new Random(7);
        List<PointResult> results = new ArrayList<>();
        double bestMean = Double.POSITIVE_INFINITY;
        Point expected = null;
        for (Point p : Sweep.grid(List.of(0.001, 0.003, 0.01, 0.03, 0.1), List.of(3, 5, 10))) {
            List<Trial> trials = new ArrayList<>();
            double sum = 0;
            boolean fails = random.nextInt(5) == 0;
            for (long seed = 1; seed <= 3; seed++) {
                double gap = random.nextDouble() * 10;
                sum += gap;
                trials.add(fails && seed == 2 ? diverged(p, seed) : trial(p, seed, gap));
            }
            results.add(new PointResult(p, trials));
            if (!fails && sum / 3 < bestMean) {
                bestMean = sum / 3;
                expected = p;
            }
        }
        assertEquals(15, results.size());
        PointResult best = Sweep.best(results).orElseThrow();
        assertEquals(expected, best.point());
        assertEquals(bestMean, best.meanGap(), 1e-12);
        assertTrue(results.stream().filter(PointResult::failed).allMatch(r -> Double.isNaN(r.meanGap())));
    }

    @Test
    void meanAndSampleStandardDeviationMatchTheirDefinitions() {
        List<Double> v = List.of(2.0, 4.0, 9.0);
        assertEquals(5.0, Sweep.mean(v), 0);
        // ((2-5)^2 + (4-5)^2 + (9-5)^2) / (3-1) = 13
        assertEquals(Math.sqrt(13), Sweep.std(v), 1e-12);
        assertEquals(0.0, Sweep.std(List.of(3.0)), 0);
    }

    @Test
    void aBestPointOnAnEdgeExtendsTheGridOneGeometricStepAlongThatAxis() {
        List<Point> grid = Sweep.grid(List.of(0.001, 0.003, 0.01, 0.03, 0.1), List.of(3, 5, 10));
        // highest lr and most epochs: one step up on each axis
        assertEquals(List.of(new Point(0.333, 10), new Point(0.1, 20)), Sweep.extension(grid, new Point(0.1, 10)));
        // lowest lr, fewest epochs: 0.001 * 0.001 / 0.003 and 3 * 3 / 5 rounded
        assertEquals(List.of(new Point(0.000333, 3), new Point(0.001, 2)), Sweep.extension(grid, new Point(0.001, 3)));
        // inside on both axes: nothing
        assertTrue(Sweep.extension(grid, new Point(0.01, 5)).isEmpty());
        // a single value on an axis is no edge; a point already tried is not added again
        List<Point> one = Sweep.grid(List.of(0.01, 0.1), List.of(3));
        assertEquals(List.of(new Point(1.0, 3)), Sweep.extension(one, new Point(0.1, 3)));
        List<Point> extended = new ArrayList<>(one);
        extended.add(new Point(1.0, 3));
        assertTrue(Sweep.extension(extended, new Point(0.1, 3)).isEmpty());
        assertEquals(List.of(new Point(10.0, 3)), Sweep.extension(extended, new Point(1.0, 3)));
        // never below one epoch
        assertTrue(Sweep.extension(Sweep.grid(List.of(0.1), List.of(1, 2)), new Point(0.1, 1)).isEmpty());
    }
}
