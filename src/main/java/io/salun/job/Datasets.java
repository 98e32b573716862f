package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.data.Example;
import io.salun.data.IdxHeader;
import io.salun.data.IdxReader;
import io.salun.data.IdxSource;
import io.salun.forget.UniformSample;
import io.salun.model.ModelStore;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The training set {@code D} (the whole IDX training file, or a seeded uniform subset of it) and
 * the test set {@code Dt}, as RDDs read on the executors.
 */
public record Datasets(JavaRDD<Example> training, JavaRDD<Example> test, int rows, int cols, int partitions) {

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

    public static Datasets load(JavaSparkContext sc, Settings settings) {
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
        int configured = settings.get(JobSettings.PARTITIONS);
        int partitions = configured > 0 ? configured : sc.defaultParallelism();
        JavaRDD<Example> all = IdxSource.read(sc, trainImages, trainLabels, partitions);
        JavaRDD<Example> training = subset == 0 || subset == train.count() ? all
                : UniformSample.take(all, settings.get(JobSettings.SEED), "subset", subset);
        return new Datasets(training.setName("D"), IdxSource.read(sc, testImages, testLabels, partitions).setName("Dt"),
                train.rows(), train.cols(), partitions);
    }

    /** Fails, naming the count, when a training or test label is not one of {@code classes} classes. */
    void checkLabels(int classes, String whose) {
        long outside = training.filter(e -> e.label() < 0 || e.label() >= classes).count()
                + test.filter(e -> e.label() < 0 || e.label() >= classes).count();
        if (outside > 0) {
            throw new InvalidInputException("data.dir: " + outside + " records have labels outside " + whose + " "
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
