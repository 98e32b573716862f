package io.salun.data;

import io.salun.spark.HadoopConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.ArrayList;
import java.util.List;

/**
 * An IDX images/labels pair as an RDD of {@link Example}s read on the executors: the driver reads
 * only the headers, then each of {@code partitions} tasks reads its own contiguous range of
 * records. A record's ID is its 0-based index in the file, so IDs, partition contents and their
 * order are the same on every run and every task retry.
 */
public final class IdxSource {
    private IdxSource() {
    }

    /** Records of the pair, spread over {@code partitions} partitions. */
    public static JavaRDD<Example> read(JavaSparkContext sc, String imagesUri, String labelsUri, int partitions) {
        IdxHeader header = IdxReader.header(imagesUri, labelsUri, sc.hadoopConfiguration());
        int n = header.count();
        int p = Math.max(1, Math.min(partitions, Math.max(1, n)));
        List<int[]> ranges = new ArrayList<>(p);
        for (int i = 0; i < p; i++) {
            ranges.add(new int[] {(int) ((long) n * i / p), (int) ((long) n * (i + 1) / p)});
        }
        // broadcast once: captured directly, the configuration would be serialised into the task
        // binary of every job over these records, i.e. every round of every stage
        org.apache.spark.broadcast.Broadcast<HadoopConf> conf = sc.broadcast(new HadoopConf(sc.hadoopConfiguration()));
        return sc.parallelize(ranges, p).flatMap(range -> {
            LabeledImages images = IdxReader.read(imagesUri, labelsUri, range[0], range[1], conf.value().get());
            List<Example> out = new ArrayList<>(images.size());
            int d = images.featureLength();
            for (int i = 0; i < images.size(); i++) {
                float[] x = new float[d];
                images.features(i, x, 0);
                out.add(new Example(range[0] + i, images.labels()[i], x, false));
            }
            return out.iterator();
        });
    }
}
