package io.salun.data;

import io.salun.config.InvalidInputException;
import io.salun.model.ModelStore;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * A labelled image table in Parquet as an RDD of {@link Example}s: columns {@code id} (string or
 * integer, unique), {@code label} (integer) and either {@code features} (array of float or double,
 * {@code height·width·channels} values) or {@code image} (binary: a PNG, or raw 8-bit pixels).
 *
 * <p>Every record gets a 64-bit key, the ID every stage selects and sorts by: an integer ID is its
 * own key; string IDs are numbered in sorted order (a rank, so keys are distinct whatever the
 * strings). The records are hash-partitioned by key and sorted within each partition, so partition
 * contents and order are the same on every run, whatever the Parquet files' layout.
 */
public final class ParquetSource {
    private ParquetSource() {
    }

    /** The records, and the table of {@code id} (as stored) against {@code key} that deletion lists join with. */
    public record Table(JavaRDD<Example> examples, Dataset<Row> ids, long count) {
    }

    private static final List<DataType> INTEGER_TYPES = List.of(DataTypes.LongType, DataTypes.IntegerType,
            DataTypes.ShortType, DataTypes.ByteType);

    public static Table read(SparkSession spark, String uri, String setting, ImageShape shape, int partitions) {
        if (!ModelStore.exists(uri, spark.sparkContext().hadoopConfiguration())) {
            throw new InvalidInputException(setting + ": no Parquet table at " + uri);
        }
        Dataset<Row> df;
        try {
            df = spark.read().parquet(uri);
        } catch (Exception e) {
            // Spark reports unreadable footers as SparkException, a checked exception Java code does not declare
            throw new InvalidInputException(setting + ": " + uri + " is not a readable Parquet table: " + firstLine(e), e);
        }
        StructType schema = df.schema();
        DataType idType = columnType(schema, "id", setting, uri, "string or integer");
        boolean stringIds = idType.equals(DataTypes.StringType);
        if (!stringIds && !INTEGER_TYPES.contains(idType)) {
            throw new InvalidInputException(setting + ": column id of " + uri + " must be string or integer, found "
                    + idType.simpleString());
        }
        DataType labelType = columnType(schema, "label", setting, uri, "integer");
        if (!INTEGER_TYPES.contains(labelType)) {
            throw new InvalidInputException(setting + ": column label of " + uri + " must be an integer, found "
                    + labelType.simpleString());
        }
        List<String> names = Arrays.asList(schema.fieldNames());
        boolean features = names.contains("features");
        if (features == names.contains("image")) {
            throw new InvalidInputException(setting + ": " + uri + " must have exactly one of the columns features"
                    + " (array<float>) and image (binary), found " + (features ? "both" : "neither")
                    + "; columns: " + String.join(", ", names));
        }
        String pixels = features ? "features" : "image";
        DataType pixelType = schema.apply(pixels).dataType();
        boolean valid = features
                ? pixelType instanceof ArrayType a && (a.elementType().equals(DataTypes.FloatType)
                        || a.elementType().equals(DataTypes.DoubleType))
                : pixelType.equals(DataTypes.BinaryType);
        if (!valid) {
            throw new InvalidInputException(setting + ": column " + pixels + " of " + uri + " must be "
                    + (features ? "array<float> or array<double>" : "binary") + ", found " + pixelType.simpleString());
        }

        long nulls = df.filter(col("id").isNull().or(col("label").isNull()).or(col(pixels).isNull())).count();
        if (nulls > 0) {
            throw new InvalidInputException(setting + ": " + nulls + " records of " + uri + " have no id, label or "
                    + pixels + " (null)");
        }
        long count = df.count();
        long distinct = df.select("id").distinct().count();
        if (distinct != count) {
            throw new InvalidInputException(setting + ": " + (count - distinct) + " records of " + uri
                    + " repeat an id of another record; expected unique IDs");
        }

        Dataset<Row> keyed;
        if (stringIds) {
            JavaPairRDD<String, Long> ranks = df.select("id").javaRDD().map(r -> r.getString(0))
                    .sortBy(s -> s, true, Math.max(1, partitions)).zipWithIndex();
            StructType keySchema = new StructType(new StructField[] {
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("key", DataTypes.LongType, false)});
            Dataset<Row> keys = spark.createDataFrame(ranks.map(t -> RowFactory.create(t._1(), t._2())), keySchema);
            keyed = df.join(keys, "id");
        } else {
            keyed = df.withColumn("id", col("id").cast(DataTypes.LongType)).withColumn("key", col("id"));
        }

        String column = setting + " column " + pixels;
        boolean doubles = features && ((ArrayType) pixelType).elementType().equals(DataTypes.DoubleType);
        JavaRDD<Example> examples = keyed.select(col("key"), col("label").cast(DataTypes.IntegerType), col(pixels))
                .javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getLong(0), toExample(r, features, doubles, shape, column)))
                .repartitionAndSortWithinPartitions(new HashPartitioner(Math.max(1, partitions)))
                .values();
        return new Table(examples, keyed.select("id", "key"), count);
    }

    private static Example toExample(Row r, boolean features, boolean doubles, ImageShape shape, String column) {
        float[] x;
        if (!features) {
            x = shape.fromImage((byte[]) r.get(2), column);
        } else {
            List<Object> values = r.getList(2);
            float[] raw = new float[values.size()];
            for (int i = 0; i < raw.length; i++) {
                Object v = values.get(i);
                if (v == null) {
                    throw new InvalidInputException(column + ": a record has a null feature; expected numbers");
                }
                raw[i] = doubles ? (float) (double) (Double) v : (Float) v;
            }
            x = shape.fromFeatures(raw, column);
        }
        return new Example(r.getLong(0), r.getInt(1), x, false);
    }

    private static DataType columnType(StructType schema, String name, String setting, String uri, String expected) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new InvalidInputException(setting + ": " + uri + " has no column " + name + " (" + expected
                    + "); columns: " + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(name).dataType();
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e instanceof AnalysisException a ? a.getSimpleMessage() : e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
