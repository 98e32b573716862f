package io.salun.data;


import org.apache.spark.api.java.JavaRDD;

/**
 * Spark wiring of {@link UniformSelection}: one pass for the key histogram, one to fetch the
 * keys of the single bucket that holds the k-th key, then a filter or a flag. Only the histogram
 * and that bucket's keys reach the driver.
 */
public final class SelectionStage {
    private SelectionStage() {
    }

    /** The records of a seeded uniform sample of exactly {@code k} of them. */
    public static JavaRDD<Example> take(JavaRDD<Example> records, long seed, String stage, long k) {
        if (k <= 0) {
            return records.filter(e -> false);
        }
        long t = threshold(records, seed, stage, k);
        return records.filter(e -> UniformSelection.selected(UniformSelection.key(seed, stage, e.id()), t));
    }

    /** All records, those of a seeded uniform sample of exactly {@code k} flagged as forget-set members. */
    public static JavaRDD<Example> flag(JavaRDD<Example> records, long seed, String stage, long k) {
        if (k <= 0) {
            return records.map(e -> e.withForget(false));
        }
        long t = threshold(records, seed, stage, k);
        return records.map(e -> e.withForget(UniformSelection.selected(UniformSelection.key(seed, stage, e.id()), t)));
    }

    private static long threshold(JavaRDD<Example> records, long seed, String stage, long k) {
        JavaRDD<Long> keys = records.map(e -> UniformSelection.key(seed, stage, e.id()));
        UniformSelection.Histogram histogram = io.salun.spark.ShardAggregate.reduce(keys, (nothing, partition, it) -> {
            UniformSelection.Histogram h = new UniformSelection.Histogram();
            it.forEachRemaining(h::add);
            return java.util.Optional.of(h);
        }, UniformSelection.Histogram::merge, 2);
        if (k > histogram.total()) {
            throw new IllegalArgumentException("cannot select " + k + " of " + histogram.total() + " records");
        }
        UniformSelection.Locus locus = UniformSelection.locate(histogram, k);
        int bucket = locus.bucket();
        long[] inBucket = keys.filter(key -> UniformSelection.bucket(key) == bucket)
                .collect().stream().mapToLong(Long::longValue).toArray();
        return UniformSelection.threshold(inBucket, locus);
    }
}
