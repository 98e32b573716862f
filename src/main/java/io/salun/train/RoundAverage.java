package io.salun.train;

import java.io.Serializable;

/**
 * Aggregator of data-parallel parameter averaging (the shape of Spark ml's aggregators:
 * {@link #add}, {@link #merge}, {@link #result}, explicit empty state).
 *
 * <p>After one round each partition {@code p} that processed {@code w_p > 0} examples contributes
 * its parameters {@code θ_p} and updater state {@code s_p}; the round's result is the weighted mean
 * {@code θ = Σ_p w_p θ_p / Σ_p w_p} (likewise {@code s}), accumulated in double precision. The
 * iteration counter advances by the largest number of local steps.
 *
 * <p>An aggregate has three forms, so that what travels is as small as exactness allows:
 * <ul>
 *   <li><em>empty</em>: no arrays at all (a partition that had nothing to do);</li>
 *   <li><em>one contribution</em>: that partition's own float32 {@code θ_p}, {@code s_p} and its
 *       weight: what every task sends, half the bytes of a double partial. Its mean is {@code θ_p}
 *       bit for bit (so one partition's engine equals plain single-JVM training);</li>
 *   <li><em>sums</em>: {@code Σ w_p θ_p} in double, once two contributions meet. Each product
 *       {@code w_p·θ_p} is exact in double (24-bit significand times a weight below 2²⁹), so the
 *       sums are the ones float64 partials gave, and the merge order changes the float mean by at
 *       most one ulp and in practice not at all.</li>
 * </ul>
 * {@link #result()} collapses any form to one contribution holding the float32 mean, which is
 * what the last merge sends to the driver.
 */
public final class RoundAverage implements Serializable {
    private static final long serialVersionUID = 2L;

    private final int parameterCount;
    private final int stateCount;
    /** The single contribution's arrays (or the collapsed mean); null otherwise. */
    private float[] oneParameters;
    private float[] oneState;
    /** Weighted sums, once two contributions met; null otherwise. */
    private double[] parameterSums;
    private double[] stateSums;
    private long examples;
    private int steps;
    private double lossSum;

    private RoundAverage(int parameterCount, int stateCount) {
        this.parameterCount = parameterCount;
        this.stateCount = stateCount;
    }

    /** The empty aggregate for a network of the given sizes. */
    public static RoundAverage empty(int parameterCount, int stateCount) {
        return new RoundAverage(parameterCount, stateCount);
    }

    /**
     * Adds one partition's result. The arrays are kept, not copied, while they are the only
     * contribution: the caller hands them over.
     *
     * @param params     its parameters after the round
     * @param updater    its updater state after the round
     * @param weight     examples it processed in the round (0 adds nothing)
     * @param localSteps minibatch steps it took
     * @param lossTotal  sum over its steps of (minibatch mean loss × minibatch size)
     */
    public RoundAverage add(float[] params, float[] updater, long weight, int localSteps, double lossTotal) {
        if (params.length != parameterCount || updater.length != stateCount) {
            throw new IllegalArgumentException("expected " + parameterCount + " parameters and " + stateCount
                    + " state values, found " + params.length + " and " + updater.length);
        }
        if (weight == 0) {
            return this;
        }
        if (examples == 0) {
            oneParameters = params;
            oneState = updater;
        } else {
            toSums();
            accumulate(parameterSums, params, weight);
            accumulate(stateSums, updater, weight);
        }
        examples += weight;
        steps = Math.max(steps, localSteps);
        lossSum += lossTotal;
        return this;
    }

    /** Folds {@code other} into this aggregate (in place) and returns this. */
    public RoundAverage merge(RoundAverage other) {
        if (other.parameterCount != parameterCount || other.stateCount != stateCount) {
            throw new IllegalArgumentException("cannot merge aggregates of different networks");
        }
        if (other.examples == 0) {
            return this;
        }
        if (examples == 0) {
            oneParameters = other.oneParameters;
            oneState = other.oneState;
            parameterSums = other.parameterSums;
            stateSums = other.stateSums;
        } else {
            toSums();
            if (other.parameterSums != null) {
                add(parameterSums, other.parameterSums);
                add(stateSums, other.stateSums);
            } else {
                accumulate(parameterSums, other.oneParameters, other.examples);
                accumulate(stateSums, other.oneState, other.examples);
            }
        }
        examples += other.examples;
        steps = Math.max(steps, other.steps);
        lossSum += other.lossSum;
        return this;
    }

    /**
     * This aggregate collapsed to one contribution: the float32 means with the total weight (the
     * same bits {@link #parameters()} and {@link #updaterState()} give).
     */
    public RoundAverage result() {
        if (parameterSums == null) {
            return this;
        }
        oneParameters = mean(parameterSums);
        oneState = mean(stateSums);
        parameterSums = null;
        stateSums = null;
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

    /** The averaged parameters (for a single contribution, its own array). */
    public float[] parameters() {
        requireExamples();
        return parameterSums == null ? oneParameters : mean(parameterSums);
    }

    /** The averaged updater state (for a single contribution, its own array). */
    public float[] updaterState() {
        requireExamples();
        return stateSums == null ? oneState : mean(stateSums);
    }

    private void requireExamples() {
        if (examples == 0) {
            throw new IllegalStateException("no partition processed any example in this round");
        }
    }

    /** From one contribution to sums: {@code w·θ}, exact in double. */
    private void toSums() {
        if (parameterSums != null) {
            return;
        }
        parameterSums = new double[parameterCount];
        stateSums = new double[stateCount];
        // −0.0 is the identity of IEEE addition (+0.0 is not: +0.0 + −0.0 = +0.0)
        java.util.Arrays.fill(parameterSums, -0.0);
        java.util.Arrays.fill(stateSums, -0.0);
        accumulate(parameterSums, oneParameters, examples);
        accumulate(stateSums, oneState, examples);
        oneParameters = null;
        oneState = null;
    }

    private static void accumulate(double[] sums, float[] values, long weight) {
        for (int i = 0; i < values.length; i++) {
            sums[i] += weight * (double) values[i];
        }
    }

    private static void add(double[] sums, double[] more) {
        for (int i = 0; i < sums.length; i++) {
            sums[i] += more[i];
        }
    }

    private float[] mean(double[] sums) {
        float[] out = new float[sums.length];
        for (int i = 0; i < sums.length; i++) {
            out[i] = (float) (sums[i] / examples);
        }
        return out;
    }
}
