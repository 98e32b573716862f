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
import io.salun.model.Net;
import io.salun.model.ParameterRoles;
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
    private static NetworkSnapshot resnet;

    @BeforeAll
    static void buildLenet() {
        MultiLayerNetwork net = new MultiLayerNetwork(Architecture.LENET.configuration(28, 28, 10, 11,
                new Optimizer("sgd", 0.01, 0.9, 5e-4, 0)));
        net.init();
        lenet = NetworkSnapshot.of(net);
        // a BatchNorm graph whose running statistics are far from any batch's, as a trained one's are
        Net graph = Architecture.RESNET18.network(28, 28, 1, 10, 11, new Optimizer("sgd", 0.01, 0.9, 5e-4, 0), 2, false);
        java.util.SplittableRandom random = new java.util.SplittableRandom(12);
        long offset = 0;
        for (Net.Block b : graph.blocks()) {
            for (long i = offset; i < offset + b.length(); i++) {
                if (b.param().equals("mean")) {
                    graph.params().putScalar(i, 0.5 * (random.nextDouble() - 0.5));
                } else if (b.param().equals("var")) {
                    graph.params().putScalar(i, 0.3 + random.nextDouble());
                }
            }
            offset += b.length();
        }
        resnet = NetworkSnapshot.of(graph);
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

    /** SSD's Fisher diagonal: the same sums of per-example squares from 1 and 3 partitions and in one JVM. */
    @Test
    void fisherDiagonalDoesNotDependOnPartitioning() {
        SaliencyStage.Kernel fisher = (net, shard) -> FisherDiagonal.over(net, shard, 10);
        JavaRDD<Shard> one = forgetShards(1);
        JavaRDD<Shard> three = forgetShards(3);
        GradientSum a = SaliencyStage.gradientSum(sc, lenet.inferenceForm(), one, fisher, 2);
        GradientSum b = SaliencyStage.gradientSum(sc, lenet.inferenceForm(), three, fisher, 2);
        one.unpersist();
        three.unpersist();
        GradientSum single = FisherDiagonal.over(lenet.inferenceForm().net(),
                shardOf(IdxReader.read(images, labels, 0, 300, sc.hadoopConfiguration())), 10);
        assertEquals(300, a.examples());
        assertEquals(300, b.examples());
        double[] x = a.result();
        double[] y = b.result();
        double[] z = single.result();
        double maxAbs = 0;
        double maxErr = 0;
        for (int i = 0; i < x.length; i++) {
            maxAbs = Math.max(maxAbs, x[i]);
            maxErr = Math.max(maxErr, Math.max(Math.abs(x[i] - y[i]), Math.abs(x[i] - z[i])));
            assertTrue(x[i] >= 0, "a sum of squares below 0 at " + i);
        }
        assertTrue(maxAbs > 0, "the Fisher diagonal is zero");
        assertTrue(maxErr / maxAbs <= 1e-9, "relative difference " + maxErr / maxAbs);
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

    /** The graph's distributed sum (inference mode, minibatches of 64) against one example at a time in one JVM. */
    @Test
    void aBatchNormGraphsDistributedGradientEqualsTheSingleJvmSum() {
        JavaRDD<Shard> shards = forgetShards(3);
        double[] distributed = SaliencyStage.gradientSum(sc, resnet, shards, 64, 10, 2).result();
        shards.unpersist();
        Shard all = shardOf(IdxReader.read(images, labels, 0, 300, sc.hadoopConfiguration()));
        double[] single = GradientSum.over(resnet.inferenceForm().net(), all, 1, 10).result();
        boolean[] statistics = ParameterRoles.untrainable(resnet);
        double maxAbs = 0;
        double maxErr = 0;
        for (int i = 0; i < single.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(single[i]));
            maxErr = Math.max(maxErr, Math.abs(single[i] - distributed[i]));
            if (statistics[i]) {
                assertEquals(0.0, distributed[i], "running statistic " + i + " got a gradient");
            }
        }
        assertTrue(maxAbs > 0, "the gradient sum is zero");
        assertTrue(maxErr / maxAbs <= 1e-5, "relative error " + maxErr / maxAbs);
    }

    /** As the LeNet's, for a BatchNorm graph; the ratio counts trainable entries and every statistic stays set. */
    @Test
    void aBatchNormGraphsMasksFromOneAndFourPartitionsAgree() {
        JavaRDD<Shard> one = forgetShards(1);
        JavaRDD<Shard> four = forgetShards(4);
        Bitset a = SaliencyStage.mask(sc, resnet, one, 128, 10, 0.5, 2);
        Bitset b = SaliencyStage.mask(sc, resnet, four, 37, 10, 0.5, 3);
        one.unpersist();
        four.unpersist();
        boolean[] statistics = ParameterRoles.untrainable(resnet);
        int stats = 0;
        for (int i = 0; i < statistics.length; i++) {
            if (statistics[i]) {
                stats++;
                assertTrue(a.get(i) && b.get(i), "running statistic " + i + " is frozen by the mask");
            }
        }
        assertTrue(stats > 0);
        assertEquals(SaliencyMask.kept(resnet.size() - stats, 0.5) + stats, a.cardinality());
        assertEquals(a.cardinality(), b.cardinality());
        int differ = 0;
        for (int i = 0; i < a.size(); i++) {
            differ += a.get(i) != b.get(i) ? 1 : 0;
        }
        assertTrue(differ <= Math.max(2, a.size() * 1e-4), differ + " of " + a.size() + " bits differ");
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
