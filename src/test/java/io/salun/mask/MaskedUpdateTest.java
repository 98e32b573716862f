package io.salun.mask;

import io.salun.model.Architecture;
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
