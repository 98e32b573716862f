package io.salun.diffusion;

import java.io.Serializable;

/**
 * The DDPM forward process (Ho et al. 2020): {@code T} steps with a linear variance schedule
 * {@code β_t} from {@code betaStart} to {@code betaEnd}; {@code ᾱ_t = Π_{s≤t}(1 − β_s)}, and
 * {@code x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε} with {@code ε ~ N(0, I)}. Timesteps are 0-based:
 * {@code t ∈ [0, T)}.
 */
public record NoiseSchedule(int timesteps, double betaStart, double betaEnd) implements Serializable {

    /** The schedule of the project's diffusion models: the DDPM paper's T = 1000, β from 1e-4 to 0.02. */
    public static final NoiseSchedule DDPM = new NoiseSchedule(1000, 1e-4, 0.02);

    public NoiseSchedule {
        if (timesteps < 1 || !(betaStart > 0) || !(betaEnd >= betaStart) || !(betaEnd < 1)) {
            throw new IllegalArgumentException("noise schedule: T >= 1 and 0 < betaStart <= betaEnd < 1 expected, found T="
                    + timesteps + ", " + betaStart + ".." + betaEnd);
        }
    }

    /** β_t. */
    public double beta(int t) {
        return timesteps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * t / (timesteps - 1);
    }

    /** ᾱ_t, the fraction of the signal's variance left at step t. */
    public double alphaBar(int t) {
        if (t < 0 || t >= timesteps) {
            throw new IllegalArgumentException("timestep " + t + " outside [0, " + timesteps + ")");
        }
        double a = 1;
        for (int s = 0; s <= t; s++) {
            a *= 1 - beta(s);
        }
        return a;
    }

    /** ᾱ for every step, in order. */
    public double[] alphaBars() {
        double[] a = new double[timesteps];
        double prod = 1;
        for (int t = 0; t < timesteps; t++) {
            prod *= 1 - beta(t);
            a[t] = prod;
        }
        return a;
    }

    /**
     * Writes {@code x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·eps} into {@code out[offset..offset+d)}, with
     * {@code alphaBar} = ᾱ_t.
     */
    public static void noise(float[] x0, int x0Offset, float[] eps, int epsOffset, double alphaBar, int d,
                             float[] out, int offset) {
        double a = Math.sqrt(alphaBar);
        double s = Math.sqrt(1 - alphaBar);
        for (int i = 0; i < d; i++) {
            out[offset + i] = (float) (a * x0[x0Offset + i] + s * eps[epsOffset + i]);
        }
    }
}
