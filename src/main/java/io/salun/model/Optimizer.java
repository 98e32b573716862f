package io.salun.model;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.learning.regularization.L2Regularization;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The optimiser of one training stage: an update rule, its learning rate, momentum (SGD only),
 * and decoupled weight decay or L2 regularisation. A trained model carries the optimiser it was
 * trained with in its configuration; unlearning replaces it with its own through {@link #applyTo(MultiLayerConfiguration)}.
 *
 * @param rule        {@code sgd} (momentum &gt; 0 gives Nesterov momentum, weight decay decoupled),
 *                    {@code pytorch-sgd} (PyTorch's {@code torch.optim.SGD}: classical momentum,
 *                    {@link HeavyBall}, with weight decay added to the gradient, i.e. coupled L2), or
 *                    {@code adam}
 * @param learningRate step size, &gt; 0
 * @param momentum    SGD momentum in [0, 1)
 * @param weightDecay weight decay coefficient, ≥ 0: decoupled (applied after the update rule) for
 *                    {@code sgd} and {@code adam}, coupled (added to the gradient) for {@code pytorch-sgd}
 * @param l2          L2 penalty coefficient (added to the gradient before the update rule), ≥ 0
 */
public record Optimizer(String rule, double learningRate, double momentum, double weightDecay, double l2)
        implements Serializable {

    public Optimizer {
        rule = rule.toLowerCase(Locale.ROOT);
        if (!io.salun.config.StageSettings.OPTIMIZERS.contains(rule)) {
            throw new IllegalArgumentException("optimizer rule: expected one of " + io.salun.config.StageSettings.OPTIMIZERS + ", found " + rule);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate: expected a finite value > 0, found " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum: expected a value in [0, 1), found " + momentum);
        }
        if (!(weightDecay >= 0) || !(l2 >= 0)) {
            throw new IllegalArgumentException("weight decay and l2: expected values >= 0, found " + weightDecay + ", " + l2);
        }
    }

    /** The DL4J update rule. */
    public IUpdater updater() {
        if (rule.equals("adam")) {
            return new Adam(learningRate);
        }
        if (rule.equals("pytorch-sgd")) {
            return new HeavyBall(learningRate, momentum);
        }
        return momentum > 0 ? new Nesterovs(learningRate, momentum) : new Sgd(learningRate);
    }

    /** Whether weight decay is added to the gradient (PyTorch's SGD) rather than applied after the update. */
    private boolean coupledDecay() {
        return rule.equals("pytorch-sgd");
    }

    /** The L2 coefficient added to the gradient before the update rule. */
    private double coupledL2() {
        return l2 + (coupledDecay() ? weightDecay : 0);
    }

    private List<Regularization> regularization() {
        List<Regularization> r = new ArrayList<>();
        if (coupledL2() > 0) {
            r.add(new L2Regularization(coupledL2()));
        }
        if (weightDecay > 0 && !coupledDecay()) {
            r.add(new WeightDecay(weightDecay, true));
        }
        return r;
    }

    NeuralNetConfiguration.Builder applyTo(NeuralNetConfiguration.Builder builder) {
        builder.updater(updater());
        if (coupledL2() > 0) {
            builder.l2(coupledL2()).l2Bias(coupledL2());
        }
        if (weightDecay > 0 && !coupledDecay()) {
            builder.weightDecay(weightDecay, true).weightDecayBias(weightDecay, true);
        }
        return builder;
    }

    /**
     * A copy of {@code configuration} whose every trainable layer uses this optimiser (weights and
     * biases alike: SalUn's saliency and mask cover every trainable parameter).
     */
    public NetworkConfig applyTo(NetworkConfig configuration) {
        return configuration.editLayers(layerConf -> {
            Layer layer = layerConf.getLayer();
            if (layer instanceof BaseLayer base) {
                base.setIUpdater(updater());
                base.setBiasUpdater(null);
                base.setRegularization(regularization());
                base.setRegularizationBias(regularization());
            }
        });
    }

    /** As {@link #applyTo(NetworkConfig)}, for a stack. */
    public MultiLayerConfiguration applyTo(MultiLayerConfiguration configuration) {
        MultiLayerConfiguration copy = MultiLayerConfiguration.fromJson(configuration.toJson());
        for (NeuralNetConfiguration layerConf : copy.getConfs()) {
            Layer layer = layerConf.getLayer();
            if (layer instanceof BaseLayer base) {
                base.setIUpdater(updater());
                base.setBiasUpdater(null);
                base.setRegularization(regularization());
                base.setRegularizationBias(regularization());
            }
        }
        copy.setIterationCount(0);
        copy.setEpochCount(0);
        return copy;
    }

    @Override
    public String toString() {
        return rule + "(lr=" + learningRate + (rule.endsWith("sgd") ? ", momentum=" + momentum : "")
                + ", weightDecay=" + weightDecay + ", l2=" + l2 + ")";
    }
}
