package io.salun.unlearn;

import io.salun.data.Shard;
import io.salun.eval.EvaluationStage;
import io.salun.eval.Forgetting;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetScenario;
import io.salun.mask.Bitset;
import io.salun.model.NetworkSnapshot;
import io.salun.saliency.SaliencyStage;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unlearning a classifier (SALUN-SPEC §1–4): the mask keeps the top {@code ratio} of the summed
 * cross-entropy gradient over Df, a model is judged by UA, RA, TA and MIA-Efficacy on the
 * scenario's cached sets, and the forget loss is Df's mean cross-entropy.
 *
 * @param saliencyBatch minibatch of the gradient pass (it does not change the sum)
 * @param evalBatch     minibatch of inference
 */
public record ClassificationTask(ForgetScenario scenario, int classes, double ratio, int saliencyBatch, int evalBatch,
                                 int treeDepth) implements UnlearningTask<Metrics> {
    private static final Logger LOG = LoggerFactory.getLogger(ClassificationTask.class);

    @Override
    public JavaRDD<Shard> forgetSet() {
        return scenario.forget();
    }

    @Override
    public JavaRDD<Shard> evaluationSet() {
        return scenario.test();
    }

    @Override
    public Bitset saliencyMask(JavaSparkContext sc, NetworkSnapshot original) {
        long t0 = System.nanoTime();
        LOG.info("saliency: summing forget-set gradients over {} parameters", original.size());
        Bitset m = SaliencyStage.mask(sc, original, scenario.forget(), saliencyBatch, classes, ratio, treeDepth);
        int statistics = 0;
        for (boolean s : io.salun.model.ParameterRoles.untrainable(original)) {
            statistics += s ? 1 : 0;
        }
        if (statistics == 0) {
            LOG.info("saliency: mask keeps {} of {} parameters ({} s)", m.cardinality(), m.size(),
                    String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        } else {
            LOG.info("saliency: mask keeps {} of {} trainable parameters; {} BatchNorm running statistics are not ranked"
                    + " and keep updating ({} s)", m.cardinality() - statistics, m.size() - statistics, statistics,
                    String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        }
        return m;
    }

    @Override
    public Metrics evaluate(JavaSparkContext sc, NetworkSnapshot model) {
        return EvaluationStage.evaluate(sc, model, sets(), evalBatch, classes, treeDepth);
    }

    @Override
    public double forgetLoss(Metrics judgement) {
        return judgement.forgetLoss();
    }

    /** "Was it forgotten?": {@code model}'s accuracy per class and confidence histograms on Df, Dr and Dt. */
    public Forgetting.Profile profile(JavaSparkContext sc, NetworkSnapshot model) {
        return Forgetting.of(sc, model, scenario.all(), scenario.test(), evalBatch, classes, treeDepth);
    }

    /** The sets a model is evaluated on. */
    public EvaluationStage.Sets sets() {
        return new EvaluationStage.Sets(scenario.all(), scenario.forget(), scenario.test(), scenario.members(),
                scenario.nonMembers(), scenario.spec().forgottenClasses());
    }

    /** The cached sets every method draws from, with the original model they start from. */
    public Unlearning.Inputs inputs(NetworkSnapshot original, io.salun.model.NetworkConfig configuration,
                                    long seed) {
        return new Unlearning.Inputs(original, configuration, scenario.all(), scenario.forget(), scenario.retain(), classes,
                seed, treeDepth);
    }
}
