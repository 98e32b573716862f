package io.salun.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the {@code *SparkTest} classes that share one {@code local[2]} session per class and
 * read the Fashion-MNIST slice's training files.
 */
public abstract class LocalSparkTest {
    protected static SparkSession spark;
    protected static JavaSparkContext sc;
    protected static String images;
    protected static String labels;

    @BeforeAll
    static void startSpark() {
        spark = LocalSpark.start("spark-test");
        sc = LocalSpark.context(spark);
        images = LocalSpark.trainImages();
        labels = LocalSpark.trainLabels();
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }
}
