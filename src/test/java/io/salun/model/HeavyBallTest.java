package io.salun.model;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pytorch-sgd}: DL4J steps with {@link HeavyBall} and coupled weight decay against the rule
 * of PyTorch's SGD computed by hand in double precision from DL4J's own gradients.
 */
class HeavyBallTest {
    private static final int IN = 6;
    private static final int HIDDEN = 5;
    private static final int K = 3;
    private static final int B = 8;
    private static final double LR = 0.1;
    private static final double MU = 0.9;
    private static final double WD = 5e-3;

    private static MultiLayerConfiguration configuration(Optimizer optimizer) {
        return optimizer.applyTo(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT))
                .list()
                .layer(new DenseLayer.Builder().nIn(IN).nOut(HIDDEN).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(HIDDEN).nOut(K)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    private static INDArray features() {
        SplittableRandom random = new SplittableRandom(4);
        float[] x = new float[B * IN];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        return Nd4j.create(x, new long[] {B, IN}, 'c');
    }

    private static INDArray labels() {
        INDArray y = Nd4j.zeros(DataType.FLOAT, B, K);
        for (int i = 0; i < B; i++) {
            y.putScalar(i, (i * 7) % K, 1f);
        }
        return y;
    }

    /** θ after each of {@code steps} DL4J fits on one minibatch, and the hand-computed PyTorch rule beside it. */
    private static double maxError(Optimizer optimizer, int steps, double[] worstScale) {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(optimizer));
        net.init();
        // the gradient at any θ, from a network without an update rule of its own
        MultiLayerNetwork probe = new MultiLayerNetwork(configuration(new Optimizer("sgd", 1, 0, 0, 0)));
        probe.init();
        INDArray x = features();
        INDArray y = labels();
        int n = (int) net.numParams();
        double[] theta = toDouble(net.params());
        double[] v = new double[n];
        double worst = 0;
        for (int t = 0; t < steps; t++) {
            probe.setParams(net.params().dup());
            probe.setInput(x);
            probe.setLabels(y);
            probe.computeGradientAndScore();
            double[] g = toDouble(probe.gradient().gradient());
            for (int i = 0; i < n; i++) {
                // PyTorch: d_p = grad + weight_decay·p; buf = μ·buf + d_p; p -= lr·buf (grad: the mean loss's)
                double dp = g[i] / B + WD * theta[i];
                v[i] = MU * v[i] + dp;
                theta[i] -= LR * v[i];
            }
            net.fit(x, y);
            double[] dl4j = toDouble(net.params());
            for (int i = 0; i < n; i++) {
                double err = Math.abs(dl4j[i] - theta[i]);
                worst = Math.max(worst, err);
                worstScale[0] = Math.max(worstScale[0], Math.abs(theta[i]));
            }
        }
        return worst;
    }

    @Test
    void stepsFollowPyTorchsSgdRule() {
        double[] scale = {0};
        double error = maxError(new Optimizer("pytorch-sgd", LR, MU, WD, 0), 6, scale);
        // float32 arithmetic over 6 steps on values of order 1
        assertTrue(error < 2e-6 * Math.max(1, scale[0]), "largest difference from the hand-computed rule: " + error);
        // the same figures with DL4J's own SGD (Nesterov momentum, decoupled weight decay) are far off:
        // the test tells the rules apart
        double[] ignored = {0};
        double nesterov = maxError(new Optimizer("sgd", LR, MU, WD, 0), 6, ignored);
        assertTrue(nesterov > 100 * error && nesterov > 1e-4, "Nesterov's difference " + nesterov + " vs " + error);
    }

    @Test
    void withoutMomentumItIsPlainSgdWithL2() {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(new Optimizer("pytorch-sgd", LR, 0, WD, 0)));
        net.init();
        MultiLayerNetwork plain = new MultiLayerNetwork(configuration(new Optimizer("sgd", LR, 0, 0, WD)));
        plain.init();
        assertArrayEquals(net.params().toFloatVector(), plain.params().toFloatVector());
        for (int t = 0; t < 4; t++) {
            net.fit(features(), labels());
            plain.fit(features(), labels());
        }
        float[] a = net.params().toFloatVector();
        float[] b = plain.params().toFloatVector();
        for (int i = 0; i < a.length; i++) {
            assertEquals(b[i], a[i], 1e-6f * Math.max(1f, Math.abs(b[i])), "parameter " + i);
        }
    }

    /** The rule and its velocity travel in DL4J's JSON and model zips, so checkpoints and outputs resume it. */
    @Test
    void survivesJsonAndModelZipsWithItsVelocity() throws Exception {
        MultiLayerConfiguration conf = configuration(new Optimizer("pytorch-sgd", LR, MU, WD, 0));
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        for (int l = 0; l < 2; l++) {
            BaseLayer layer = (BaseLayer) back.getConf(l).getLayer();
            assertEquals(new HeavyBall(LR, MU), layer.getIUpdater(), "layer " + l);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        for (int t = 0; t < 3; t++) {
            net.fit(features(), labels());
        }
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, zip, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip.toByteArray()), true);
        assertArrayEquals(net.getUpdater(true).getStateViewArray().toFloatVector(),
                restored.getUpdater(true).getStateViewArray().toFloatVector(), "velocity");
        float[] v = restored.getUpdater(true).getStateViewArray().toFloatVector();
        assertTrue(java.util.Arrays.stream(toDouble(Nd4j.createFromArray(v))).anyMatch(d -> d != 0), "velocity is all zero");
        // one more step from the restored model equals one more step of the original
        net.fit(features(), labels());
        restored.fit(features(), labels());
        assertArrayEquals(net.params().toFloatVector(), restored.params().toFloatVector());
    }

    private static double[] toDouble(INDArray a) {
        float[] f = a.toFloatVector();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
