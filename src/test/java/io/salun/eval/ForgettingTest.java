package io.salun.eval;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forgetting profile's tallies, distances and plain-language verdict on hand-made predictions. */
class ForgettingTest {
    /** A tally of {@code n} records of class {@code label}, {@code right} of them predicted right, all at confidence {@code p}. */
    private static Forgetting.Tally tally(int label, int n, int right, double p) {
        Forgetting.Tally t = new Forgetting.Tally(3);
        for (int i = 0; i < n; i++) {
            t.add(label, i < right ? label : (label + 1) % 3, p);
        }
        return t;
    }

    @Test
    void binsCoverZeroToOneWithTheLastClosed() {
        assertEquals(0, Forgetting.bin(0.0));
        assertEquals(0, Forgetting.bin(0.0499));
        assertEquals(1, Forgetting.bin(0.05));
        assertEquals(Forgetting.BINS - 1, Forgetting.bin(0.999));
        assertEquals(Forgetting.BINS - 1, Forgetting.bin(1.0));
        assertEquals(0, Forgetting.bin(-1e-9));
    }

    @Test
    void tallyCountsAccuracyPerClassHistogramAndMeanConfidence() {
        Forgetting.Tally t = tally(2, 10, 7, 0.93).merge(tally(0, 4, 1, 0.12));
        assertEquals(14, t.records());
        assertEquals(100.0 * 8 / 14, t.accuracy(), 1e-12);
        double[] perClass = t.perClass();
        assertEquals(25.0, perClass[0], 1e-12);
        assertTrue(Double.isNaN(perClass[1]));
        assertEquals(70.0, perClass[2], 1e-12);
        long[] h = t.histogram();
        assertEquals(10, h[Forgetting.bin(0.93)]);
        assertEquals(4, h[Forgetting.bin(0.12)]);
        assertEquals((10 * 0.93 + 4 * 0.12) / 14, t.meanConfidence(), 1e-12);
    }

    @Test
    void totalVariationIsHalfTheL1DistanceOfTheBinFractions() {
        long[] a = {2, 2, 0, 0};
        long[] b = {0, 1, 1, 2};
        // fractions .5 .5 0 0 against 0 .25 .25 .5: (0.5 + 0.25 + 0.25 + 0.5) / 2
        assertEquals(0.75, Forgetting.totalVariation(a, b), 1e-12);
        assertEquals(0.0, Forgetting.totalVariation(a, new long[] {5, 5, 0, 0}), 1e-12);
        assertEquals(1.0, Forgetting.totalVariation(new long[] {1, 0}, new long[] {0, 3}), 1e-12);
        assertTrue(Double.isNaN(Forgetting.totalVariation(a, new long[4])));
    }

    @Test
    void theVerdictSaysWhetherTheForgetSetLooksUnseenOrStillTrainedOn() {
        Forgetting.Profile before = new Forgetting.Profile(tally(1, 100, 99, 0.97), tally(1, 900, 891, 0.97),
                tally(1, 1000, 850, 0.8));
        Forgetting.Profile forgotten = new Forgetting.Profile(tally(1, 100, 86, 0.8), tally(1, 900, 891, 0.97),
                tally(1, 1000, 850, 0.8));
        List<String> yes = Forgetting.verdict(before, forgotten, Set.of());
        assertEquals(3, yes.size());
        assertTrue(yes.get(0).contains("recognised like unseen data"), yes.get(0));
        assertTrue(yes.get(1).contains("look more like unseen data's"), yes.get(1));
        assertTrue(yes.get(2).contains("class 1 (99.0% → 86.0%)"), yes.get(2));
        assertTrue(!yes.get(1).contains("too far"), yes.get(1));
        Forgetting.Profile overshot = new Forgetting.Profile(tally(1, 100, 80, 0.5), tally(1, 900, 891, 0.97),
                tally(1, 1000, 850, 0.8));
        assertTrue(Forgetting.verdict(before, overshot, Set.of()).get(1).contains("may have gone too far"));
        List<String> no = Forgetting.verdict(before, before, Set.of());
        assertTrue(no.get(0).contains("still recognised more like training data"), no.get(0));
        assertTrue(no.get(1).contains("still look more like training data's"), no.get(1));
        assertEquals("Per class: the forget set's accuracy fell for no class.", no.get(2));
    }
}
