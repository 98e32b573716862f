package io.salun.spark;

import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/**
 * The one piece of Spark wiring every distributed stage uses, in the shape of Spark ML's
 * {@code RDDLossFunction}: broadcast what the tasks share (a network, an attacker) → run a
 * per-partition kernel on the executors, each task first bound to its device → combine the
 * partials with {@code treeReduce(depth)} (or collect them in partition order) → destroy the
 * broadcast in {@code finally}. Kernels are plain functions of the broadcast value, the
 * partition's index and its records, so a retried task recomputes the same partial; the
 * arithmetic lives in them and in the merge, never here.
 */
public final class ShardAggregate {
    private ShardAggregate() {
    }

    /**
     * What one partition contributes: its partial, or nothing (a partition without records), so
     * the merge sees exactly the partials that exist.
     */
    @FunctionalInterface
    public interface Kernel<B, T, R> extends Serializable {
        Optional<R> apply(B shared, int partition, Iterator<T> records) throws Exception;
    }

    /**
     * The partials of every partition of {@code data}, merged by {@code treeReduce} of depth
     * {@code depth}; {@code shared} travels to the executors as one broadcast.
     *
     * @throws IllegalArgumentException if no partition contributed a partial
     */
    public static <B, T, R> R reduce(JavaSparkContext sc, B shared, JavaRDD<T> data, Kernel<B, T, R> kernel,
                                     Function2<R, R, R> merge, int depth) {
        Broadcast<B> b = sc.broadcast(shared);
        try {
            return partials(data, kernel, b::value, true).treeReduce(merge, depth);
        } finally {
            b.destroy();
        }
    }

    /**
     * As {@link #reduce}, with the last merge on an executor too: the partials are merged in the
     * same tree as {@code treeReduce(depth)} builds (fan-in {@code max(2, ⌈P^(1/depth)⌉)}), but
     * its final level is one more task instead of the driver, which then receives a single
     * {@code finish}ed value. For partials the size of the network (parameter averaging on an 11 M
     * parameter ResNet) this keeps the driver to one copy of the result instead of one per
     * top-level partial plus the merged one. One partition goes straight to {@code finish},
     * without a shuffle.
     *
     * @throws IllegalArgumentException if no partition contributed a partial
     */
    public static <B, T, R> R reduceOnExecutors(JavaSparkContext sc, B shared, JavaRDD<T> data, Kernel<B, T, R> kernel,
                                                Function2<R, R, R> merge,
                                                Function<R, R> finish, int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException("tree depth >= 1 expected, found " + depth);
        }
        Broadcast<B> b = sc.broadcast(shared);
        try {
            JavaRDD<R> level = partials(data, kernel, b::value, true);
            int n = level.getNumPartitions();
            int scale = Math.max((int) Math.ceil(Math.pow(n, 1.0 / depth)), 2);
            while (n > 1) {
                int next = n > scale + (n + scale - 1) / scale ? (n + scale - 1) / scale : 1;
                level = mergeInto(level, merge, next);
                n = next;
            }
            List<R> out = level.map(finish).collect();
            if (out.isEmpty()) {
                throw new IllegalArgumentException("no partition contributed a partial");
            }
            return out.get(0);
        } finally {
            b.destroy();
        }
    }

    /** One level of the tree: partition {@code i}'s partials merged, then into partition {@code i mod m}. */
    private static <R> JavaRDD<R> mergeInto(JavaRDD<R> level, Function2<R, R, R> merge, int m) {
        return level.mapPartitionsWithIndex((i, it) -> {
            if (!it.hasNext()) {
                return Collections.<Tuple2<Integer, R>>emptyIterator();
            }
            R acc = it.next();
            while (it.hasNext()) {
                acc = merge.call(acc, it.next());
            }
            return List.of(new Tuple2<>(i % m, acc)).iterator();
        }, false).mapToPair(t -> t).reduceByKey(new HashPartitioner(m), merge).values();
    }

    /**
     * As {@link #reduce}, for kernels of plain data (no ND4J work, so no device to bind) that need
     * nothing broadcast.
     */
    public static <T, R> R reduce(JavaRDD<T> data, Kernel<Nothing, T, R> kernel, Function2<R, R, R> merge, int depth) {
        return partials(data, kernel, () -> Nothing.INSTANCE, false).treeReduce(merge, depth);
    }

    /**
     * Every partition's outputs, concatenated in partition order (for what the driver needs whole:
     * the attack's small training sample, generated images).
     */
    public static <B, T, R> List<R> collect(JavaSparkContext sc, B shared, JavaRDD<T> data,
                                            Kernel<B, T, List<R>> kernel) {
        Broadcast<B> b = sc.broadcast(shared);
        try {
            List<List<R>> parts = partials(data, kernel, b::value, true).collect();
            List<R> all = new ArrayList<>();
            parts.forEach(all::addAll);
            return all;
        } finally {
            b.destroy();
        }
    }

    /** Where a task finds the shared value: a broadcast's, or {@link Nothing}. */
    @FunctionalInterface
    private interface Shared<B> extends Serializable {
        B get();
    }

    private static <B, T, R> JavaRDD<R> partials(JavaRDD<T> data, Kernel<B, T, R> kernel, Shared<B> shared,
                                                 boolean bindDevice) {
        return data.mapPartitionsWithIndex((partition, records) -> {
            if (bindDevice) {
                Devices.bindTask();
            }
            Optional<R> partial = kernel.apply(shared.get(), partition, records);
            return partial.map(List::of).orElse(List.of()).iterator();
        }, false);
    }

    /** The broadcast value of a kernel that shares nothing. */
    public enum Nothing {
        INSTANCE
    }
}
