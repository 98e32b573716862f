package io.salun.diffusion;

/**
 * The denoiser's input row: the noisy image {@code x_t} ({@code d} values in the model's
 * [−1, 1] scale), a sinusoidal embedding of the timestep ({@link #TIME_FEATURES} values), and the
 * class condition one-hot over {@code K + 1} slots, the last being the null condition ∅ of
 * classifier-free guidance.
 */
public final class Conditioning {
    /** Length of the timestep embedding: sines then cosines of {@code t} at 16 geometric frequencies. */
    public static final int TIME_FEATURES = 32;

    private Conditioning() {
    }

    /** Length of an input row for images of {@code d} values and {@code classes} classes. */
    public static int inputLength(int d, int classes) {
        return d + TIME_FEATURES + classes + 1;
    }

    /** The number of classes a denoiser with this input length and {@code d}-value images conditions on. */
    public static int classesOf(long inputLength, int d) {
        return (int) (inputLength - d - TIME_FEATURES - 1);
    }

    /**
     * Writes the time embedding and the condition of one row into {@code row} after its image
     * part: {@code row[offset + d ..]}. {@code condition} is a class in {@code [0, K)} or {@code K}
     * for ∅.
     */
    public static void condition(float[] row, int offset, int d, int t, int condition, int classes) {
        int half = TIME_FEATURES / 2;
        for (int i = 0; i < half; i++) {
            double frequency = Math.exp(-Math.log(10_000.0) * i / half);
            row[offset + d + i] = (float) Math.sin(t * frequency);
            row[offset + d + half + i] = (float) Math.cos(t * frequency);
        }
        int base = offset + d + TIME_FEATURES;
        for (int c = 0; c <= classes; c++) {
            row[base + c] = 0f;
        }
        if (condition < 0 || condition > classes) {
            throw new IllegalArgumentException("condition " + condition + " outside [0, " + classes + "]");
        }
        row[base + condition] = 1f;
    }

    /** Pixel value in [0, 1] → model scale [−1, 1]. */
    public static float toModel(float pixel) {
        return 2f * pixel - 1f;
    }

    /** Model scale → pixel value, clipped to [0, 1]. */
    public static float toPixel(float value) {
        return Math.max(0f, Math.min(1f, (value + 1f) / 2f));
    }
}
