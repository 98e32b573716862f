package io.salun.train;

import io.salun.data.RandomShards;
import io.salun.data.Shard;
import io.salun.model.Net;
import io.salun.model.NetworkConfig;
import io.salun.model.NetworkSnapshot;
import io.salun.model.WeightedCrossEntropy;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SCRUB's targets on a tiny double-precision network: the gradient DL4J computes from them equals
 * central finite differences of the SCRUB objective written out independently,
 * {@code Σ_retain [γ·ℓCE(y) + α·KL(p_t ‖ p_s)] − Σ_forget KL(p_t ‖ p_s)}.
 */
class DistillationTest {
    private static final int D = 6;
    private static final int K = 3;
    private static final double ALPHA = 0.5;
    private static final double GAMMA = 1.0;

    private static NetworkConfig doubleMlp(long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(D).nOut(5).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(K)
                        .activation(Activation.SOFTMAX).build())
                .build();
        return NetworkConfig.of(conf);
    }

    @Test
    void theGradientEqualsFiniteDifferencesOfTheScrubObjective() {
        Shard shard = RandomShards.of(9, D, K, 4L, 0, 1, 3);   // rows 0, 3, 6 forget
        NetworkConfig plain = doubleMlp(1);
        Net teacherNet = plain.init(0, 0);
        NetworkSnapshot teacher = NetworkSnapshot.of(teacherNet);
        // the student has moved away from the teacher: otherwise KL and its gradient vanish
        Net student = doubleMlp(2).init(0, 0);
        float[] theta = student.params().dup().data().asFloat();
        int[] order = {0, 1, 2, 3, 4, 5, 6, 7, 8};

        Distillation targets = new Distillation(teacher, ALPHA, GAMMA);
        Minibatch mb = targets.minibatch(null, shard, order, 0, 9, K, 0);
        Net weighted = WeightedCrossEntropy.onOutput(plain, "scrub").at(theta, 0, 0);
        double[] grad = weighted.gradient(mb.features().castTo(DataType.DOUBLE), mb.labels().castTo(DataType.DOUBLE))
                .dup().toDoubleVector();

        INDArray x = mb.features().castTo(DataType.DOUBLE);
        INDArray pt = teacherNet.output(x, false);
        double eps = 1e-6;
        INDArray params = weighted.params();
        double worst = 0;
        double largest = 0;
        for (int i = 0; i < grad.length; i++) {
            double keep = params.getDouble(i);
            params.putScalar(i, keep + eps);
            double up = objective(weighted, x, pt, shard);
            params.putScalar(i, keep - eps);
            double down = objective(weighted, x, pt, shard);
            params.putScalar(i, keep);
            double fd = (up - down) / (2 * eps);
            worst = Math.max(worst, Math.abs(fd - grad[i]));
            largest = Math.max(largest, Math.abs(fd));
        }
        assertTrue(largest > 1e-3, "the objective's gradient is not trivially zero (" + largest + ")");
        // the teacher's probabilities enter the labels in float32, hence the tolerance
        assertTrue(worst < 1e-5 * Math.max(1, largest), "largest difference from finite differences: " + worst);
    }

    /** The SCRUB objective summed over the rows (DL4J's gradient is the minibatch sum), in double. */
    private static double objective(Net student, INDArray x, INDArray pt, Shard shard) {
        INDArray ps = student.output(x, false);
        double total = 0;
        for (int i = 0; i < shard.size(); i++) {
            double kl = 0;
            for (int k = 0; k < K; k++) {
                double t = pt.getDouble(i, k);
                kl += t * (Math.log(t) - Math.log(ps.getDouble(i, k)));
            }
            if (shard.forget(i)) {
                total -= kl;
            } else {
                total += GAMMA * -Math.log(ps.getDouble(i, shard.label(i))) + ALPHA * kl;
            }
        }
        return total;
    }

    @Test
    void aStudentEqualToItsTeacherOnlyFeelsTheCrossEntropy() {
        Shard shard = RandomShards.of(6, D, K, 8L, 0, 1, 2);
        NetworkConfig plain = doubleMlp(1);
        NetworkSnapshot teacher = NetworkSnapshot.of(plain.init(0, 0));
        Minibatch mb = new Distillation(teacher, ALPHA, GAMMA).minibatch(null, shard, new int[] {0, 1, 2, 3, 4, 5}, 0, 6, K, 0);
        INDArray rowSums = mb.labels().sum(1);
        for (int i = 0; i < 6; i++) {
            assertEquals(shard.forget(i) ? -1.0 : ALPHA + GAMMA, rowSums.getDouble(i), 1e-6, "row " + i);
        }
        // at θ = θo the KL terms' gradients vanish: what is left is γ times plain cross-entropy on the retain rows
        Net weighted = WeightedCrossEntropy.onOutput(plain, "scrub").at(teacher.parameters(), 0, 0);
        double[] g = weighted.gradient(mb.features().castTo(DataType.DOUBLE), mb.labels().castTo(DataType.DOUBLE))
                .dup().toDoubleVector();
        int retain = 3;
        float[] x = new float[retain * D];
        float[] y = new float[retain * K];
        int j = 0;
        for (int i = 0; i < 6; i++) {
            if (!shard.forget(i)) {
                shard.copyFeatures(i, x, j * D);
                y[j * K + shard.label(i)] = 1f;
                j++;
            }
        }
        double[] ce = plain.at(teacher.parameters(), 0, 0).gradient(Nd4j.create(x, new long[] {retain, D}, 'c')
                .castTo(DataType.DOUBLE), Nd4j.create(y, new long[] {retain, K}, 'c').castTo(DataType.DOUBLE)).dup()
                .toDoubleVector();
        for (int i = 0; i < g.length; i++) {
            assertEquals(GAMMA * ce[i], g[i], 1e-6, "parameter " + i);
        }
    }

    @Test
    void weightsThatCancelEverythingAreRefused() {
        NetworkSnapshot teacher = NetworkSnapshot.of(doubleMlp(1).init(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Distillation(teacher, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Distillation(teacher, -1, 1));
    }
}
