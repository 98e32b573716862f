package io.salun.forget;

import io.salun.config.InvalidInputException;
import io.salun.data.Example;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

import java.util.Set;

/**
 * Splits a training set into forget set {@code Df} and retain set {@code Dr} on Spark: every
 * record is flagged ({@link Example#forget()}), so Df and Dr are two filters of one RDD and the
 * random-label stream can mix them within a partition.
 */
public final class ForgetSplit {
    private ForgetSplit() {
    }

    /** The flagged training set and the counts a report needs. */
    public record Result(JavaRDD<Example> flagged, long forget, long retain, long unknownIds) {
    }

    public static Result apply(JavaSparkContext sc, JavaRDD<Example> training, ForgetSpec spec, long seed) {
        JavaRDD<Example> flagged;
        long unknown = 0;
        if (spec instanceof ForgetSpec.Random random) {
            long total = training.count();
            long k = Math.round(random.fraction() * total);
            flagged = UniformSample.flag(training, seed, "forget-random", k);
        } else if (spec instanceof ForgetSpec.Classes classes) {
            Set<Integer> labels = classes.labels();
            flagged = training.map(e -> e.withForget(labels.contains(e.label())));
        } else if (spec instanceof ForgetSpec.Ids ids) {
            JavaRDD<Long> requested = readIds(sc, ids.uri()).distinct();
            JavaPairRDD<Long, Boolean> wanted = requested.mapToPair(id -> new Tuple2<>(id, Boolean.TRUE));
            int partitions = training.getNumPartitions();
            flagged = training.mapToPair(e -> new Tuple2<>(e.id(), e))
                    .leftOuterJoin(wanted)
                    .mapToPair(t -> new Tuple2<>(t._1(), t._2()._1().withForget(t._2()._2().isPresent())))
                    // a shuffle's output order varies between runs; sorting by ID makes it deterministic
                    .repartitionAndSortWithinPartitions(new HashPartitioner(partitions))
                    .values();
            unknown = requested.subtract(training.map(Example::id)).count();
        } else {
            throw new IllegalArgumentException("unknown forget spec " + spec);
        }
        flagged = flagged.setName("training set flagged for " + spec.scenario());
        long[] counts = flagged.aggregate(new long[2], (c, e) -> {
            c[e.forget() ? 0 : 1]++;
            return c;
        }, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        return new Result(flagged, counts[0], counts[1], unknown);
    }

    private static JavaRDD<Long> readIds(JavaSparkContext sc, String uri) {
        return sc.textFile(uri).map(String::trim).filter(line -> !line.isEmpty() && !line.startsWith("#")).map(line -> {
            try {
                return Long.parseLong(line);
            } catch (NumberFormatException e) {
                // the ID list is sensitive: name the file, not the line's content
                throw new InvalidInputException("forget.ids: " + uri + " must hold one integer record ID per line;"
                        + " found a line that is not an integer");
            }
        });
    }
}
