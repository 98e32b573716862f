package io.salun.train;

import java.io.Serializable;

/**
 * Aggregator of data-parallel parameter averaging (the shape of Spark ml's aggregators:
 * {@link #add}, {@link #merge}, {@link #result}, explicit empty state).
 *
 * <p>After one round each partition {@code p} that processed {@code w_p > 0} examples contributes
 * its parameters {@code θ_p} and updater state {@code s_p}; the round's result is the weighted mean
 * {@code θ = Σ_p w_p θ_p / Σ_p w_p} (likewise {@code s}), accumulated in double precision. With a
 * single partition the mean returns {@code θ_p} bit for bit, so the engine then equals plain
 * single-JVM training. The iteration counter advances by the largest number of local steps.
 */
public final class RoundAverage implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] parameters;
    private final double[] state;
    private long examples;
    private int steps;
    private double lossSum;

    private RoundAverage(int parameterCount, int stateCount) {
        // −0.0 is the identity of IEEE addition (+0.0 is not: +0.0 + −0.0 = +0.0), so a −0.0
        // parameter survives a one-partition average bit for bit
        this.parameters = new double[parameterCount];
        this.state = new double[stateCount];
        java.util.Arrays.fill(parameters, -0.0);
        java.util.Arrays.fill(state, -0.0);
    }

    /** The empty aggregate for a network of the given sizes. */
    public static RoundAverage empty(int parameterCount, int stateCount) {
        return new RoundAverage(parameterCount, stateCount);
    }

    /**
     * Adds one partition's result.
     *
     * @param params     its parameters after the round
     * @param updater    its updater state after the round
     * @param weight     examples it processed in the round (0 adds nothing)
     * @param localSteps minibatch steps it took
     * @param lossTotal  sum over its steps of (minibatch mean loss × minibatch size)
     */
    public RoundAverage add(float[] params, float[] updater, long weight, int localSteps, double lossTotal) {
        if (params.length != parameters.length || updater.length != state.length) {
            throw new IllegalArgumentException("expected " + parameters.length + " parameters and " + state.length
                    + " state values, found " + params.length + " and " + updater.length);
        }
        if (weight == 0) {
            return this;
        }
        for (int i = 0; i < params.length; i++) {
            parameters[i] += weight * (double) params[i];
        }
        for (int i = 0; i < updater.length; i++) {
            state[i] += weight * (double) updater[i];
        }
        examples += weight;
        steps = Math.max(steps, localSteps);
        lossSum += lossTotal;
        return this;
    }

    /** Folds {@code other} into this aggregate (in place) and returns this. */
    public RoundAverage merge(RoundAverage other) {
        if (other.parameters.length != parameters.length || other.state.length != state.length) {
            throw new IllegalArgumentException("cannot merge aggregates of different networks");
        }
        for (int i = 0; i < parameters.length; i++) {
            parameters[i] += other.parameters[i];
        }
        for (int i = 0; i < state.length; i++) {
            state[i] += other.state[i];
        }
        examples += other.examples;
        steps = Math.max(steps, other.steps);
        lossSum += other.lossSum;
        return this;
    }

    public long examples() {
        return examples;
    }

    public int steps() {
        return steps;
    }

    /** Mean training loss per example over the round (NaN when empty). */
    public double meanLoss() {
        return examples == 0 ? Double.NaN : lossSum / examples;
    }

    /** The averaged parameters. */
    public float[] parameters() {
        return mean(parameters);
    }

    /** The averaged updater state. */
    public float[] updaterState() {
        return mean(state);
    }

    private float[] mean(double[] sums) {
        if (examples == 0) {
            throw new IllegalStateException("no partition processed any example in this round");
        }
        float[] out = new float[sums.length];
        for (int i = 0; i < sums.length; i++) {
            out[i] = (float) (sums[i] / examples);
        }
        return out;
    }
}
