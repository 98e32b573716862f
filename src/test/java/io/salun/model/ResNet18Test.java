package io.salun.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The CIFAR ResNet-18: its parameter count against the closed form, its parameter blocks in the
 * order of the flat vector, and the shape of its output for both input sizes the job reads.
 */
class ResNet18Test {
    private static final Optimizer SGD = new Optimizer("sgd", 0.1, 0.9, 5e-4, 0);

    /** Trainable parameters of the CIFAR ResNet-18 at base width w, c input channels, k classes. */
    static long closedForm(long w, long c, long k) {
        long stem = 9 * c * w + 2 * w;
        long stage1 = 2 * (2 * 9 * w * w + 2 * 2 * w);
        long stage2 = (9 * w * 2 * w + 9 * 4 * w * w + w * 2 * w + 3 * 2 * 2 * w) + (2 * 9 * 4 * w * w + 2 * 2 * 2 * w);
        long stage3 = (9 * 2 * w * 4 * w + 9 * 16 * w * w + 2 * w * 4 * w + 3 * 2 * 4 * w) + (2 * 9 * 16 * w * w + 2 * 2 * 4 * w);
        long stage4 = (9 * 4 * w * 8 * w + 9 * 64 * w * w + 4 * w * 8 * w + 3 * 2 * 8 * w) + (2 * 9 * 64 * w * w + 2 * 2 * 8 * w);
        long fc = 8 * w * k + k;
        return stem + stage1 + stage2 + stage3 + stage4 + fc;
    }

    /** BatchNorm channels of the network: each has a running mean and variance. */
    static long statistics(long w) {
        return 2 * (w + 4 * w + 5 * 2 * w + 5 * 4 * w + 5 * 8 * w);
    }

    private static long trainable(Net net) {
        long n = 0;
        for (boolean s : ParameterRoles.untrainable(net)) {
            n += s ? 0 : 1;
        }
        return n;
    }

    @Test
    void countsAsTheClosedFormAndIsResNet18AtWidth64() {
        assertEquals(11_173_962, closedForm(64, 3, 10), "the published count of the CIFAR ResNet-18");
        Net full = Architecture.RESNET18.network(32, 32, 3, 10, 1, SGD, 64);
        assertEquals(11_173_962, trainable(full));
        assertEquals(statistics(64), full.numParams() - trainable(full));
        Net small = Architecture.RESNET18.network(28, 28, 1, 10, 1, SGD, 16);
        assertEquals(closedForm(16, 1, 10), trainable(small));
        assertEquals(statistics(16), small.numParams() - trainable(small));
    }

    @Test
    void parameterBlocksAreTheFlatVectorInOrder() {
        Net net = Architecture.RESNET18.network(28, 28, 1, 7, 2, SGD, 4);
        INDArray params = net.params();
        params.assign(Nd4j.arange(params.length()).castTo(params.dataType()).reshape(params.shape()));
        long offset = 0;
        for (Net.Block b : net.blocks()) {
            INDArray table = net.graph().getVertex(b.layer()).getLayer().paramTable().get(b.param());
            assertEquals(offset, Math.round(table.getDouble(0)), b.layer() + "." + b.param());
            offset += b.length();
        }
        assertEquals(params.length(), offset);
        assertEquals("conv1", net.blocks().get(0).layer());
        assertEquals("fc", net.blocks().get(net.blocks().size() - 1).layer());
    }

    @Test
    void readsBothImageShapes() {
        for (int[] shape : new int[][] {{28, 28, 1}, {32, 32, 3}}) {
            Net net = Architecture.RESNET18.network(shape[0], shape[1], shape[2], 10, 3, SGD, 4);
            INDArray out = net.output(Nd4j.rand(2, shape[0] * shape[1] * shape[2]), false);
            assertArrayEquals(new long[] {2, 10}, out.shape());
            assertEquals(2.0, out.sumNumber().doubleValue(), 1e-5, "softmax rows sum to 1");
        }
    }
}
