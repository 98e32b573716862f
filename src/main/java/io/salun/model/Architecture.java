package io.salun.model;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Locale;

/**
 * The image classifiers the job can train from scratch. Both end in a softmax output layer with
 * multi-class cross-entropy, the loss SalUn's saliency and random-label fine-tuning are defined on.
 */
public enum Architecture {
    /**
     * The reference LeNet of DATA.md: conv 5×5×20 → ReLU → max-pool 2 → conv 5×5×50 → ReLU →
     * max-pool 2 → dense 500 ReLU → dense K softmax; 431,080 parameters for 28×28×1 and K = 10.
     */
    LENET {
        @Override
        public MultiLayerConfiguration configuration(int rows, int cols, int channels, int classes, long seed,
                                                     Optimizer optimizer) {
            return optimizer.applyTo(base(seed)).list()
                    .layer(new ConvolutionLayer.Builder(5, 5).nOut(20).stride(1, 1).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                    .layer(new ConvolutionLayer.Builder(5, 5).nOut(50).stride(1, 1).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                    .layer(new DenseLayer.Builder().nOut(500).activation(Activation.RELU).build())
                    .layer(output(classes))
                    .setInputType(InputType.convolutionalFlat(rows, cols, channels))
                    .build();
        }
    },
    /** A small multilayer perceptron: dense 128 ReLU → dense K softmax (101,770 parameters for 784 → 10). */
    MLP {
        @Override
        public MultiLayerConfiguration configuration(int rows, int cols, int channels, int classes, long seed,
                                                     Optimizer optimizer) {
            return optimizer.applyTo(base(seed)).list()
                    .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
                    .layer(output(classes))
                    .setInputType(InputType.feedForward((long) rows * cols * channels))
                    .build();
        }
    },
    /** ResNet-18, CIFAR form ({@link ResNet18}): a computation graph, base width {@code model.width}. */
    RESNET18 {
        @Override
        public MultiLayerConfiguration configuration(int rows, int cols, int channels, int classes, long seed,
                                                     Optimizer optimizer) {
            throw new UnsupportedOperationException("resnet18 is a computation graph: use network(...)");
        }

        @Override
        public Net network(int rows, int cols, int channels, int classes, long seed, Optimizer optimizer, int width,
                           boolean normalise) {
            org.deeplearning4j.nn.graph.ComputationGraph g = new org.deeplearning4j.nn.graph.ComputationGraph(
                    ResNet18.configuration(rows, cols, channels, classes, width, seed, optimizer, normalise));
            g.init();
            return Net.of(g);
        }
    };

    /**
     * The network configuration for {@code rows × cols × channels} images, flattened channels first
     * (the order of DL4J's flat convolutional input), and {@code classes} classes.
     */
    public abstract MultiLayerConfiguration configuration(int rows, int cols, int channels, int classes, long seed,
                                                          Optimizer optimizer);

    /** The network configuration for {@code rows × cols} single-channel images and {@code classes} classes. */
    public MultiLayerConfiguration configuration(int rows, int cols, int classes, long seed, Optimizer optimizer) {
        return configuration(rows, cols, 1, classes, seed, optimizer);
    }

    /**
     * A freshly initialised network of this architecture (its seed decides the weights);
     * {@code width} is the base width of architectures that have one (resnet18), ignored otherwise.
     */
    public Net network(int rows, int cols, int channels, int classes, long seed, Optimizer optimizer, int width) {
        return network(rows, cols, channels, classes, seed, optimizer, width, false);
    }

    /**
     * As {@link #network(int, int, int, int, long, Optimizer, int)}, with {@code normalise} a frozen
     * per-channel input normalisation first (resnet18 only: the reference's {@code normalize}).
     */
    public Net network(int rows, int cols, int channels, int classes, long seed, Optimizer optimizer, int width,
                       boolean normalise) {
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(
                configuration(rows, cols, channels, classes, seed, optimizer));
        net.init();
        return Net.of(net);
    }

    /** Parses a setting value ({@code lenet}, {@code mlp}, {@code resnet18}). */
    public static Architecture parse(String name) {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
    }

    private static NeuralNetConfiguration.Builder base(long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER);
    }

    private static OutputLayer output(int classes) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(classes)
                .activation(Activation.SOFTMAX)
                .build();
    }
}
