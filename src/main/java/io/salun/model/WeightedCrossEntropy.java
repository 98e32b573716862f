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
 *
 * <p><b>Adaptive ascent</b> (SFR-on, Huang et al., NeurIPS 2024: the official code's
 * {@code AdaptiveLoss}): with exponent {@code λ > 0}, the rows of negative weight (the ascent rows)
 * are reweighted by their own current loss, {@code w_i ← w_i · n_a·c_i / Σ_j c_j} with
 * {@code c_i = 1/(ℓ_i^λ + 10⁻¹⁵)}, {@code ℓ_i = −log p_{i,y_i}} and the sum over the minibatch's
 * {@code n_a} ascent rows ({@code c} is a constant of the step, as the official code detaches it):
 * records the model already gets wrong are pushed less. The weights' mean stays {@code w}, so
 * {@code λ = 0} is the plain weighted loss; rows of positive weight never change.
 */
public final class WeightedCrossEntropy implements ILossFunction {
    private static final long serialVersionUID = 2L;
    /** As {@link LossMCXENT}'s default: probabilities are clipped to [ε, 1 − ε] in the score. */
    private static final double CLIP = 1e-10;

    /** λ of the adaptive ascent; 0: off. */
    @org.nd4j.shade.jackson.annotation.JsonProperty("adaptiveLambda")
    private double adaptiveLambda;

    /** The plain weighted cross-entropy (no adaptive ascent). */
    public WeightedCrossEntropy() {
        this(0);
    }

    /** With adaptive ascent of exponent {@code adaptiveLambda} (≥ 0; 0 is off). */
    public WeightedCrossEntropy(double adaptiveLambda) {
        if (!(adaptiveLambda >= 0) || Double.isInfinite(adaptiveLambda)) {
            throw new IllegalArgumentException("adaptive ascent: a finite exponent >= 0 expected, found " + adaptiveLambda);
        }
        this.adaptiveLambda = adaptiveLambda;
    }

    public double adaptiveLambda() {
        return adaptiveLambda;
    }

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

    private INDArray scoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        requireSoftmax(activationFn);
        INDArray p = activationFn.getActivation(preOutput.dup(), true);
        Transforms.max(p, CLIP, false);
        Transforms.min(p, 1.0 - CLIP, false);
        INDArray logP = Transforms.log(p, false);
        INDArray scores = logP.muli(adaptive(labels, logP));
        if (mask != null) {
            LossUtil.applyMask(scores, mask);
        }
        return scores;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        requireSoftmax(activationFn);
        INDArray p = activationFn.getActivation(preOutput.dup(), true);
        INDArray y = labels;
        if (adaptiveLambda > 0) {
            INDArray clipped = Transforms.min(Transforms.max(p, CLIP, true), 1.0 - CLIP, false);
            y = adaptive(labels, Transforms.log(clipped, false));
        }
        INDArray grad = p.muliColumnVector(y.sum(true, 1)).subi(y);
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

    /**
     * {@code labels} with the ascent rows reweighted (a new array), or {@code labels} itself when
     * adaptive ascent is off or no row ascends. {@code logP} is the clipped log-softmax.
     */
    private INDArray adaptive(INDArray labels, INDArray logP) {
        if (adaptiveLambda == 0) {
            return labels;
        }
        int rows = (int) labels.size(0);
        int classes = (int) labels.size(1);
        float[] y = labels.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
        float[] lp = logP.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
        double[] c = new double[rows];
        double sum = 0;
        int ascent = 0;
        for (int i = 0; i < rows; i++) {
            double w = 0;
            double weighted = 0;
            for (int k = 0; k < classes; k++) {
                w += y[i * classes + k];
                weighted += y[i * classes + k] * lp[i * classes + k];
            }
            if (w < 0) {
                double loss = -weighted / w; // the row's own cross-entropy, −log p_y for w·e_y
                c[i] = 1 / (Math.pow(loss, adaptiveLambda) + 1e-15);
                sum += c[i];
                ascent++;
            }
        }
        if (ascent == 0) {
            return labels;
        }
        for (int i = 0; i < rows; i++) {
            if (c[i] > 0) {
                float factor = (float) (ascent * c[i] / sum);
                for (int k = 0; k < classes; k++) {
                    y[i * classes + k] *= factor;
                }
            }
        }
        return org.nd4j.linalg.factory.Nd4j.create(y, new long[] {rows, classes}, 'c').castTo(labels.dataType());
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
        return adaptiveLambda == 0 ? name() : name() + "(adaptive ascent, lambda=" + adaptiveLambda + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightedCrossEntropy w && Double.compare(w.adaptiveLambda, adaptiveLambda) == 0;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(WeightedCrossEntropy.class, adaptiveLambda);
    }

    /**
     * {@code configuration} with its classifier's loss replaced by this one.
     *
     * @throws IllegalArgumentException if the network does not end in a softmax layer trained with
     *                                  cross-entropy (MCXENT or negative log-likelihood), naming what it found
     */
    public static NetworkConfig onOutput(NetworkConfig configuration, String method) {
        return onOutput(configuration, method, new WeightedCrossEntropy());
    }

    /** As {@link #onOutput(NetworkConfig, String)}, with {@code weighted} (adaptive ascent, SFR-on). */
    public static NetworkConfig onOutput(NetworkConfig configuration, String method, WeightedCrossEntropy weighted) {
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
                out.setLossFn(weighted);
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
