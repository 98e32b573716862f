package io.salun.unlearn;

import io.salun.data.RandomShards;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.model.Architecture;
import io.salun.model.Net;
import io.salun.model.NetworkConfig;
import io.salun.model.Optimizer;
import io.salun.saliency.FisherDiagonal;
import io.salun.saliency.GradientSum;
import io.salun.train.Minibatch;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * SSD's two kernels: the Fisher diagonal against the analytic per-example gradient of the output
 * bias, and the dampening rule against hand-computed factors, everything outside the selection
 * bit for bit.
 */
class SelectiveDampeningTest {

    @Test
    void dampensExactlyTheSelectedParametersByTheirFactor() {
        float[] theta = {1.0f, -2.0f, 3.0f, 0.5f, 4.0f, -1.5f};
        double[] forget = {5.0, 1.0, 30.0, 0.0, 50.0, 9.0};
        double[] all = {1.0, 1.0, 1.0, 0.0, 1.0, 1.0};
        boolean[] untrainable = {false, false, false, false, true, false};
        // alpha 4: selected where forget > 4 * all: entries 0 (5 > 4), 2 (30 > 4), 5 (9 > 4); 4 is untrainable,
        // 3 has 0 > 0 false. lambda 2: factors min(2*1/5, 1) = 0.4, min(2/30, 1), min(2/9, 1)
        SelectiveDampening.Result r = new SelectiveDampening(4, 2).dampen(theta, forget, all, untrainable, Optional.empty());
        assertEquals(3, r.selected());
        assertEquals((float) (1.0 * 0.4), r.parameters()[0]);
        assertEquals((float) (3.0 * (2.0 / 30)), r.parameters()[2]);
        assertEquals((float) (-1.5 * (2.0 / 9)), r.parameters()[5]);
        for (int i : new int[] {1, 3, 4}) {
            assertEquals(Float.floatToRawIntBits(theta[i]), Float.floatToRawIntBits(r.parameters()[i]), "parameter " + i);
        }
        // a factor above 1 is capped: lambda 10 gives min(10/5, 1) = 1 for entry 0
        SelectiveDampening.Result capped = new SelectiveDampening(4, 10).dampen(theta, forget, all, untrainable, Optional.empty());
        assertEquals(theta[0], capped.parameters()[0]);
        assertEquals((float) (3.0 * (10.0 / 30)), capped.parameters()[2]);
    }

    @Test
    void underAMaskOnlyItsSetBitsMayBeDampened() {
        float[] theta = {1.0f, 2.0f, 3.0f};
        double[] forget = {10, 10, 10};
        double[] all = {1, 1, 1};
        Bitset mask = new Bitset(3);
        mask.set(1);
        SelectiveDampening.Result r = new SelectiveDampening(2, 1).dampen(theta, forget, all, new boolean[3], Optional.of(mask));
        assertEquals(1, r.selected());
        assertEquals(theta[0], r.parameters()[0]);
        assertEquals((float) (2.0 * 0.1), r.parameters()[1]);
        assertEquals(theta[2], r.parameters()[2]);
    }

    @Test
    void fisherDiagonalOfTheOutputBiasIsTheMeanSquaredResidual() {
        int k = 3;
        Shard shard = RandomShards.of(40, 16, k, 9L, 0, 1, 4);
        NetworkConfig conf = NetworkConfig.of(Architecture.MLP.configuration(4, 4, k, 5L, new Optimizer("sgd", 0.1, 0, 0, 0)));
        Net net = conf.init(0, 0);
        GradientSum fisher = FisherDiagonal.over(net, shard, k);
        assertEquals(40, fisher.examples());
        double[] sum = fisher.result();
        // the output layer's bias is the last k parameters; per example its gradient is p - e_y
        Minibatch all = Minibatch.inOrder(shard, 0, shard.size(), k);
        INDArray p = net.output(all.features(), false);
        for (int c = 0; c < k; c++) {
            double expected = 0;
            for (int i = 0; i < shard.size(); i++) {
                double residual = p.getDouble(i, c) - (shard.label(i) == c ? 1 : 0);
                expected += residual * residual;
            }
            assertEquals(expected, sum[sum.length - k + c], 1e-5 * Math.max(1, expected), "output bias " + c);
        }
        // squares: no entry is negative, and the weights' entries are not all zero
        double weights = 0;
        for (int i = 0; i < sum.length - k; i++) {
            assertEquals(true, sum[i] >= 0, "entry " + i);
            weights += sum[i];
        }
        assertEquals(true, weights > 0);
    }

    @Test
    void badKnobsAndShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SelectiveDampening(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SelectiveDampening(10, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new SelectiveDampening(10, 1)
                .dampen(new float[2], new double[3], new double[2], new boolean[2], Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> SelectiveDampening.mean(new double[2], 0));
    }
}
