package io.salun.diffusion;

import io.salun.config.Seeds;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/**
 * Guided DDIM sampling (Song et al. 2021, η = 0) with classifier-free guidance (Ho &amp; Salimans
 * 2022): at each of {@code steps} timesteps spaced evenly over the schedule, the guided clean-image
 * prediction is {@code x̃ = (1 + w)·x̂(x_t|c) − w·x̂(x_t|∅)}, clipped to [−1, 1]; the noise it
 * implies, {@code ε = (x_t − √ᾱ_t·x̃)/√(1 − ᾱ_t)}, carries the step to the previous timestep
 * deterministically. Image {@code i} starts from noise
 * seeded by (seed, its class, its index within the class), so a batch's composition never changes
 * an image: the same model and seed give the same pictures, and two models given the same seed
 * start from the same noise (before/after grids are comparable image by image).
 */
public final class Sampler {
    private Sampler() {
    }

    /** The DDIM timesteps, last first: {@code ⌊i·T/steps⌋} for i = steps−1 … 0. */
    public static int[] timesteps(NoiseSchedule schedule, int steps) {
        if (steps < 1 || steps > schedule.timesteps()) {
            throw new IllegalArgumentException("sampling steps: expected 1.." + schedule.timesteps() + ", found " + steps);
        }
        int[] ts = new int[steps];
        for (int i = 0; i < steps; i++) {
            ts[steps - 1 - i] = (int) ((long) i * schedule.timesteps() / steps);
        }
        return ts;
    }

    /** The starting noise of image {@code index} of class {@code condition}. */
    public static float[] initialNoise(long seed, int condition, int index, int d) {
        SplittableRandom random = new SplittableRandom(Seeds.derive(seed, "diffusion-sample", condition, index));
        float[] x = new float[d];
        for (int i = 0; i < d; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /**
     * Generates one image per entry of {@code conditions} (class {@code conditions[i]}, noise index
     * {@code indices[i]}), in one batch; returns pixel values in [0, 1], row-major {@code [n][d]}.
     */
    public static float[][] sample(MultiLayerNetwork net, int[] conditions, int[] indices, int d, int classes,
                                   int steps, double guidance, long seed, NoiseSchedule schedule) {
        int n = conditions.length;
        int width = Conditioning.inputLength(d, classes);
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            if (conditions[i] < 0 || conditions[i] >= classes) {
                throw new IllegalArgumentException("class " + conditions[i] + " outside the model's " + classes + " classes");
            }
            x[i] = initialNoise(seed, conditions[i], indices[i], d);
        }
        double[] alphaBars = schedule.alphaBars();
        int[] ts = timesteps(schedule, steps);
        float[] input = new float[2 * n * width];
        for (int s = 0; s < ts.length; s++) {
            int t = ts[s];
            double a = alphaBars[t];
            double aPrev = s + 1 < ts.length ? alphaBars[ts[s + 1]] : 1.0;
            for (int i = 0; i < n; i++) {
                System.arraycopy(x[i], 0, input, i * width, d);
                Conditioning.condition(input, i * width, d, t, conditions[i], classes);
                System.arraycopy(x[i], 0, input, (n + i) * width, d);
                Conditioning.condition(input, (n + i) * width, d, t, classes, classes);
            }
            float[] out = net.output(Nd4j.create(input, new long[] {2L * n, width}, 'c'), false).dup('c').data().asFloat();
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < d; p++) {
                    double x0 = (1 + guidance) * out[i * d + p] - guidance * out[(n + i) * d + p];
                    x0 = Math.max(-1, Math.min(1, x0));
                    double eps = (x[i][p] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
                    x[i][p] = (float) (Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps);
                }
            }
        }
        float[][] pixels = new float[n][d];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < d; p++) {
                pixels[i][p] = Conditioning.toPixel(x[i][p]);
            }
        }
        return pixels;
    }
}
