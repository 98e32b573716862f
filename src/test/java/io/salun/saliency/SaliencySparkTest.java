package io.salun.saliency;

import io.salun.data.Example;
import io.salun.data.IdxSource;
import io.salun.data.LabeledImages;
import io.salun.data.IdxReader;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.Architecture;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.spark.LocalSparkTest;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The distributed saliency pass against a single-JVM computation, and its independence of partitioning. */
class SaliencySparkTest extends LocalSparkTest {
    private static NetworkSnapshot lenet;

    @BeforeAll
    static void buildLenet() {
        MultiLayerNetwork net = new MultiLayerNetwork(Architecture.LENET.configuration(28, 28, 10, 11,
                new Optimizer("sgd", 0.01, 0.9, 5e-4, 0)));
        net.init();
        lenet = NetworkSnapshot.of(net);
    }

    /** The forget set of this test: records 0..299 of the slice (of every class). */
    private static JavaRDD<Shard> forgetShards(int partitions) {
        JavaRDD<Example> forget = IdxSource.read(sc, images, labels, partitions).filter(e -> e.id() < 300);
        return Shards.cache(forget, "Df/" + partitions);
    }

    @Test
    void distributedGradientEqualsSingleJvmSum() {
        JavaRDD<Shard> shards = forgetShards(3);
        double[] distributed = SaliencyStage.gradientSum(sc, lenet, shards, 64, 10, 2).result();
        shards.unpersist();

        // single JVM: the same 300 records, read directly, one example at a time through plain DL4J
        LabeledImages data = IdxReader.read(images, labels, 0, 300, sc.hadoopConfiguration());
        Shard all = shardOf(data);
        double[] single = GradientSum.over(lenet.net(), all, 1, 10).result();

        double maxAbs = 0;
        double maxErr = 0;
        for (int i = 0; i < single.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(single[i]));
        }
        for (int i = 0; i < single.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(single[i] - distributed[i]));
        }
        assertTrue(maxAbs > 0, "the gradient sum is zero");
        assertTrue(maxErr / maxAbs <= 1e-5, "relative error " + maxErr / maxAbs);
    }

    @Test
    void masksFromOneAndFourPartitionsAgree() {
        JavaRDD<Shard> one = forgetShards(1);
        JavaRDD<Shard> four = forgetShards(4);
        Bitset a = SaliencyStage.mask(sc, lenet, one, 128, 10, 0.5, 2);
        Bitset b = SaliencyStage.mask(sc, lenet, four, 37, 10, 0.5, 3);
        one.unpersist();
        four.unpersist();
        assertEquals(lenet.size() / 2, a.cardinality());
        assertEquals(a.cardinality(), b.cardinality());
        int differ = 0;
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                differ++;
            }
        }
        assertTrue(differ <= a.size() * 1e-4, differ + " of " + a.size() + " bits differ");
        assertTrue(SaliencyMask.fractionSet(a, 0, a.size()) == 0.5 || a.size() % 2 == 1);
    }

    private static Shard shardOf(LabeledImages data) {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            float[] x = new float[data.featureLength()];
            data.features(i, x, 0);
            examples.add(new Example(i, data.labels()[i], x, true));
        }
        Iterator<Example> it = examples.iterator();
        return Shard.pack(it);
    }
}
