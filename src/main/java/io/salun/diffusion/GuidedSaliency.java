package io.salun.diffusion;

import io.salun.config.Seeds;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.NetworkSnapshot;
import io.salun.saliency.GradientSum;
import io.salun.saliency.SaliencyStage;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import io.salun.model.Net;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The saliency of a diffusion model for a forgotten class (SALUN-SPEC §5):
 * {@code g = Σ ∇θ ‖x0 − x̃θ(x_t, t | c)‖²} over the forget images, with the guided prediction
 * {@code x̃ = (1 + w)·x̂θ(x_t|c) − w·x̂θ(x_t|∅)} — the spec's guided ε-loss in the clean-image
 * parameterisation of {@link Denoiser} (the guided ε̃ derived from x̃ is linear in it, and
 * {@code ‖ε − ε̃‖² = SNR(t)·‖x0 − x̃‖²}; the mask sums the x0-space loss, without the SNR factor that
 * would let the least noisy steps outweigh all others by up to 10⁴). The mask keeps the top
 * {@code ratio} of {@code |g|}. Summed per partition, {@code treeReduce}d, top-k on the driver: the stages of
 * classification's saliency.
 *
 * <p>The guided loss involves two forward passes of one network. With {@code f_c}, {@code f_∅}
 * the two predictions and {@code r = x0 − (1+w)f_c + w·f_∅}, its gradient with respect to the
 * outputs is {@code ∂/∂f_c = −2(1+w)r}, {@code ∂/∂f_∅ = 2w·r}. An ordinary MSE term
 * {@code ‖f − y‖²} has {@code ∂/∂f = 2(f − y)}, so one DL4J backward pass over the stacked
 * {@code 2B} rows with the constant targets {@code y_c = f_c + (1+w)r} and {@code y_∅ = f_∅ − w·r}
 * gives the guided loss's gradient exactly (up to DL4J's constant 1/d of the mean over outputs,
 * which no top-k depends on). Per-example loss weights through a label mask would not do: DL4J's
 * output layer multiplies its pre-activations by the mask in the forward pass too.
 */
public final class GuidedSaliency {
    private GuidedSaliency() {
    }

    /** The summed guided-loss gradient over every row of {@code shard}, in minibatches of {@code batchSize}. */
    public static GradientSum over(Net net, Shard shard, int batchSize, int classes, double guidance,
                                   long seed, NoiseSchedule schedule) {
        GradientSum total = GradientSum.empty((int) net.numParams());
        int d = shard.featureLength();
        int width = Conditioning.inputLength(d, classes);
        double[] alphaBars = schedule.alphaBars();
        float[] scratch = new float[d];
        for (int from = 0; from < shard.size(); from += batchSize) {
            int b = Math.min(shard.size(), from + batchSize) - from;
            float[] x = new float[2 * b * width];
            float[] clean = new float[b * d];
            for (int i = 0; i < b; i++) {
                int row = from + i;
                DiffusionTargets.Draw draw = DiffusionTargets.Draw.of(
                        Seeds.derive(seed, "diffusion-saliency", shard.id(row)), d, schedule, 0);
                int label = DiffusionTargets.checkedLabel(shard, row, classes);
                DiffusionTargets.input(shard, row, draw, alphaBars, label, classes, x, i, scratch);
                DiffusionTargets.input(shard, row, draw, alphaBars, classes, classes, x, b + i, scratch);
                System.arraycopy(scratch, 0, clean, i * d, d);
            }
            INDArray features = Nd4j.create(x, new long[] {2L * b, width}, 'c');
            float[] f = net.output(features, false).dup('c').data().asFloat();
            float[] labels = new float[2 * b * d];
            for (int i = 0; i < b; i++) {
                for (int p = 0; p < d; p++) {
                    float fc = f[i * d + p];
                    float fu = f[(b + i) * d + p];
                    double r = clean[i * d + p] - (1 + guidance) * fc + guidance * fu;
                    labels[i * d + p] = (float) (fc + (1 + guidance) * r);
                    labels[(b + i) * d + p] = (float) (fu - guidance * r);
                }
            }
            total.add(net.gradient(features, Nd4j.create(labels, new long[] {2L * b, d}, 'c')), b);
        }
        net.clear();
        return total;
    }

    /** The summed guided-loss gradient at {@code model} over every partition of {@code forget}. */
    public static GradientSum gradientSum(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> forget,
                                          int batchSize, int classes, double guidance, long seed, int treeDepth) {
        return SaliencyStage.gradientSum(sc, model, forget,
                (net, shard) -> over(net, shard, batchSize, classes, guidance, seed, NoiseSchedule.DDPM), treeDepth);
    }

    /** The SalUn-gen mask: the top {@code ratio} of the summed guided-loss gradient's magnitudes. */
    public static Bitset mask(JavaSparkContext sc, NetworkSnapshot model, JavaRDD<Shard> forget, int batchSize,
                              int classes, double guidance, double ratio, long seed, int treeDepth) {
        return SaliencyMask.topK(gradientSum(sc, model, forget, batchSize, classes, guidance, seed, treeDepth).result(), ratio,
                io.salun.model.ParameterRoles.untrainable(model));
    }
}
