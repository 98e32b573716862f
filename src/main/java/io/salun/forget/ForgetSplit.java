package io.salun.forget;

import io.salun.data.Example;
import io.salun.data.SelectionStage;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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

    /**
     * The flagged training set and the counts a report needs; {@code excluded}: records left out
     * because an earlier run forgot them (scheduled runs).
     */
    public record Result(JavaRDD<Example> flagged, long forget, long retain, long unknownIds, long excluded) {
    }

    /** Flags the records of {@code training}, whose IDs are their keys (as IDX records' are). */
    public static Result apply(JavaSparkContext sc, JavaRDD<Example> training, ForgetSpec spec, long seed) {
        return apply(sc, training, io.salun.data.Datasets.keysAsIds(training), spec, seed);
    }

    /**
     * Flags the records of {@code training} that {@code spec} selects. {@code idTable} maps the
     * records' IDs as the data stores them (column {@code id}) to their keys ({@code key},
     * {@link Example#id()}); only the ids scenario reads it.
     */
    public static Result apply(JavaSparkContext sc, JavaRDD<Example> training, Dataset<Row> idTable, ForgetSpec spec,
                               long seed) {
        JavaRDD<Example> flagged;
        long unknown = 0;
        long excluded = 0;
        if (spec instanceof ForgetSpec.Random random) {
            long total = training.count();
            long k = Math.round(random.fraction() * total);
            flagged = SelectionStage.flag(training, seed, "forget-random", k);
        } else if (spec instanceof ForgetSpec.Classes classes) {
            Set<Integer> labels = classes.labels();
            flagged = training.map(e -> e.withForget(labels.contains(e.label())));
        } else if (spec instanceof ForgetSpec.Ids ids) {
            // Spark SQL: Df's keys are the left-semi join of the training IDs with the deletion list,
            // the unknown IDs its left-anti join the other way; duplicates vanish in both. With a
            // time window, requests before it were forgotten by an earlier run: their records are
            // left out (the same semi join), and only the window's requests are forgotten now.
            SparkSession spark = SparkSession.builder().config(sc.getConf()).getOrCreate();
            Dataset<Row> list = DeletionList.read(spark, ids, idTable.schema().apply("id").dataType());
            Dataset<Row> requested = list;
            Dataset<Row> earlier = null;
            if (ids.upToMicros().isPresent()) {
                Column inWindow = functions.col("micros").leq(ids.upToMicros().getAsLong());
                if (ids.afterMicros().isPresent()) {
                    inWindow = inWindow.and(functions.col("micros").gt(ids.afterMicros().getAsLong()));
                    earlier = list.filter(functions.col("micros").leq(ids.afterMicros().getAsLong())).select("id");
                }
                requested = list.filter(inWindow);
            }
            requested = requested.select("id");
            Column sameId = idTable.col("id").equalTo(requested.col("id"));
            JavaPairRDD<Long, Boolean> wanted = idTable.join(requested, sameId, "left_semi").select("key")
                    .javaRDD().mapToPair(r -> new Tuple2<>(r.getLong(0), Boolean.TRUE));
            unknown = requested.join(idTable, sameId, "left_anti").select(requested.col("id")).distinct().count();
            if (earlier != null) {
                // FALSE: forgotten before, left out now (it wins over a repeated request)
                Dataset<Row> before = earlier;
                JavaPairRDD<Long, Boolean> gone = idTable.join(before, idTable.col("id").equalTo(before.col("id")), "left_semi")
                        .select("key").javaRDD().mapToPair(r -> new Tuple2<>(r.getLong(0), Boolean.FALSE));
                wanted = wanted.union(gone).reduceByKey((a, b) -> a && b);
                excluded = gone.keys().distinct().count();
            }
            int partitions = training.getNumPartitions();
            flagged = training.mapToPair(e -> new Tuple2<>(e.id(), e))
                    .leftOuterJoin(wanted)
                    .filter(t -> t._2()._2().orElse(Boolean.TRUE))
                    .mapToPair(t -> new Tuple2<>(t._1(), t._2()._1().withForget(t._2()._2().isPresent())))
                    // a shuffle's output order varies between runs; sorting by key makes it deterministic
                    .repartitionAndSortWithinPartitions(new HashPartitioner(partitions))
                    .values();
        } else {
            throw new IllegalArgumentException("unknown forget spec " + spec);
        }
        flagged = flagged.setName("training set flagged for " + spec.scenario());
        long[] counts = flagged.aggregate(new long[2], (c, e) -> {
            c[e.forget() ? 0 : 1]++;
            return c;
        }, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        return new Result(flagged, counts[0], counts[1], unknown, excluded);
    }
}
