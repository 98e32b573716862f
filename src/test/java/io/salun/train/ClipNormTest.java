package io.salun.train;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradient clipping as one plain SGD step (lr 1) shows it: the step is minus the minibatch's mean
 * gradient, so with clipping its norm is the bound and its direction the unclipped step's.
 */
class ClipNormTest {

    private static INDArray step(double maxNorm, INDArray x, INDArray y) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(4).dataType(DataType.DOUBLE).weightInit(WeightInit.XAVIER).updater(new Sgd(1.0)).list()
                .layer(new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(3).activation(Activation.IDENTITY).build())
                .setInputType(InputType.feedForward(4)).build());
        net.init();
        new GradientTerm.ClipNorm(maxNorm).attach(io.salun.model.Net.of(net));
        INDArray before = net.params().dup();
        net.fit(x, y);
        return net.params().sub(before);
    }

    @Test
    void aStepLongerThanTheBoundIsShortenedToItAndKeepsItsDirection() {
        INDArray x = Nd4j.rand(DataType.DOUBLE, 8, 4).muli(4);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 8, 3).muli(10);
        INDArray free = step(1e9, x, y);
        double norm = free.norm2Number().doubleValue();
        assertTrue(norm > 0.05, "the test step is too short to clip: " + norm);

        INDArray clipped = step(norm / 4, x, y);
        assertEquals(norm / 4, clipped.norm2Number().doubleValue(), 1e-9 * norm);
        double cosine = free.mul(clipped).sumNumber().doubleValue() / (norm * clipped.norm2Number().doubleValue());
        assertEquals(1.0, cosine, 1e-12);

        INDArray untouched = step(norm * 2, x, y);
        assertEquals(0.0, untouched.sub(free).norm2Number().doubleValue(), 1e-15, "a step under the bound changed");
    }
}
