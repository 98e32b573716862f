package io.salun.spark;

import io.salun.data.Example;
import io.salun.data.IdxSource;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The Fashion-MNIST slice rewritten as Parquet tables, the way a data lake would hold it: string
 * IDs {@code fm-00042} (or the IDX index as a long) and each image as a grey PNG (or as a float
 * array), spread over several part files.
 */
public final class SliceTables {
    private SliceTables() {
    }

    /** The string ID a record with IDX index {@code index} gets in the tables. */
    public static String stringId(long index) {
        return String.format(Locale.ROOT, "fm-%05d", index);
    }

    /** Writes the IDX pair as a Parquet table at {@code uri}. */
    public static void write(SparkSession spark, String images, String labels, String uri, boolean stringIds,
                             boolean png, int files) {
        JavaRDD<Example> examples = IdxSource.read(JavaSparkContext.fromSparkContext(spark.sparkContext()), images, labels, files);
        StructType schema = new StructType()
                .add("id", stringIds ? DataTypes.StringType : DataTypes.LongType, false)
                .add("label", DataTypes.IntegerType, false)
                .add(png ? "image" : "features", png ? DataTypes.BinaryType
                        : DataTypes.createArrayType(DataTypes.FloatType, false), false);
        JavaRDD<Row> rows = examples.map(e -> RowFactory.create(stringIds ? stringId(e.id()) : (Object) e.id(), e.label(),
                png ? png(e.features()) : (Object) e.features()));
        spark.createDataFrame(rows, schema).write().parquet(uri);
    }

    /**
     * The slice's training set at {@code trainUri} (string IDs; images as PNG or float arrays) and
     * its test set at {@code testUri} (string IDs, float arrays).
     */
    public static void writeSlice(SparkSession spark, String trainUri, String testUri, boolean pngTraining) {
        java.nio.file.Path slice = LocalSpark.fashionMnistSlice();
        write(spark, LocalSpark.trainImages(), LocalSpark.trainLabels(), trainUri, true, pngTraining, 3);
        write(spark, slice.resolve("t10k-images-idx3-ubyte.gz").toString(),
                slice.resolve("t10k-labels-idx1-ubyte.gz").toString(), testUri, true, false, 2);
    }

    /**
     * The first {@code limit} records of the IDX pair as a Parquet table at {@code uri} of 32×32 RGB
     * PNGs (long IDs): each grey image padded by 2 pixels and coloured (red the grey value, green its
     * square, blue its complement), a colour image whose three channels differ.
     */
    public static void writeRgb(SparkSession spark, String images, String labels, String uri, int limit, int files) {
        JavaRDD<Example> examples = IdxSource.read(JavaSparkContext.fromSparkContext(spark.sparkContext()), images, labels,
                files).filter(e -> e.id() < limit);
        StructType schema = new StructType()
                .add("id", DataTypes.LongType, false)
                .add("label", DataTypes.IntegerType, false)
                .add("image", DataTypes.BinaryType, false);
        JavaRDD<Row> rows = examples.map(e -> RowFactory.create(e.id(), e.label(), rgbPng(e.features())));
        spark.createDataFrame(rows, schema).write().parquet(uri);
    }

    static byte[] rgbPng(float[] features) {
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                boolean inside = y >= 2 && y < 30 && x >= 2 && x < 30;
                float v = inside ? features[(y - 2) * 28 + (x - 2)] : 0f;
                int r = Math.round(v * 255);
                int g = Math.round(v * v * 255);
                int b = 255 - r;
                image.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return encode(image);
    }

    /** A 28×28 grey PNG of features in [0, 1] that were 8-bit pixels / 255. */
    static byte[] png(float[] features) {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < features.length; i++) {
            image.getRaster().setSample(i % 28, i / 28, 0, Math.round(features[i] * 255));
        }
        return encode(image);
    }

    private static byte[] encode(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
