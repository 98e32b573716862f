package io.salun.diffusion;

import io.salun.model.NetworkSnapshot;
import io.salun.spark.ShardAggregate;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;

/**
 * Generation as a Spark stage: the images to make are cut into fixed chunks (one class, a run of
 * noise indices), the chunks are spread over the executors, and each is sampled in one batch by
 * {@link Sampler}. A chunk's images depend only on its content, so the result is the same for any
 * number of partitions.
 */
public final class Generation {
    private Generation() {
    }

    /** Settings of a generation pass. */
    public record Spec(int perClass, int chunk, int steps, double guidance, long seed) implements java.io.Serializable {
        public Spec {
            if (perClass < 1 || chunk < 1 || steps < 1) {
                throw new IllegalArgumentException("generation: images per class, chunk and steps >= 1 expected, found "
                        + perClass + ", " + chunk + ", " + steps);
            }
        }
    }

    /** {@code spec.perClass()} images of every class in {@code classes}: {@code result[i]} holds class {@code classes[i]}'s. */
    public static float[][][] generate(JavaSparkContext sc, NetworkSnapshot model, int[] classes, int modelClasses, int d,
                                       Spec spec, int partitions) {
        List<int[]> chunks = new ArrayList<>();
        for (int c = 0; c < classes.length; c++) {
            for (int from = 0; from < spec.perClass(); from += spec.chunk()) {
                chunks.add(new int[] {c, from, Math.min(spec.perClass(), from + spec.chunk())});
            }
        }
        List<Tuple2<int[], float[][]>> made = ShardAggregate.collect(sc, model,
                sc.parallelize(chunks, Math.max(1, Math.min(partitions, chunks.size()))), (network, partition, it) -> {
                    List<Tuple2<int[], float[][]>> out = new ArrayList<>();
                    MultiLayerNetwork net = null;
                    while (it.hasNext()) {
                        int[] chunk = it.next();
                        if (net == null) {
                            net = network.build();
                        }
                        int n = chunk[2] - chunk[1];
                        int[] conditions = new int[n];
                        int[] indices = new int[n];
                        for (int i = 0; i < n; i++) {
                            conditions[i] = classes[chunk[0]];
                            indices[i] = chunk[1] + i;
                        }
                        out.add(new Tuple2<>(chunk, Sampler.sample(net, conditions, indices, d, modelClasses,
                                spec.steps(), spec.guidance(), spec.seed(), NoiseSchedule.DDPM)));
                    }
                    return java.util.Optional.of(out);
                });
        float[][][] images = new float[classes.length][spec.perClass()][];
        for (Tuple2<int[], float[][]> t : made) {
            int[] chunk = t._1();
            for (int i = chunk[1]; i < chunk[2]; i++) {
                images[chunk[0]][i] = t._2()[i - chunk[1]];
            }
        }
        return images;
    }
}
