package io.salun.unlearn;

import io.salun.data.Shard;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * What unlearning means for one kind of model, plugged into the one {@link UnlearnRun}: how its
 * saliency mask is computed, and how a model is judged. Classification ({@link ClassificationTask}:
 * the cross-entropy saliency, UA/RA/TA/MIA) and generation (the guided diffusion saliency, images
 * judged by a classifier) are the two; the run's flow, checkpoints and audit are the same for both.
 *
 * @param <M> a model's judgement (metrics, or scores with generated images)
 */
public interface UnlearningTask<M> {
    /** The forget set the saliency pass reads (its devices are recorded). */
    JavaRDD<Shard> forgetSet();

    /** A set the evaluation reads (its devices are recorded). */
    JavaRDD<Shard> evaluationSet();

    /** The saliency mask of {@code original} (SALUN-SPEC §1, §5). */
    Bitset saliencyMask(JavaSparkContext sc, NetworkSnapshot original);

    /** Judges {@code model}. */
    M evaluate(JavaSparkContext sc, NetworkSnapshot model);

    /** The forget set's loss in a judgement, or NaN when the task does not measure one. */
    double forgetLoss(M judgement);
}
