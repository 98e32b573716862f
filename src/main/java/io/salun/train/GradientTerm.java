package io.salun.train;

import org.deeplearning4j.nn.api.Model;
import io.salun.model.Net;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.Serializable;

/**
 * A change to the loss gradient of each step, applied when DL4J has computed it and before the
 * update rule (and before the saliency mask, which multiplies whatever comes out):
 * <ul>
 *   <li>{@link None}: plain cross-entropy;</li>
 *   <li>{@link Ascent}: gradient ascent, i.e. minimising {@code −ℓCE} (GA, SALUN-SPEC §3);</li>
 *   <li>{@link L1Decay}: the l1-sparse penalty {@code α_t‖θ‖₁} with {@code α_t = α(1 − t/T)}
 *       decaying linearly over the stage's {@code T} steps, whose (sub)gradient
 *       {@code α_t·sign(θ)} is added per example (DL4J's gradient at this point is the sum over the
 *       minibatch; the updater divides by its size).</li>
 *   <li>{@link ClipNorm}: global gradient-norm clipping (the diffusion unlearning of SALUN-SPEC §5),
 *       applied after the mask, to the gradient that will actually be applied.</li>
 *   <li>{@link AscentStepMask}: SFR-on's forget steps (docs/METHODS.md §3b): on a step whose
 *       minibatch ascends, the gradient is multiplied by the method's own mask and then clipped;
 *       every other step is left alone.</li>
 * </ul>
 */
public sealed interface GradientTerm extends Serializable {

    /** Hooks the term into {@code net}'s steps; call before attaching a mask. */
    void attach(Net net);

    String name();

    /** Whether the term sees the gradient after the saliency mask (true) or before it. */
    default boolean afterMask() {
        return false;
    }

    record None() implements GradientTerm {
        @Override
        public void attach(Net net) {
        }

        @Override
        public String name() {
            return "cross-entropy";
        }
    }

    record Ascent() implements GradientTerm {
        @Override
        public void attach(Net net) {
            net.addListeners(new BaseTrainingListener() {
                @Override
                public void onGradientCalculation(Model model) {
                    model.gradient().gradient().negi();
                }
            });
        }

        @Override
        public String name() {
            return "gradient-ascent";
        }
    }

    /** @param totalSteps T, the number of steps of the whole stage */
    record L1Decay(double alpha, long totalSteps) implements GradientTerm {
        public L1Decay {
            if (!(alpha >= 0) || totalSteps < 1) {
                throw new IllegalArgumentException("l1 decay: alpha >= 0 and T >= 1 expected, found " + alpha + ", " + totalSteps);
            }
        }

        /** α_t at step t (0-based). */
        public double alphaAt(long step) {
            return alpha * Math.max(0.0, 1.0 - (double) step / totalSteps);
        }

        @Override
        public void attach(Net net) {
            net.addListeners(new BaseTrainingListener() {
                @Override
                public void onGradientCalculation(Model model) {
                    Net m = Net.of(model);
                    double scale = alphaAt(m.iteration()) * m.batchSize();
                    if (scale > 0) {
                        INDArray g = model.gradient().gradient();
                        g.addi(Transforms.sign(m.params(), true).reshape(g.shape()).muli(scale));
                    }
                }
            });
        }

        @Override
        public String name() {
            return "l1-sparse(alpha=" + alpha + ")";
        }
    }

    /**
     * Scales the minibatch's mean gradient to L2 norm at most {@code maxNorm} (as PyTorch's
     * {@code clip_grad_norm_} does to the gradient of a mean loss). DL4J's gradient here is the
     * sum over the minibatch, so the bound is {@code maxNorm × batch size}.
     */
    record ClipNorm(double maxNorm) implements GradientTerm {
        public ClipNorm {
            if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
                throw new IllegalArgumentException("gradient clipping: a finite norm > 0 expected, found " + maxNorm);
            }
        }

        @Override
        public void attach(Net net) {
            net.addListeners(new BaseTrainingListener() {
                @Override
                public void onGradientCalculation(Model model) {
                    INDArray g = model.gradient().gradient();
                    double bound = maxNorm * Net.of(model).batchSize();
                    double norm = g.norm2Number().doubleValue();
                    if (norm > bound) {
                        g.muli(bound / norm);
                    }
                }
            });
        }

        @Override
        public boolean afterMask() {
            return true;
        }

        @Override
        public String name() {
            return "clip-norm(" + maxNorm + ")";
        }
    }

    /**
     * SFR-on's forget step (Huang et al., NeurIPS 2024; official {@code sfron.py}): on a step whose
     * label rows all carry negative weights (an ascent minibatch, {@link ForgetSteps}), the
     * gradient is multiplied by {@code mask} (the Fisher-ratio mask) and then scaled to a mean
     * gradient norm of at most {@code maxNorm}, as the official loop masks {@code param.grad} and
     * calls {@code clip_grad_norm} before {@code optimizer.step()}. Other steps (the retain steps)
     * keep every weight's gradient. Only the gradient is masked: the update rule's momentum and
     * weight decay still move every weight on a forget step, as PyTorch's SGD does.
     *
     * <p>A mask bit of 1 at a BatchNorm running statistic keeps its pseudo-gradient, so the
     * statistics update in every step as PyTorch's buffers do.
     */
    record AscentStepMask(io.salun.mask.Bitset mask, double maxNorm) implements GradientTerm {
        public AscentStepMask {
            java.util.Objects.requireNonNull(mask, "mask");
            if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
                throw new IllegalArgumentException("forget-step clipping: a finite norm > 0 expected, found " + maxNorm);
            }
        }

        @Override
        public void attach(Net net) {
            if (net.numParams() != mask.size()) {
                throw new IllegalArgumentException("forget-step mask has " + mask.size() + " bits but the network has "
                        + net.numParams() + " parameters");
            }
            INDArray m = org.nd4j.linalg.factory.Nd4j.createFromArray(mask.toFloatMask())
                    .castTo(net.params().dataType()).reshape(net.params().shape());
            net.addListeners(new BaseTrainingListener() {
                @Override
                public void onGradientCalculation(Model model) {
                    Net n = Net.of(model);
                    INDArray labels = n.labels();
                    if (labels == null || !ascends(labels)) {
                        return;
                    }
                    INDArray g = model.gradient().gradient();
                    g.muli(m.reshape(g.shape()));
                    double bound = maxNorm * n.batchSize();
                    double norm = g.norm2Number().doubleValue();
                    if (norm > bound) {
                        g.muli(bound / norm);
                    }
                }
            });
        }

        /** Whether every label row of the step has a negative sum (weight). */
        static boolean ascends(INDArray labels) {
            return labels.sum(1).maxNumber().doubleValue() < 0;
        }

        @Override
        public String name() {
            return "forget-steps(mask " + mask.cardinality() + "/" + mask.size() + ", clip " + maxNorm + ")";
        }
    }
}
