package io.salun.eval;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-class accuracy tallies against hand-counted numbers. */
class ClassCountsTest {

    /**
     * Class 0: 3 of 4 right; class 1: 1 of 2 right; class 2: 0 of 3 right; class 3: never seen.
     * Overall 4 of 9.
     */
    private static ClassCounts example() {
        return ClassCounts.empty(4)
                .add(0, 0).add(0, 0).add(0, 0).add(0, 2)
                .add(1, 1).add(1, 3)
                .add(2, 0).add(2, 1).add(2, 3);
    }

    @Test
    void accuracyOverEveryClass() {
        ClassCounts counts = example();
        assertEquals(9, counts.total());
        assertEquals(100.0 * 4 / 9, counts.accuracy(), 1e-12);
    }

    @Test
    void accuracyOfChosenClasses() {
        ClassCounts counts = example();
        assertEquals(75.0, counts.accuracyOf(Set.of(0)), 1e-12);
        assertEquals(100.0 * 4 / 6, counts.accuracyOf(Set.of(0, 1)), 1e-12);
        assertEquals(0.0, counts.accuracyOf(Set.of(2)), 1e-12);
        // a class with no examples contributes nothing, it does not count as 0 %
        assertEquals(50.0, counts.accuracyOf(Set.of(1, 3)), 1e-12);
    }

    @Test
    void accuracyExcludingClasses() {
        ClassCounts counts = example();
        // without class 2: 4 of 6
        assertEquals(100.0 * 4 / 6, counts.accuracyExcluding(Set.of(2)), 1e-12);
        // without class 0: 1 of 5
        assertEquals(20.0, counts.accuracyExcluding(Set.of(0)), 1e-12);
        assertEquals(counts.accuracy(), counts.accuracyExcluding(Set.of()), 0.0);
        // the two halves weigh back to the whole
        double of = counts.accuracyOf(Set.of(0, 3));
        double excluding = counts.accuracyExcluding(Set.of(0, 3));
        assertEquals(counts.accuracy(), (of * 4 + excluding * 5) / 9, 1e-12);
    }

    @Test
    void nothingCountedIsNaN() {
        ClassCounts empty = ClassCounts.empty(3);
        assertEquals(0, empty.total());
        assertTrue(Double.isNaN(empty.accuracy()));
        ClassCounts counts = example();
        assertTrue(Double.isNaN(counts.accuracyOf(Set.of(3))), "class 3 has no examples");
        assertTrue(Double.isNaN(counts.accuracyOf(Set.of())));
        assertTrue(Double.isNaN(counts.accuracyExcluding(Set.of(0, 1, 2, 3))));
    }

    @Test
    void mergeEqualsCountingEverythingInOne() {
        ClassCounts left = ClassCounts.empty(4).add(0, 0).add(0, 0).add(1, 3).add(2, 0);
        ClassCounts right = ClassCounts.empty(4).add(0, 0).add(0, 2).add(1, 1).add(2, 1).add(2, 3);
        ClassCounts merged = left.merge(right);
        ClassCounts whole = example();
        assertEquals(whole.total(), merged.total());
        assertEquals(whole.accuracy(), merged.accuracy(), 0.0);
        for (int c = 0; c < 4; c++) {
            Set<Integer> one = Set.of(c);
            assertEquals(whole.accuracyOf(one), merged.accuracyOf(one), 0.0, "class " + c);
        }
        // merging an empty aggregate changes nothing
        assertEquals(whole.accuracy(), example().merge(ClassCounts.empty(4)).accuracy(), 0.0);
    }

    @Test
    void mergeOfDifferentClassCountsIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> ClassCounts.empty(3).merge(ClassCounts.empty(4)));
    }
}
