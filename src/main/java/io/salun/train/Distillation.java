package io.salun.train;

import io.salun.data.Shard;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * SCRUB's targets (Kurmanji et al., NeurIPS 2023): a student, starting at θo, trained against the
 * frozen teacher θo. With {@code p_t} the teacher's softmax output (inference mode) and
 * {@code p_s} the student's, {@code KL(p_t ‖ p_s) = Σ p_t log p_t − Σ p_t log p_s}, whose gradient
 * with respect to the student's logits is {@code p_s − p_t}: cross-entropy against the soft labels
 * {@code p_t}. So each row's label row is
 * <ul>
 *   <li>a forget row (the max-steps): {@code −p_t}, ascending on the KL divergence
 *       (gradient {@code −(p_s − p_t)});</li>
 *   <li>a retain row (the min-steps): {@code γ·e_y + α·p_t}, descending on
 *       {@code γ·ℓCE(y) + α·KL(p_t ‖ p_s)} (gradient {@code γ(p_s − e_y) + α(p_s − p_t)}),</li>
 * </ul>
 * fitted with {@code io.salun.model.WeightedCrossEntropy}, whose gradient {@code p_s·ΣY − Y} is
 * exactly these. Temperature 1 (docs/METHODS.md §3b).
 *
 * <p>The teacher travels with the targets and is built once per deserialised copy (a task of a
 * round), in inference mode.
 */
public final class Distillation implements Targets {
    private static final long serialVersionUID = 1L;

    private final NetworkSnapshot teacher;
    private final double alpha;
    private final double gamma;
    private transient Net teacherNet;

    /**
     * @param teacher the frozen teacher (the original model)
     * @param alpha   α, the KL term's weight in the min-steps (≥ 0)
     * @param gamma   γ, the cross-entropy's weight in the min-steps (≥ 0)
     */
    public Distillation(NetworkSnapshot teacher, double alpha, double gamma) {
        if (!(alpha >= 0) || !(gamma >= 0) || Double.isInfinite(alpha) || Double.isInfinite(gamma) || alpha + gamma == 0) {
            throw new IllegalArgumentException("SCRUB: alpha and gamma must be finite, >= 0 and not both 0, found "
                    + alpha + ", " + gamma);
        }
        this.teacher = teacher;
        this.alpha = alpha;
        this.gamma = gamma;
    }

    @Override
    public Minibatch minibatch(Net net, Shard shard, int[] order, int from, int to, int classes, int epoch) {
        Minibatch batch = Minibatch.of(shard, order, from, to, classes, shard::label);
        Net t = teacher();
        INDArray pt = t.output(batch.features().castTo(t.params().dataType()), false);
        float[] y = new float[batch.size() * classes];
        float[] p = pt.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).data().asFloat();
        for (int i = 0; i < batch.size(); i++) {
            int row = order[from + i];
            boolean forget = shard.forget(row);
            for (int k = 0; k < classes; k++) {
                y[i * classes + k] = forget ? -p[i * classes + k] : (float) (alpha * p[i * classes + k]);
            }
            if (!forget) {
                y[i * classes + shard.label(row)] += (float) gamma;
            }
        }
        return new Minibatch(batch.features(), org.nd4j.linalg.factory.Nd4j.create(y, new long[] {batch.size(), classes}, 'c'),
                batch.size());
    }

    private Net teacher() {
        if (teacherNet == null) {
            teacherNet = teacher.net();
        }
        return teacherNet;
    }

    public double alpha() {
        return alpha;
    }

    public double gamma() {
        return gamma;
    }

    @Override
    public String name() {
        return "scrub(alpha=" + alpha + ", gamma=" + gamma + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Distillation d && d.alpha == alpha && d.gamma == gamma
                && d.teacher.config().equals(teacher.config()) && Arrays.equals(d.teacher.parameters(), teacher.parameters());
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(alpha, gamma, Arrays.hashCode(teacher.parameters()));
    }
}
