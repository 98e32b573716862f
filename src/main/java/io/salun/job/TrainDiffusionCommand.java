package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.data.Datasets;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.diffusion.DiffusionTargets;
import io.salun.diffusion.Denoiser;
import io.salun.diffusion.NoiseSchedule;
import io.salun.model.ModelStore;
import io.salun.model.NetworkSnapshot;
import io.salun.train.DataOrder;
import io.salun.train.GradientTerm;
import io.salun.train.ParameterAveraging;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;

/**
 * {@code train-diffusion}: trains the class-conditional diffusion model (DDPM objective with
 * condition dropout for classifier-free guidance) on {@code D} with the parameter-averaging engine,
 * and saves it at {@code diffusion.model}.
 */
public final class TrainDiffusionCommand {
    private static final Logger LOG = LoggerFactory.getLogger(TrainDiffusionCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private TrainDiffusionCommand() {
    }

    public static void run(JavaSparkContext sc, Settings settings) {
        String path = ModelPaths.diffusion(settings);
        if (ModelStore.exists(path, sc.hadoopConfiguration()) && !settings.get(JobSettings.OUTPUT_OVERWRITE)) {
            throw new InvalidInputException("diffusion.model: " + path + " already exists; choose another"
                    + " diffusion.model or set output.overwrite=true");
        }
        Datasets data = RunSetup.load(sc, settings);
        data.checkLabels(settings.get(JobSettings.DATA_CLASSES), "data.classes'");
        trainAndSave(sc, settings, data, path);
        CONSOLE.info("diffusion model: {}", path);
    }

    /** The diffusion model at {@code diffusion.model}, trained first when missing and diffusion.train-if-missing is set. */
    static MultiLayerNetwork loadOrTrain(JavaSparkContext sc, Settings settings, Datasets data) {
        String path = ModelPaths.diffusion(settings);
        if (!ModelStore.exists(path, sc.hadoopConfiguration())) {
            if (!settings.get(JobSettings.DIFFUSION_TRAIN_IF_MISSING)) {
                throw new InvalidInputException("diffusion.model: no model at " + path + "; run the train-diffusion"
                        + " command first or set diffusion.train-if-missing=true");
            }
            LOG.info("no diffusion model at {} yet: training it first", path);
            data.checkLabels(settings.get(JobSettings.DATA_CLASSES), "data.classes'");
            trainAndSave(sc, settings, data, path);
        }
        return ModelStore.load(path, "diffusion.model", sc.hadoopConfiguration());
    }

    static void trainAndSave(JavaSparkContext sc, Settings settings, Datasets data, String path) {
        int classes = settings.get(JobSettings.DATA_CLASSES);
        long seed = settings.get(JobSettings.SEED);
        int d = data.featureLength();
        MultiLayerNetwork init = new MultiLayerNetwork(Denoiser.configuration(d, classes, settings.get(JobSettings.DIFFUSION_WIDTH),
                settings.get(JobSettings.DIFFUSION_DEPTH), settings.get(JobSettings.DIFFUSION.lr()), seed));
        init.init();
        LOG.info("train-diffusion: MLP noise predictor with {} parameters for {} images, {} classes, T = {}",
                init.numParams(), data.shape(), classes, NoiseSchedule.DDPM.timesteps());
        JavaRDD<Shard> train = Shards.cache(data.training(), "D shards");
        try {
            long began = System.nanoTime();
            ParameterAveraging.Plan plan = new ParameterAveraging.Plan("train-diffusion",
                    settings.get(JobSettings.DIFFUSION.epochs()), settings.get(JobSettings.DIFFUSION.batch()),
                    settings.get(JobSettings.DIFFUSION.localSteps()), classes, seed, DataOrder.MIXED,
                    new DiffusionTargets.Denoising(seed, NoiseSchedule.DDPM, settings.get(JobSettings.DIFFUSION_P_UNCOND)),
                    new GradientTerm.None(), settings.get(JobSettings.TREE_DEPTH));
            ParameterAveraging.Result result = ParameterAveraging.train(sc, NetworkSnapshot.of(init), train, plan, Optional.empty());
            List<ParameterAveraging.RoundLoss> losses = result.losses();
            CONSOLE.info(String.format("trained the diffusion model in %.1f s: last round's loss %.4f",
                    (System.nanoTime() - began) / 1e9, losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1).meanLoss()));
            TrainCommand.save(result.network().build(), path, settings.get(JobSettings.OUTPUT_OVERWRITE), "diffusion.model",
                    sc.hadoopConfiguration());
        } finally {
            train.unpersist();
        }
    }
}
