package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.data.Example;
import io.salun.data.IdxHeader;
import io.salun.data.IdxReader;
import io.salun.data.IdxSource;
import io.salun.data.ImageShape;
import io.salun.data.ParquetSource;
import io.salun.forget.ForgetSplit;
import io.salun.forget.SelectionStage;
import io.salun.model.ModelStore;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;


/**
 * The training set {@code D} (the whole training table, or a seeded uniform subset of it) and the
 * test set {@code Dt}, as RDDs read on the executors, from IDX files ({@code data.format=idx}) or
 * Parquet tables ({@code parquet}); and {@code D}'s ID table (columns {@code id} as stored and
 * {@code key} = {@link Example#id()}) that deletion lists join with; {@code source} names the
 * settings they came from, for messages.
 */
public record Datasets(JavaRDD<Example> training, JavaRDD<Example> test, int rows, int cols, int channels,
                       int partitions, Dataset<Row> idTable, String source) {

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

    public static Datasets load(JavaSparkContext sc, Settings settings) {
        int configured = settings.get(JobSettings.PARTITIONS);
        int partitions = configured > 0 ? configured : sc.defaultParallelism();
        SparkSession spark = SparkSession.builder().config(sc.getConf()).getOrCreate();
        if (settings.get(JobSettings.DATA_FORMAT).equals("parquet")) {
            return parquet(spark, settings, partitions);
        }
        String dir = settings.get(JobSettings.DATA_DIR);
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
        int subset = settings.get(JobSettings.DATA_SUBSET);
        if (subset > train.count()) {
            throw new InvalidInputException("data.subset: expected at most the " + train.count()
                    + " training records of " + trainImages + ", found " + subset);
        }
        JavaRDD<Example> all = IdxSource.read(sc, trainImages, trainLabels, partitions);
        JavaRDD<Example> training = subset == 0 || subset == train.count() ? all
                : SelectionStage.take(all, settings.get(JobSettings.SEED), "subset", subset);
        // an IDX record's ID is its index in the file, which is also its key
        Dataset<Row> ids = ForgetSplit.keysAsIds(training);
        return new Datasets(training.setName("D"), IdxSource.read(sc, testImages, testLabels, partitions).setName("Dt"),
                train.rows(), train.cols(), 1, partitions, ids, "data.dir");
    }

    private static Datasets parquet(SparkSession spark, Settings settings, int partitions) {
        ImageShape shape = new ImageShape(settings.get(JobSettings.DATA_HEIGHT), settings.get(JobSettings.DATA_WIDTH),
                settings.get(JobSettings.DATA_CHANNELS), settings.get(JobSettings.DATA_LAYOUT).equals("hwc"));
        String trainUri = settings.get(JobSettings.DATA_TRAIN).orElseThrow(() -> new InvalidInputException(
                "data.train: data.format=parquet needs the training table's path (data.train=URI), found none"));
        String testUri = settings.get(JobSettings.DATA_TEST).orElseThrow(() -> new InvalidInputException(
                "data.test: data.format=parquet needs the test table's path (data.test=URI), found none"));
        ParquetSource.Table train = ParquetSource.read(spark, trainUri, "data.train", shape, partitions);
        ParquetSource.Table test = ParquetSource.read(spark, testUri, "data.test", shape, partitions);
        int subset = settings.get(JobSettings.DATA_SUBSET);
        if (subset > train.count()) {
            throw new InvalidInputException("data.subset: expected at most the " + train.count()
                    + " training records of " + trainUri + ", found " + subset);
        }
        JavaRDD<Example> training = train.examples();
        Dataset<Row> ids = train.ids();
        if (subset != 0 && subset != train.count()) {
            training = SelectionStage.take(training, settings.get(JobSettings.SEED), "subset", subset);
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
    void checkLabels(int classes, String whose) {
        long outside = training.filter(e -> e.label() < 0 || e.label() >= classes).count()
                + test.filter(e -> e.label() < 0 || e.label() >= classes).count();
        if (outside > 0) {
            throw new InvalidInputException(source + ": " + outside + " records have labels outside " + whose + " "
                    + classes + " classes (0.." + (classes - 1) + ")");
        }
    }

    private static String file(JavaSparkContext sc, String dir, String name) {
        String uri = new Path(dir, name).toString();
        if (!ModelStore.exists(uri, sc.hadoopConfiguration())) {
            throw new InvalidInputException("data.dir: no " + name + " in " + dir + ". Fashion-MNIST comes with the"
                    + " Debian/Ubuntu package dataset-fashion-mnist (sudo apt-get install -y dataset-fashion-mnist);"
                    + " for files kept elsewhere set data.dir to the folder that holds the four IDX files");
        }
        return uri;
    }
}
