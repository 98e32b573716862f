package io.salun.diffusion;

import io.salun.config.Seeds;
import io.salun.data.Example;
import io.salun.data.Shard;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The saliency gradient of the guided diffusion loss, computed by one weighted DL4J backward pass,
 * against central finite differences of the loss itself, {@code Σ (1/d)‖x0 − (1+w)f(x|c) + w·f(x|∅)‖²},
 * evaluated directly with two forward passes (double precision).
 */
class GuidedSaliencyTest {
    private static final int D = 6;
    private static final int K = 3;
    private static final double W = 2.0;
    private static final long SEED = 17;

    @Test
    void weightedBackwardPassEqualsTheGuidedLossGradient() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(3).dataType(DataType.DOUBLE).weightInit(WeightInit.XAVIER).updater(new Sgd(0.1)).list()
                .layer(new DenseLayer.Builder().nOut(8).activation(Activation.SWISH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(D).activation(Activation.IDENTITY).build())
                .setInputType(InputType.feedForward(Conditioning.inputLength(D, K))).build());
        net.init();
        Random random = new Random(1);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            float[] x = new float[D];
            for (int p = 0; p < D; p++) {
                x[p] = random.nextFloat();
            }
            examples.add(new Example(40 + i, i % K, x, true));
        }
        Shard shard = Shard.pack(examples.iterator());
        double[] g = GuidedSaliency.over(io.salun.model.Net.of(net), shard, 2, K, W, SEED, NoiseSchedule.DDPM).result();

        INDArray params = net.params();
        double h = 1e-6;
        double maxAbs = 0;
        for (double v : g) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        assertTrue(maxAbs > 0);
        for (int i = 0; i < params.length(); i += 7) {
            double original = params.getDouble(i);
            params.putScalar(i, original + h);
            double up = guidedLoss(net, shard);
            params.putScalar(i, original - h);
            double down = guidedLoss(net, shard);
            params.putScalar(i, original);
            double numeric = (up - down) / (2 * h);
            assertEquals(numeric, g[i], 1e-6 * maxAbs + 1e-5 * Math.abs(numeric), "parameter " + i);
        }
    }

    /** The guided loss summed over the shard, straight from its definition. */
    private static double guidedLoss(MultiLayerNetwork net, Shard shard) {
        double[] alphaBars = NoiseSchedule.DDPM.alphaBars();
        int width = Conditioning.inputLength(D, K);
        double total = 0;
        float[] scratch = new float[D];
        for (int row = 0; row < shard.size(); row++) {
            DiffusionTargets.Draw draw = DiffusionTargets.Draw.of(Seeds.derive(SEED, "diffusion-saliency", shard.id(row)),
                    D, NoiseSchedule.DDPM, 0);
            float[] cond = new float[width];
            float[] uncond = new float[width];
            DiffusionTargets.input(shard, row, draw, alphaBars, shard.label(row), K, cond, 0, scratch);
            DiffusionTargets.input(shard, row, draw, alphaBars, K, K, uncond, 0, scratch);
            double[] fc = net.output(Nd4j.createFromArray(cond).castTo(DataType.DOUBLE).reshape(1, width), false).toDoubleVector();
            double[] fu = net.output(Nd4j.createFromArray(uncond).castTo(DataType.DOUBLE).reshape(1, width), false).toDoubleVector();
            double sq = 0;
            for (int p = 0; p < D; p++) {
                double r = scratch[p] - (1 + W) * fc[p] + W * fu[p];
                sq += r * r;
            }
            total += sq / D;
        }
        return total;
    }
}
