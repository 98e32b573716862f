package io.salun.forget;

import io.salun.data.Example;
import io.salun.data.IdxSource;
import io.salun.spark.LocalSparkTest;
import org.apache.spark.api.java.JavaRDD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Forget/retain splits on Spark against hand computations. */
class ForgetSplitSparkTest extends LocalSparkTest {
    private static Set<Long> forgotten(ForgetSplit.Result split) {
        return new HashSet<>(split.flagged().filter(Example::forget).map(Example::id).collect());
    }

    @Test
    void randomSplitIsExactAndIndependentOfPartitioning() {
        ForgetSplit.Result one = ForgetSplit.apply(sc, IdxSource.read(sc, images, labels, 1), new ForgetSpec.Random(0.1), 7);
        ForgetSplit.Result five = ForgetSplit.apply(sc, IdxSource.read(sc, images, labels, 5), new ForgetSpec.Random(0.1), 7);
        assertEquals(300, one.forget());
        assertEquals(2700, one.retain());
        assertEquals(forgotten(one), forgotten(five));
        ForgetSplit.Result otherSeed = ForgetSplit.apply(sc, IdxSource.read(sc, images, labels, 2), new ForgetSpec.Random(0.1), 8);
        assertNotEquals(forgotten(one), forgotten(otherSeed));
        // a uniform sample hits every class of the slice
        Set<Integer> classes = new TreeSet<>(one.flagged().filter(Example::forget).map(Example::label).collect());
        assertEquals(10, classes.size());
    }

    @Test
    void classSplitTakesEveryRecordOfTheClass() {
        JavaRDD<Example> all = IdxSource.read(sc, images, labels, 3);
        long expected = all.filter(e -> e.label() == 3 || e.label() == 5).count();
        ForgetSplit.Result split = ForgetSplit.apply(sc, all, new ForgetSpec.Classes(Set.of(5, 3)), 1);
        assertEquals(expected, split.forget());
        assertEquals(3000 - expected, split.retain());
        assertTrue(split.flagged().filter(Example::forget).map(Example::label).collect().stream().allMatch(l -> l == 3 || l == 5));
        assertEquals("class3+5", new ForgetSpec.Classes(Set.of(5, 3)).scenario());
    }

    @Test
    void idSplitCountsUnknownIdsAndIgnoresDuplicates(@TempDir Path dir) throws IOException {
        Path ids = dir.resolve("ids.txt");
        // 4 distinct known IDs (one listed twice), 2 unknown, a comment and a blank line
        Files.write(ids, List.of("# deletion requests", "5", "17", "17", "2999", "0", "", "3000", "123456789"));
        ForgetSplit.Result split = ForgetSplit.apply(sc, IdxSource.read(sc, images, labels, 3),
                new ForgetSpec.Ids(ids.toString()), 1);
        assertEquals(4, split.forget());
        assertEquals(2996, split.retain());
        assertEquals(2, split.unknownIds());
        assertEquals(Set.of(0L, 5L, 17L, 2999L), forgotten(split));
        // the joined RDD is deterministic: the same order on a second evaluation
        assertEquals(split.flagged().map(Example::id).collect(), split.flagged().map(Example::id).collect());
    }
}
