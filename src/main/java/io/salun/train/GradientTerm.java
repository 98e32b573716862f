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
}
