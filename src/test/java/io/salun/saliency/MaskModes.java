package io.salun.saliency;

import io.salun.data.IdxReader;
import io.salun.data.LabeledImages;
import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.ModelStore;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.model.ParameterRoles;
import org.apache.hadoop.conf.Configuration;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How far a training-mode saliency mask (DL4J's default gradient pass: BatchNorm normalises each
 * minibatch by its own statistics) is from the inference-mode one the reference computes under
 * {@code model.eval()} (running statistics), for a trained model: the overlap of the two top-k sets
 * of trainable parameters, at several ratios and minibatch sizes. A measurement for
 * docs/RESULTS.md, run by hand:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat target/classpath.txt) io.salun.saliency.MaskModes \
 *     MODEL.zip IMAGES.idx.gz LABELS.idx.gz RECORDS FORGET SEED
 * </pre>
 *
 * reads the first {@code RECORDS} training records and forgets a seeded random {@code FORGET} of them.
 */
public final class MaskModes {
    private MaskModes() {
    }

    public static void main(String[] args) {
        Configuration conf = new Configuration();
        Net net = ModelStore.loadNet(args[0], "model", conf);
        LabeledImages data = IdxReader.read(args[1], args[2], 0, Integer.parseInt(args[3]), conf);
        int forget = Integer.parseInt(args[4]);
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(Long.parseLong(args[5]));
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int d = data.featureLength();
        long[] ids = new long[forget];
        int[] labels = new int[forget];
        boolean[] flags = new boolean[forget];
        float[] features = new float[forget * d];
        for (int i = 0; i < forget; i++) {
            ids[i] = order[i];
            labels[i] = data.labels()[order[i]];
            flags[i] = true;
            data.features(order[i], features, i * d);
        }
        Shard shard = new Shard(ids, labels, flags, features, d);
        int classes = (int) net.outputs();
        boolean[] untrainable = ParameterRoles.untrainable(net);
        double[] inference = GradientSum.over(NetworkSnapshot.of(net).inferenceForm().net(), shard, 64, classes).result();
        System.out.printf(Locale.ROOT, "model %s: %d parameters, %d forget records%n", args[0], untrainable.length, forget);
        for (int batch : new int[] {64, 256}) {
            double[] train = GradientSum.over(net, shard, batch, classes).result();
            for (double ratio : new double[] {0.1, 0.5}) {
                Bitset a = SaliencyMask.topK(inference, ratio, untrainable);
                Bitset b = SaliencyMask.topK(train, ratio, untrainable);
                long both = 0;
                long kept = 0;
                for (int i = 0; i < untrainable.length; i++) {
                    if (!untrainable[i] && a.get(i)) {
                        kept++;
                        both += b.get(i) ? 1 : 0;
                    }
                }
                System.out.printf(Locale.ROOT, "train-mode batch %d, ratio %.1f: %d of %d kept in common (%.2f%%)%n",
                        batch, ratio, both, kept, 100.0 * both / kept);
            }
        }
    }
}
