package io.salun.data;

import io.salun.config.InvalidInputException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import java.util.Optional;


/**
 * The training set {@code D} (the whole training table, or a seeded uniform subset of it) and the
 * test set {@code Dt}, as RDDs read on the executors, from IDX files ({@code data.format=idx}) or
 * Parquet tables ({@code parquet}); and {@code D}'s ID table (columns {@code id} as stored and
 * {@code key} = {@link Example#id()}) that deletion lists join with; {@code source} names the
 * settings they came from, for messages.
 */
public record Datasets(JavaRDD<Example> training, JavaRDD<Example> test, int rows, int cols, int channels,
                       int partitions, Dataset<Row> idTable, String source) {

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

    /**
     * Where the data is and how much of it to use ({@code data.*}): the four IDX files of
     * {@code dir}, or the Parquet tables {@code train} and {@code test} (when {@code parquet}) with
     * images of {@code shape}; a seeded {@code subset} of the training records (0: all); the
     * partitions of every set (0: Spark's default parallelism).
     */
    public record Spec(boolean parquet, String dir, Optional<String> train, Optional<String> test, ImageShape shape,
                       int subset, long seed, int partitions) {
    }

    public static Datasets load(JavaSparkContext sc, Spec spec) {
        int partitions = spec.partitions() > 0 ? spec.partitions() : sc.defaultParallelism();
        SparkSession spark = SparkSession.builder().config(sc.getConf()).getOrCreate();
        if (spec.parquet()) {
            return parquet(spark, spec, partitions);
        }
        String dir = spec.dir();
        String trainImages = file(sc, dir, TRAIN_IMAGES);
        String trainLabels = file(sc, dir, TRAIN_LABELS);
        String testImages = file(sc, dir, TEST_IMAGES);
        String testLabels = file(sc, dir, TEST_LABELS);
        IdxHeader train = IdxReader.header(trainImages, trainLabels, sc.hadoopConfiguration());
        IdxHeader test = IdxReader.header(testImages, testLabels, sc.hadoopConfiguration());
        if (train.rows() != test.rows() || train.cols() != test.cols()) {
            throw new InvalidInputException("data.dir: training images are " + train.rows() + "x" + train.cols()
                    + " but test images are " + test.rows() + "x" + test.cols() + " in " + dir);
        }
        int subset = spec.subset();
        if (subset > train.count()) {
            throw new InvalidInputException("data.subset: expected at most the " + train.count()
                    + " training records of " + trainImages + ", found " + subset);
        }
        JavaRDD<Example> all = IdxSource.read(sc, trainImages, trainLabels, partitions);
        JavaRDD<Example> training = subset == 0 || subset == train.count() ? all
                : SelectionStage.take(all, spec.seed(), "subset", subset);
        // an IDX record's ID is its index in the file, which is also its key
        Dataset<Row> ids = keysAsIds(training);
        return new Datasets(training.setName("D"), IdxSource.read(sc, testImages, testLabels, partitions).setName("Dt"),
                train.rows(), train.cols(), 1, partitions, ids, "data.dir");
    }

    /** The ID table of records whose stored ID is their key: columns {@code id} and {@code key}, both long. */
    public static Dataset<Row> keysAsIds(JavaRDD<Example> training) {
        SparkSession spark = SparkSession.builder().config(training.context().getConf()).getOrCreate();
        return spark.createDataset(training.map(Example::id).rdd(), Encoders.LONG()).toDF("id")
                .withColumn("key", functions.col("id"));
    }

    private static Datasets parquet(SparkSession spark, Spec spec, int partitions) {
        ImageShape shape = spec.shape();
        String trainUri = spec.train().orElseThrow(() -> new InvalidInputException(
                "data.train: data.format=parquet needs the training table's path (data.train=URI), found none"));
        String testUri = spec.test().orElseThrow(() -> new InvalidInputException(
                "data.test: data.format=parquet needs the test table's path (data.test=URI), found none"));
        ParquetSource.Table train = ParquetSource.read(spark, trainUri, "data.train", shape, partitions);
        ParquetSource.Table test = ParquetSource.read(spark, testUri, "data.test", shape, partitions);
        int subset = spec.subset();
        if (subset > train.count()) {
            throw new InvalidInputException("data.subset: expected at most the " + train.count()
                    + " training records of " + trainUri + ", found " + subset);
        }
        JavaRDD<Example> training = train.examples();
        Dataset<Row> ids = train.ids();
        if (subset != 0 && subset != train.count()) {
            training = SelectionStage.take(training, spec.seed(), "subset", subset);
            Dataset<Row> kept = spark.createDataset(training.map(Example::id).rdd(), Encoders.LONG()).toDF("key");
            ids = ids.join(kept, "key").select("id", "key");
        }
        return new Datasets(training.setName("D"), test.examples().setName("Dt"), shape.height(), shape.width(),
                shape.channels(), partitions, ids, "data.train/data.test");
    }

    /** Number of model inputs per record. */
    public int featureLength() {
        return rows * cols * channels;
    }

    /** The images' shape as messages print it. */
    public String shape() {
        return rows + "x" + cols + "x" + channels;
    }

    /** Fails, naming the count, when a training or test label is not one of {@code classes} classes. */
    public void checkLabels(int classes, String whose) {
        long outside = training.filter(e -> e.label() < 0 || e.label() >= classes).count()
                + test.filter(e -> e.label() < 0 || e.label() >= classes).count();
        if (outside > 0) {
            throw new InvalidInputException(source + ": " + outside + " records have labels outside " + whose + " "
                    + classes + " classes (0.." + (classes - 1) + ")");
        }
    }

    private static boolean exists(String uri, JavaSparkContext sc) {
        Path path = new Path(uri);
        try {
            return path.getFileSystem(sc.hadoopConfiguration()).exists(path);
        } catch (java.io.IOException e) {
            throw new InvalidInputException("data.dir: cannot read " + uri + ": " + e.getMessage(), e);
        }
    }

    private static String file(JavaSparkContext sc, String dir, String name) {
        String uri = new Path(dir, name).toString();
        if (!exists(uri, sc)) {
            throw new InvalidInputException("data.dir: no " + name + " in " + dir + ". Fashion-MNIST comes with the"
                    + " Debian/Ubuntu package dataset-fashion-mnist (sudo apt-get install -y dataset-fashion-mnist);"
                    + " for files kept elsewhere set data.dir to the folder that holds the four IDX files");
        }
        return uri;
    }
}
