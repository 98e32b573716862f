package io.salun.diffusion;

import io.salun.config.Seeds;
import io.salun.data.Shard;
import io.salun.train.Minibatch;
import io.salun.train.Targets;
import io.salun.model.Net;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/**
 * What the diffusion model fits in each step. Every row draws its timestep, noise and condition
 * dropout from a generator seeded by (seed, purpose, epoch, record ID), so the draws do not depend
 * on partitioning or batching.
 */
public final class DiffusionTargets {
    private DiffusionTargets() {
    }

    /** One row's draw: timestep, noise, and whether its condition is dropped to ∅. */
    record Draw(int t, float[] eps, boolean dropCondition) {
        static Draw of(long seed, int d, NoiseSchedule schedule, double pUncond) {
            SplittableRandom random = new SplittableRandom(seed);
            int t = random.nextInt(schedule.timesteps());
            float[] eps = new float[d];
            for (int i = 0; i < d; i++) {
                eps[i] = (float) random.nextGaussian();
            }
            return new Draw(t, eps, random.nextDouble() < pUncond);
        }
    }

    /**
     * Writes row {@code row} of {@code shard} noised by {@code draw} with condition {@code condition}
     * into {@code x} at row position {@code i}; leaves the clean image {@code x0} (model scale) in
     * {@code scratch}.
     */
    static void input(Shard shard, int row, Draw draw, double[] alphaBars, int condition, int classes,
                      float[] x, int i, float[] scratch) {
        int d = shard.featureLength();
        int width = Conditioning.inputLength(d, classes);
        shard.copyFeatures(row, scratch, 0);
        for (int p = 0; p < d; p++) {
            scratch[p] = Conditioning.toModel(scratch[p]);
        }
        NoiseSchedule.noise(scratch, 0, draw.eps(), 0, alphaBars[draw.t()], d, x, i * width);
        Conditioning.condition(x, i * width, d, draw.t(), condition, classes);
    }

    /**
     * The DDPM objective in its clean-image form, with classifier-free guidance training: input
     * {@code (x_t, t, c)} with the class condition replaced by ∅ with probability {@code pUncond},
     * target the clean image {@code x0} ({@link Denoiser} explains the parameterisation).
     */
    public record Denoising(long seed, NoiseSchedule schedule, double pUncond) implements Targets {
        public Denoising {
            if (!(pUncond >= 0 && pUncond < 1)) {
                throw new IllegalArgumentException("condition dropout: expected a probability in [0, 1), found " + pUncond);
            }
        }

        @Override
        public Minibatch minibatch(Net net, Shard shard, int[] order, int from, int to, int classes, int epoch) {
            int b = to - from;
            int d = shard.featureLength();
            int width = Conditioning.inputLength(d, classes);
            double[] alphaBars = schedule.alphaBars();
            float[] x = new float[b * width];
            float[] y = new float[b * d];
            float[] scratch = new float[d];
            for (int i = 0; i < b; i++) {
                int row = order[from + i];
                Draw draw = Draw.of(Seeds.derive(seed, "diffusion-noise", epoch, shard.id(row)), d, schedule, pUncond);
                int condition = draw.dropCondition() ? classes : checkedLabel(shard, row, classes);
                input(shard, row, draw, alphaBars, condition, classes, x, i, scratch);
                System.arraycopy(scratch, 0, y, i * d, d);
            }
            return new Minibatch(Nd4j.create(x, new long[] {b, width}, 'c'), Nd4j.create(y, new long[] {b, d}, 'c'), b);
        }

        @Override
        public String name() {
            return "denoising(p-uncond=" + pUncond + ")";
        }
    }

    /**
     * Unlearning a class (SALUN-SPEC §5): a forget row with class {@code c_f} is fitted to the model's
     * own current prediction under the mismatched condition {@code c' = (c_f + 1) mod K}, i.e.
     * {@code ‖x̂θ(x_t, t | c_f) − stopgrad(x̂θ(x_t, t | c'))‖²} (the ε-space loss of the spec is this
     * times the step's signal-to-noise ratio, {@link Denoiser}); a retain row keeps the ordinary
     * denoising objective weighted {@code beta}. Used masked (SalUn-gen) and unmasked (RL-gen).
     *
     * <p>The weight enters through the target, not a label mask (DL4J's output layer would also
     * scale its forward pass by the mask): with the row's current prediction {@code f}, the target
     * {@code y' = f − β(f − x0)} gives the MSE gradient {@code 2(f − y') = 2β(f − x0)}, exactly β times
     * the denoising gradient. The loss DL4J reports is then {@code β²‖f − x0‖²} for retain rows.
     */
    public record Forgetting(long seed, NoiseSchedule schedule, double pUncond, double beta) implements Targets {
        public Forgetting {
            if (!(beta >= 0) || Double.isInfinite(beta)) {
                throw new IllegalArgumentException("retain weight beta: expected a finite value >= 0, found " + beta);
            }
        }

        @Override
        public Minibatch minibatch(Net net, Shard shard, int[] order, int from, int to, int classes, int epoch) {
            int b = to - from;
            int d = shard.featureLength();
            int width = Conditioning.inputLength(d, classes);
            double[] alphaBars = schedule.alphaBars();
            float[] x = new float[b * width];
            float[] clean = new float[b * d];
            float[] scratch = new float[d];
            // the rows the current model predicts for: forget rows under c', retain rows as they are fed
            float[] probe = new float[b * width];
            for (int i = 0; i < b; i++) {
                int row = order[from + i];
                int label = checkedLabel(shard, row, classes);
                if (shard.forget(row)) {
                    Draw draw = Draw.of(Seeds.derive(seed, "diffusion-forget", epoch, shard.id(row)), d, schedule, 0);
                    input(shard, row, draw, alphaBars, label, classes, x, i, scratch);
                    input(shard, row, draw, alphaBars, (label + 1) % classes, classes, probe, i, scratch);
                } else {
                    Draw draw = Draw.of(Seeds.derive(seed, "diffusion-retain", epoch, shard.id(row)), d, schedule, pUncond);
                    input(shard, row, draw, alphaBars, draw.dropCondition() ? classes : label, classes, x, i, scratch);
                    System.arraycopy(x, i * width, probe, i * width, width);
                    System.arraycopy(scratch, 0, clean, i * d, d);
                }
            }
            // predictions at the current parameters: constants of this step (stop-gradient)
            float[] f = net.output(Nd4j.create(probe, new long[] {b, width}, 'c'), false).dup('c').data().asFloat();
            float[] y = new float[b * d];
            for (int i = 0; i < b; i++) {
                boolean forget = shard.forget(order[from + i]);
                for (int p = i * d; p < (i + 1) * d; p++) {
                    y[p] = forget ? f[p] : (float) (f[p] - beta * (f[p] - clean[p]));
                }
            }
            return new Minibatch(Nd4j.create(x, new long[] {b, width}, 'c'), Nd4j.create(y, new long[] {b, d}, 'c'), b);
        }

        @Override
        public String name() {
            return "forget-by-mismatched-condition(beta=" + beta + ")";
        }
    }

    static int checkedLabel(Shard shard, int row, int classes) {
        int label = shard.label(row);
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("a record has label " + label + " outside the diffusion model's "
                    + classes + " classes");
        }
        return label;
    }
}
