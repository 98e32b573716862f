package io.salun.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The saliency pass's BatchNorm: the gradient of a network whose BatchNorm layers normalise with
 * their running statistics (the reference's {@code model.eval()}) against central finite
 * differences of the inference-mode loss of the unchanged network, for a graph of convolutions
 * (rank-4 BatchNorm) and a stack of dense layers (rank 2), with variance and log10-std storage;
 * running statistics get no gradient, and the forward pass equals DL4J's own inference output.
 */
class InferenceBatchNormalizationTest {
    private static final int B = 5;

    private static Net graph(boolean logStd) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .convolutionMode(ConvolutionMode.Truncate).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(6, 6, 2))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(3).hasBias(false)
                        .activation(Activation.IDENTITY).build(), "in")
                .addLayer("bn", new BatchNormalization.Builder().useLogStd(logStd).build(), "conv")
                .addLayer("relu", new ActivationLayer.Builder().activation(Activation.TANH).build(), "bn")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "relu")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return Net.of(g);
    }

    private static Net stack(boolean logStd) {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().useLogStd(logStd).build())
                .layer(new ActivationLayer.Builder().activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.feedForward(4)).build());
        n.init();
        return Net.of(n);
    }

    /** Running statistics far from a batch's, so inference and training mode differ. */
    private static void setStatistics(Net net, Random r) {
        INDArray p = net.params();
        long offset = 0;
        for (Net.Block b : net.blocks()) {
            if (b.conf() instanceof BatchNormalization) {
                for (long i = offset; i < offset + b.length(); i++) {
                    double v = switch (b.param()) {
                        case "gamma" -> 0.5 + r.nextDouble();
                        case "beta", "mean" -> r.nextGaussian();
                        case "var" -> 0.3 + 2 * r.nextDouble();
                        default -> Math.log10(Math.sqrt(0.3 + 2 * r.nextDouble()));
                    };
                    p.putScalar(i, v);
                }
            }
            offset += b.length();
        }
    }

    /** Σ −ln p(y|x) of the unchanged network in inference mode. */
    private static double loss(Net net, INDArray x, int[] y) {
        INDArray out = net.output(x, false);
        double l = 0;
        for (int i = 0; i < y.length; i++) {
            l -= Math.log(out.getDouble(i, y[i]));
        }
        return l;
    }

    @ParameterizedTest(name = "graph {0}, log10 std {1}")
    @ValueSource(strings = {"graph,var", "graph,log", "stack,var", "stack,log"})
    void theGradientIsTheInferenceLossesGradient(String kind) {
        boolean graph = kind.startsWith("graph");
        boolean logStd = kind.endsWith("log");
        Random r = new Random(11);
        Net net = graph ? graph(logStd) : stack(logStd);
        setStatistics(net, r);
        // parameters a snapshot (float32) holds exactly
        net.params().assign(net.params().castTo(DataType.FLOAT).castTo(DataType.DOUBLE));
        long[] shape = graph ? new long[] {B, 2, 6, 6} : new long[] {B, 4};
        INDArray x = Nd4j.randn(DataType.DOUBLE, shape);
        int[] y = new int[B];
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, B, 3);
        for (int i = 0; i < B; i++) {
            y[i] = r.nextInt(3);
            labels.putScalar(i, y[i], 1.0);
        }
        NetworkSnapshot inference = NetworkSnapshot.of(net).inferenceForm();
        Net gradNet = inference.net();
        double[] expected = net.output(x, false).dup().data().asDouble();
        double[] actual = gradNet.output(x, false).dup().data().asDouble();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-12, "the inference form's forward pass, output " + i);
        }
        double[] g = gradNet.gradient(x, labels).dup().toDoubleVector();
        boolean[] stats = ParameterRoles.untrainable(net);
        double[] params = net.params().toDoubleVector();
        int checked = 0;
        for (int i = 0; i < params.length; i++) {
            if (stats[i]) {
                assertEquals(0.0, g[i], "running statistics get no gradient");
                continue;
            }
            double h = 1e-6;
            net.params().putScalar(i, params[i] + h);
            double up = loss(net, x, y);
            net.params().putScalar(i, params[i] - h);
            double down = loss(net, x, y);
            net.params().putScalar(i, params[i]);
            double fd = (up - down) / (2 * h);
            assertEquals(fd, g[i], 1e-8 + 1e-7 * Math.abs(fd), "parameter " + i);
            checked++;
        }
        assertTrue(checked > 20);
    }
}
