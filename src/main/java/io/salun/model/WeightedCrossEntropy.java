package io.salun.model;

import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossUtil;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Softmax cross-entropy with a signed weight per example, carried in the labels: row {@code i} of
 * the labels is {@code w_i·e_{y_i}} (a one-hot row scaled by the example's weight, which may be
 * negative). Per example, {@code ℓ_i = −Σ_k Y_ik log p_ik = −w_i log p_{i,y_i}} and the gradient
 * with respect to the logits is {@code ∂ℓ_i/∂z_i = p_i·Σ_k Y_ik − Y_i = w_i (p_i − e_{y_i})}.
 *
 * <p>DL4J's own {@link LossMCXENT} with softmax returns {@code p − Y}, which is that gradient only
 * when every label row sums to 1; with weighted rows it would pull a negative-weight example
 * towards its class, not away. A one-hot row ({@code w = 1}) gives exactly MCXENT's gradient and
 * score. The per-example label mask is no way out: DL4J also multiplies the output layer's
 * pre-activations by it. NegGrad+ trains with this loss ({@code io.salun.train.SignedLabels}); the
 * published model gets its original loss back ({@link #restore}).
 */
public final class WeightedCrossEntropy implements ILossFunction {
    private static final long serialVersionUID = 1L;
    /** As {@link LossMCXENT}'s default: probabilities are clipped to [ε, 1 − ε] in the score. */
    private static final double CLIP = 1e-10;

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double score = -scoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? score / labels.size(0) : score;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return scoreArray(labels, preOutput, activationFn, mask).sum(true, 1).negi();
    }

    private static INDArray scoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        requireSoftmax(activationFn);
        INDArray p = activationFn.getActivation(preOutput.dup(), true);
        Transforms.max(p, CLIP, false);
        Transforms.min(p, 1.0 - CLIP, false);
        INDArray scores = Transforms.log(p, false).muli(labels);
        if (mask != null) {
            LossUtil.applyMask(scores, mask);
        }
        return scores;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        requireSoftmax(activationFn);
        INDArray p = activationFn.getActivation(preOutput.dup(), true);
        INDArray grad = p.muliColumnVector(labels.sum(true, 1)).subi(labels);
        if (mask != null) {
            LossUtil.applyMask(grad, mask);
        }
        return grad;
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    private static void requireSoftmax(IActivation activationFn) {
        if (!(activationFn instanceof ActivationSoftmax)) {
            throw new IllegalStateException("weighted cross-entropy needs a softmax output layer, found " + activationFn);
        }
    }

    @Override
    public String name() {
        return "WeightedCrossEntropy";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightedCrossEntropy;
    }

    @Override
    public int hashCode() {
        return WeightedCrossEntropy.class.hashCode();
    }

    /**
     * {@code configuration} with its classifier's loss replaced by this one.
     *
     * @throws IllegalArgumentException if the network does not end in a softmax layer trained with
     *                                  cross-entropy (MCXENT or negative log-likelihood), naming what it found
     */
    public static NetworkConfig onOutput(NetworkConfig configuration, String method) {
        int[] outputs = {0};
        NetworkConfig edited = configuration.editLayers(layerConf -> {
            Layer layer = layerConf.getLayer();
            if (layer instanceof BaseOutputLayer out) {
                ILossFunction loss = out.getLossFn();
                boolean crossEntropy = loss instanceof LossMCXENT || loss instanceof LossNegativeLogLikelihood
                        || loss instanceof WeightedCrossEntropy;
                if (!crossEntropy || !(out.getActivationFn() instanceof ActivationSoftmax)) {
                    throw new IllegalArgumentException(method + " needs a softmax classifier trained with cross-entropy;"
                            + " the model's output layer '" + out.getLayerName() + "' has " + out.getActivationFn()
                            + " with " + loss);
                }
                out.setLossFn(new WeightedCrossEntropy());
                outputs[0]++;
            }
        });
        if (outputs[0] != 1) {
            throw new IllegalArgumentException(method + " needs one output layer, found " + outputs[0]);
        }
        return edited;
    }

    /**
     * {@code trained} with the output loss of {@code original} in place of this one, so a published
     * model loads in plain DL4J; the parameters, updater state and counters are unchanged.
     */
    public static NetworkSnapshot restore(NetworkSnapshot trained, NetworkConfig original) {
        ILossFunction[] originalLoss = {null};
        original.editLayers(c -> {
            if (c.getLayer() instanceof BaseOutputLayer out) {
                originalLoss[0] = out.getLossFn();
            }
        });
        boolean[] weighted = {false};
        NetworkConfig restored = trained.config().editLayers(c -> {
            if (c.getLayer() instanceof BaseOutputLayer out && out.getLossFn() instanceof WeightedCrossEntropy) {
                out.setLossFn(originalLoss[0]);
                weighted[0] = true;
            }
        });
        if (!weighted[0]) {
            return trained;
        }
        return new NetworkSnapshot(restored, trained.parameters(), trained.updaterState(),
                trained.iteration(), trained.epoch());
    }
}
