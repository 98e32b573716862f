package io.salun.mask;

import io.salun.model.Architecture;
import io.salun.model.Net;
import io.salun.model.ParameterRoles;
import io.salun.model.Optimizer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exact masking over many steps, for every update rule and regulariser the engine offers. */
class MaskedUpdateTest {

    static Stream<Optimizer> optimizers() {
        return Stream.of(
                new Optimizer("sgd", 0.05, 0.9, 5e-4, 0),      // SGD + Nesterov momentum + weight decay
                new Optimizer("sgd", 0.05, 0.9, 0, 1e-3),      // SGD + momentum + L2
                new Optimizer("sgd", 0.05, 0, 5e-4, 1e-3),     // plain SGD + both
                new Optimizer("pytorch-sgd", 0.05, 0.9, 5e-4, 0), // classical momentum + coupled weight decay
                new Optimizer("adam", 1e-3, 0, 5e-4, 1e-3));   // Adam + both
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void maskedWeightsStayBitIdenticalWhileOthersMove(Optimizer optimizer) {
        MultiLayerNetwork net = new MultiLayerNetwork(Architecture.MLP.configuration(8, 8, 4, 7, optimizer));
        net.init();
        int n = (int) net.numParams();
        // one masked-out weight holds -0.0, which arithmetic masking (θ·m + θo·(1−m)) would turn into +0.0
        net.params().putScalar(3, -0.0f);
        Bitset mask = new Bitset(n);
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < n; i++) {
            if (i != 3 && random.nextBoolean()) {
                mask.set(i);
            }
        }
        float[] before = net.params().dup().data().asFloat();
        MaskedUpdate.attach(io.salun.model.Net.of(net), mask);

        for (int step = 0; step < 30; step++) {
            INDArray x = uniform(step, 16, 64);
            INDArray y = Nd4j.zeros(16, 4);
            for (int r = 0; r < 16; r++) {
                y.putScalar(r, (r + step) % 4, 1f);
            }
            net.fit(x, y);
        }

        float[] after = net.params().data().asFloat();
        int moved = 0;
        for (int i = 0; i < n; i++) {
            if (!mask.get(i)) {
                assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(after[i]),
                        "masked-out parameter " + i + " changed");
            } else if (before[i] != after[i]) {
                moved++;
            }
        }
        assertTrue(moved > mask.cardinality() * 9 / 10, "only " + moved + " of " + mask.cardinality() + " trainable weights moved");
        INDArray state = net.getUpdater().getStateViewArray();
        if (state != null) {
            float[] s = state.data().asFloat();
            INDArray layout = MaskedUpdate.stateMask(io.salun.model.Net.of(net), mask.toFloatMask());
            float[] sm = layout.data().asFloat();
            int nonZeroTrainable = 0;
            for (int i = 0; i < s.length; i++) {
                if (sm[i] == 0f) {
                    assertTrue(s[i] == 0f, "updater state at a masked position " + i + " is " + s[i]);
                } else if (s[i] != 0f) {
                    nonZeroTrainable++;
                }
            }
            assertTrue(nonZeroTrainable > 0, "updater state never moved at trainable positions");
        }
    }

    static Stream<Optimizer> batchNormOptimizers() {
        return Stream.of(
                new Optimizer("sgd", 0.05, 0.9, 5e-4, 0),      // SGD + Nesterov momentum + weight decay
                new Optimizer("pytorch-sgd", 0.05, 0.9, 5e-4, 0), // classical momentum + coupled weight decay
                new Optimizer("adam", 1e-3, 0, 5e-4, 0));      // Adam + weight decay
    }

    /**
     * A BatchNorm graph (ResNet-18 at width 2) under a saliency mask built as the job builds it:
     * every frozen trainable parameter keeps its bits over many steps, while the running mean and
     * variance of every channel of every BatchNorm move, as PyTorch's buffers do in train mode.
     */
    @ParameterizedTest
    @MethodSource("batchNormOptimizers")
    void onABatchNormGraphFrozenWeightsKeepTheirBitsWhileEveryStatisticMoves(Optimizer optimizer) {
        Net net = Architecture.RESNET18.network(8, 8, 3, 4, 5, optimizer, 2, false);
        int n = (int) net.numParams();
        boolean[] statistics = ParameterRoles.untrainable(net);
        SplittableRandom random = new SplittableRandom(2);
        double[] saliency = new double[n];
        for (int i = 0; i < n; i++) {
            saliency[i] = random.nextDouble();
        }
        Bitset mask = SaliencyMask.topK(saliency, 0.3, statistics);
        float[] before = net.params().dup().data().asFloat();
        MaskedUpdate.attach(net, mask);

        for (int step = 0; step < 25; step++) {
            INDArray x = uniform(100 + step, 16, 8 * 8 * 3);
            INDArray y = Nd4j.zeros(16, 4);
            for (int r = 0; r < 16; r++) {
                y.putScalar(r, (r * 3 + step) % 4, 1f);
            }
            net.fit(x, y);
        }

        float[] after = net.params().data().asFloat();
        int stats = 0;
        int statsMoved = 0;
        int kept = 0;
        int moved = 0;
        for (int i = 0; i < n; i++) {
            if (statistics[i]) {
                assertTrue(mask.get(i), "a running statistic is not kept trainable by the mask: " + i);
                stats++;
                statsMoved += before[i] != after[i] ? 1 : 0;
            } else if (!mask.get(i)) {
                assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(after[i]),
                        "frozen trainable parameter " + i + " changed");
            } else {
                kept++;
                moved += before[i] != after[i] ? 1 : 0;
            }
        }
        assertTrue(stats > 0, "the graph has no BatchNorm statistics");
        assertEquals(stats, statsMoved, "running statistics that never moved");
        assertEquals(SaliencyMask.kept(n - stats, 0.3), kept, "the ratio counts trainable parameters only");
        assertTrue(moved > kept * 9 / 10, "only " + moved + " of " + kept + " kept weights moved");
    }

    @Test
    void stateLayoutMapsEachParameterToItsOwnStateEntries() {
        // Adam keeps two state values per parameter; a gradient on one parameter must only touch its own entries
        MultiLayerNetwork net = new MultiLayerNetwork(Architecture.MLP.configuration(4, 4, 3, 3,
                new Optimizer("adam", 1e-2, 0, 0, 0)));
        net.init();
        int n = (int) net.numParams();
        int target = n - 2; // an output-layer bias
        Bitset only = new Bitset(n);
        only.set(target);
        MaskedUpdate.attach(io.salun.model.Net.of(net), only);
        net.fit(uniform(5, 8, 16), Nd4j.eye(3).getRows(0, 1, 2, 0, 1, 2, 0, 1));
        float[] s = net.getUpdater().getStateViewArray().data().asFloat();
        float[] layout = MaskedUpdate.stateMask(io.salun.model.Net.of(net), only.toFloatMask()).data().asFloat();
        int setInLayout = 0;
        for (int i = 0; i < s.length; i++) {
            if (layout[i] == 1f) {
                setInLayout++;
                assertTrue(s[i] != 0f, "state entry " + i + " of the trained parameter stayed zero");
            } else {
                assertTrue(s[i] == 0f, "state entry " + i + " of a frozen parameter moved");
            }
        }
        assertEquals(2, setInLayout, "Adam keeps first and second moments: two entries per parameter");
    }

    static INDArray uniform(long seed, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble();
        }
        return Nd4j.create(v, new long[] {rows, cols}, 'c');
    }
}
