package io.salun.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Map;
import java.util.Objects;

/**
 * Classical (heavy-ball) momentum, the rule of PyTorch's {@code torch.optim.SGD(momentum=μ)} with
 * dampening 0 and {@code nesterov=False}: {@code v ← μ·v + g}, {@code θ ← θ − lr·v}, where
 * {@code g} is the minibatch's mean gradient with any coupled L2 term already added (DL4J adds
 * {@code L2Regularization} before the update rule, as PyTorch adds {@code weight_decay·θ}). DL4J
 * has only Nesterov momentum ({@code Nesterovs}), which differs from this from the second step on.
 *
 * <p>State: one velocity per parameter (the updater state view), zero at the start, as PyTorch's
 * momentum buffer is {@code g} after the first step. The configuration travels in DL4J's network
 * JSON (bean properties {@code learningRate}, {@code momentum}, {@code learningRateSchedule}).
 */
public final class HeavyBall implements IUpdater {
    private static final long serialVersionUID = 1L;

    private double learningRate;
    private double momentum;
    private ISchedule learningRateSchedule;

    /** For DL4J's JSON. */
    public HeavyBall() {
        this(0.1, 0.9);
    }

    public HeavyBall(double learningRate, double momentum) {
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    public double getLearningRate() {
        return learningRate;
    }

    public void setLearningRate(double learningRate) {
        this.learningRate = learningRate;
    }

    public double getMomentum() {
        return momentum;
    }

    public void setMomentum(double momentum) {
        this.momentum = momentum;
    }

    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    public void setLearningRateSchedule(ISchedule learningRateSchedule) {
        this.learningRateSchedule = learningRateSchedule;
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Velocity u = new Velocity(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        Velocity u = new Velocity(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule == null ? learningRate : learningRateSchedule.valueAt(iteration, epoch);
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule schedule) {
        this.learningRate = lr;
        this.learningRateSchedule = schedule;
    }

    @Override
    public HeavyBall clone() {
        HeavyBall c = new HeavyBall(learningRate, momentum);
        c.learningRateSchedule = learningRateSchedule == null ? null : learningRateSchedule.clone();
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeavyBall h && h.learningRate == learningRate && h.momentum == momentum
                && Objects.equals(h.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, momentum, learningRateSchedule);
    }

    @Override
    public String toString() {
        return "HeavyBall(lr=" + learningRate + ", momentum=" + momentum
                + (learningRateSchedule == null ? "" : ", schedule=" + learningRateSchedule) + ")";
    }

    /** The rule applied to one updater block: the gradient view becomes the step {@code lr·v}. */
    static final class Velocity implements GradientUpdater<HeavyBall> {
        static final String STATE = "V";

        private final HeavyBall config;
        private INDArray v;

        Velocity(HeavyBall config) {
            this.config = config;
        }

        @Override
        public HeavyBall getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> stateMap, boolean initialize) {
            if (!stateMap.containsKey(STATE) || stateMap.size() != 1) {
                throw new IllegalStateException("heavy-ball momentum keeps one state array \"" + STATE + "\", found "
                        + stateMap.keySet());
            }
            v = stateMap.get(STATE);
            if (initialize) {
                v.assign(0);
            }
        }

        @Override
        public Map<String, INDArray> getState() {
            return Map.of(STATE, v);
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
            if (initialize) {
                viewArray.assign(0);
            }
            // a view of the state array, never a copy: the state must live in the updater's view
            v = Shape.newShapeNoCopy(viewArray, gradientShape, gradientOrder == 'f');
            if (v == null) {
                throw new IllegalStateException("heavy-ball momentum: the state view cannot take the gradient's shape");
            }
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (v == null) {
                throw new IllegalStateException("heavy-ball momentum has no state view");
            }
            double lr = config.getLearningRate(iteration, epoch);
            // v ← μ·v + g, then the step DL4J subtracts from θ: lr·v
            v.muli(config.momentum).addi(gradient);
            gradient.assign(v).muli(lr);
        }
    }
}
