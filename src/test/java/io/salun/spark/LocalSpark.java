package io.salun.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;

/** One {@code local[2]} Spark session per test class ({@code *SparkTest}), and the test data. */
public final class LocalSpark {
    private LocalSpark() {
    }

    public static SparkSession start(String name) {
        return SparkSession.builder().master("local[2]").appName(name)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    public static JavaSparkContext context(SparkSession spark) {
        return JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    /** The slice's training images (IDX, gzip). */
    public static String trainImages() {
        return fashionMnistSlice().resolve("train-images-idx3-ubyte.gz").toString();
    }

    /** The slice's training labels (IDX, gzip). */
    public static String trainLabels() {
        return fashionMnistSlice().resolve("train-labels-idx1-ubyte.gz").toString();
    }

    /** The folder of the Fashion-MNIST slice shipped with the tests (3,000 training, 1,000 test images). */
    public static Path fashionMnistSlice() {
        try {
            return Paths.get(LocalSpark.class.getResource("/fashion-mnist-slice").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
