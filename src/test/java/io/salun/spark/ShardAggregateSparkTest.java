package io.salun.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The one aggregation helper against a local fold of the same kernel: the tree-reduced partials
 * equal the kernel applied to each partition on the driver and merged, whatever the partitioning
 * and tree depth; partitions that contribute nothing are left out; collected outputs come in
 * partition order.
 */
class ShardAggregateSparkTest {
    private static SparkSession spark;
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("shard-aggregate");
        sc = LocalSpark.context(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Per partition: {count, Σ shared·x, Σ x², partition index + 1}, of integer records. */
    private static final ShardAggregate.Kernel<Long, Integer, long[]> KERNEL = (factor, partition, records) -> {
        if (!records.hasNext()) {
            return Optional.empty();
        }
        long[] acc = new long[4];
        while (records.hasNext()) {
            long x = records.next();
            acc[0]++;
            acc[1] += factor * x;
            acc[2] += x * x;
        }
        acc[3] = partition + 1;
        return Optional.of(acc);
    };

    private static long[] merge(long[] a, long[] b) {
        return new long[] {a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]};
    }

    /** The same kernel run on the driver over each partition's records, merged left to right. */
    private static long[] localFold(List<List<Integer>> partitions, long factor) throws Exception {
        long[] total = null;
        for (int p = 0; p < partitions.size(); p++) {
            Optional<long[]> partial = KERNEL.apply(factor, p, partitions.get(p).iterator());
            if (partial.isPresent()) {
                total = total == null ? partial.get() : merge(total, partial.get());
            }
        }
        return total;
    }

    @Test
    void reduceEqualsTheLocalFoldForAnyPartitioningAndDepth() throws Exception {
        List<Integer> records = IntStream.range(0, 1000).map(i -> (i * 37) % 211 - 100).boxed().toList();
        for (int partitions : new int[] {1, 3, 8}) {
            JavaRDD<Integer> rdd = sc.parallelize(records, partitions);
            List<List<Integer>> local = rdd.glom().collect();
            for (int depth : new int[] {1, 2, 4}) {
                long[] distributed = ShardAggregate.reduce(sc, 7L, rdd, KERNEL, ShardAggregateSparkTest::merge, depth);
                assertEquals(java.util.Arrays.toString(localFold(local, 7L)), java.util.Arrays.toString(distributed),
                        partitions + " partitions, depth " + depth);
            }
        }
    }

    /**
     * The tree on the executors merges every partial exactly once whatever the partitioning and
     * depth (the partition-index sum tells a lost or doubled partial), and the driver receives one
     * value that went through {@code finish} once.
     */
    @Test
    void reduceOnExecutorsEqualsTheLocalFoldAndFinishesOnce() throws Exception {
        List<Integer> records = IntStream.range(0, 2000).map(i -> (i * 37) % 211 - 100).boxed().toList();
        for (int partitions : new int[] {1, 2, 3, 5, 16, 101}) {
            JavaRDD<Integer> rdd = sc.parallelize(records, partitions);
            List<List<Integer>> local = rdd.glom().collect();
            long[] expected = localFold(local, 3L);
            for (int depth : new int[] {1, 2, 3}) {
                long[] distributed = ShardAggregate.reduceOnExecutors(sc, 3L, rdd, KERNEL, ShardAggregateSparkTest::merge,
                        a -> new long[] {a[0], a[1], a[2], a[3], -1}, depth);
                assertEquals(java.util.Arrays.toString(expected).replace("]", ", -1]"), java.util.Arrays.toString(distributed),
                        partitions + " partitions, depth " + depth);
            }
        }
        JavaRDD<Integer> sparse = sc.parallelize(List.of(5, 9), 6);
        assertEquals(14, ShardAggregate.reduceOnExecutors(sc, 1L, sparse, KERNEL, ShardAggregateSparkTest::merge,
                a -> a, 2)[1], "two contributing partitions of six");
        JavaRDD<Integer> none = sc.parallelize(List.<Integer>of(), 3);
        assertThrows(IllegalArgumentException.class, () -> ShardAggregate.reduceOnExecutors(sc, 1L, none, KERNEL,
                ShardAggregateSparkTest::merge, a -> a, 2));
    }

    @Test
    void emptyPartitionsContributeNothing() throws Exception {
        // 2 records over 6 partitions: four partitions are empty; their kernel returns nothing
        JavaRDD<Integer> rdd = sc.parallelize(List.of(5, 9), 6);
        long[] result = ShardAggregate.reduce(sc, 1L, rdd, KERNEL, ShardAggregateSparkTest::merge, 2);
        assertEquals(2, result[0]);
        assertEquals(14, result[1]);
        assertEquals(localFold(rdd.glom().collect(), 1L)[3], result[3], "partition indices of the contributing partials");
        JavaRDD<Integer> none = sc.parallelize(List.<Integer>of(), 3);
        assertThrows(UnsupportedOperationException.class,
                () -> ShardAggregate.reduce(sc, 1L, none, KERNEL, ShardAggregateSparkTest::merge, 2));
    }

    @Test
    void collectKeepsPartitionOrderAndTheBroadcastValue() {
        List<Integer> records = IntStream.range(0, 100).boxed().toList();
        JavaRDD<Integer> rdd = sc.parallelize(records, 7);
        List<String> out = ShardAggregate.collect(sc, "x", rdd, (prefix, partition, it) -> {
            List<String> tagged = new ArrayList<>();
            it.forEachRemaining(r -> tagged.add(prefix + r));
            return Optional.of(tagged);
        });
        assertEquals(records.stream().map(r -> "x" + r).toList(), out);
    }

    @Test
    void aKernelWithoutBroadcastFoldsPlainData() throws Exception {
        JavaRDD<Integer> rdd = sc.parallelize(IntStream.range(1, 501).boxed().toList(), 5);
        long[] result = ShardAggregate.reduce(rdd, (nothing, partition, it) -> KERNEL.apply(1L, partition, it),
                ShardAggregateSparkTest::merge, 2);
        assertEquals(500, result[0]);
        assertEquals(500L * 501 / 2, result[1]);
        assertEquals(500L * 501 * 1001 / 6, result[2]);
    }
}
