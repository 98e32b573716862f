package io.salun.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * ResNet-18 in the CIFAR form the SalUn paper and its peers train (the reference code's
 * torchvision {@code resnet18} with {@code conv1} a 3×3 stride-1 convolution and no stem
 * max-pool): conv 3×3 → BN → ReLU, four stages of two BasicBlocks at widths
 * {@code w, 2w, 4w, 8w} (stride 2 at the first block of stages 2–4, a 1×1 projection with BN on
 * the shortcut where the shape changes), global average pooling, dense K softmax. No convolution
 * has a bias; BatchNorm keeps the variance ({@code useLogStd=false}) with PyTorch's ε = 1e-5 and
 * momentum 0.1 (DL4J's decay 0.9). Padding is explicit (1 for 3×3), as PyTorch's, so stride-2
 * convolutions sample the same positions.
 *
 * <p>Vertices are named as torchvision's modules ({@code conv1}, {@code bn1},
 * {@code layer2.0.conv1}, {@code layer2.0.downsample.0}, {@code fc} …), so PyTorch weights map
 * onto them by name. 11,173,962 trainable parameters for 32×32×3 and K = 10 at {@code w = 64}.
 */
public final class ResNet18 {
    /** The vertex of an imported input normalisation (torch's {@code normalize} module). */
    public static final String NORMALIZE = "normalize";

    private ResNet18() {
    }

    /** The stage widths at base width {@code w}. */
    static int[] widths(int w) {
        return new int[] {w, 2 * w, 4 * w, 8 * w};
    }

    /**
     * The configuration for {@code rows × cols × channels} images (flat input, channels first) and
     * {@code classes} classes, at base width {@code width}.
     */
    public static ComputationGraphConfiguration configuration(int rows, int cols, int channels, int classes, int width,
                                                              long seed, Optimizer optimizer) {
        return configuration(rows, cols, channels, classes, width, seed, optimizer, false);
    }

    /**
     * As {@link #configuration(int, int, int, int, int, long, Optimizer)}, with {@code normalise}
     * a frozen per-channel input normalisation first ({@link #NORMALIZE}: a 1×1 convolution the
     * imported {@code normalize.mean|std} set, never trained).
     */
    public static ComputationGraphConfiguration configuration(int rows, int cols, int channels, int classes, int width,
                                                              long seed, Optimizer optimizer, boolean normalise) {
        if (width < 1) {
            throw new IllegalArgumentException("resnet18 width must be >= 1, found " + width);
        }
        int[] w = widths(width);
        ComputationGraphConfiguration.GraphBuilder g = optimizer.applyTo(new NeuralNetConfiguration.Builder()
                        .seed(seed).dataType(DataType.FLOAT).weightInit(WeightInit.RELU)
                        .convolutionMode(ConvolutionMode.Truncate))
                .graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.convolutionalFlat(rows, cols, channels));
        String first = "input";
        if (normalise) {
            g.addLayer(NORMALIZE, new org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop(
                    new ConvolutionLayer.Builder(1, 1).nOut(channels).hasBias(true).activation(Activation.IDENTITY).build()),
                    "input");
            first = NORMALIZE;
        }
        String last = convBn(g, "conv1", "bn1", first, w[0], 3, 1);
        g.addLayer("relu", relu(), last);
        last = "relu";
        int in = w[0];
        for (int stage = 0; stage < 4; stage++) {
            for (int block = 0; block < 2; block++) {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                String p = "layer" + (stage + 1) + "." + block + ".";
                String a = convBn(g, p + "conv1", p + "bn1", last, w[stage], 3, stride);
                g.addLayer(p + "relu1", relu(), a);
                String b = convBn(g, p + "conv2", p + "bn2", p + "relu1", w[stage], 3, 1);
                String shortcut = last;
                if (stride != 1 || in != w[stage]) {
                    shortcut = convBn(g, p + "downsample.0", p + "downsample.1", last, w[stage], 1, stride);
                }
                g.addVertex(p + "add", new ElementWiseVertex(ElementWiseVertex.Op.Add), b, shortcut);
                g.addLayer(p + "relu2", relu(), p + "add");
                last = p + "relu2";
                in = w[stage];
            }
        }
        g.addLayer("avgpool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last);
        g.addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), "avgpool");
        return g.setOutputs("fc").build();
    }

    /** A convolution without bias, then BatchNorm; returns the BatchNorm's vertex. */
    private static String convBn(ComputationGraphConfiguration.GraphBuilder g, String conv, String bn, String input,
                                 int out, int kernel, int stride) {
        int pad = kernel / 2;
        g.addLayer(conv, new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride).padding(pad, pad).nOut(out)
                .hasBias(false).activation(Activation.IDENTITY).build(), input);
        g.addLayer(bn, new BatchNormalization.Builder().useLogStd(false).eps(1e-5).decay(0.9).build(), conv);
        return bn;
    }

    private static ActivationLayer relu() {
        return new ActivationLayer.Builder().activation(Activation.RELU).build();
    }
}
