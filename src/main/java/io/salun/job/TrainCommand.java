package io.salun.job;

import io.salun.config.Settings;
import io.salun.data.Datasets;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.eval.ClassCounts;
import io.salun.eval.EvaluationStage;
import io.salun.model.Architecture;
import io.salun.model.ModelStore;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.config.InvalidInputException;
import io.salun.train.DataOrder;
import io.salun.train.GradientTerm;
import io.salun.train.Labelling;
import io.salun.train.ParameterAveraging;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import io.salun.model.Net;
import io.salun.model.Safetensors;
import io.salun.model.TorchWeights;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;

/** {@code train}: trains the original model from scratch on {@code D} and saves it at {@code model.path}. */
public final class TrainCommand {
    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private TrainCommand() {
    }

    public static void run(JavaSparkContext sc, Settings settings) {
        String modelPath = ModelPaths.original(settings);
        if (ModelStore.isSafetensors(modelPath)) {
            throw new InvalidInputException("model.path: train writes a DL4J model zip, found " + modelPath
                    + " (.safetensors); give the original's DL4J path, or bring PyTorch weights to unlearn");
        }
        boolean overwrite = settings.get(JobSettings.OUTPUT_OVERWRITE);
        if (ModelStore.exists(modelPath, sc.hadoopConfiguration()) && !overwrite) {
            throw new InvalidInputException("model.path: " + modelPath + " already exists; choose another"
                    + " model.path or set output.overwrite=true");
        }
        Datasets data = RunSetup.load(sc, settings);
        data.checkLabels(settings.get(JobSettings.DATA_CLASSES), "data.classes'");
        trainAndSave(sc, settings, data, modelPath);
        CONSOLE.info("original model: {}", modelPath);
    }

    /**
     * The original model at {@code model.path}; with {@code model.train-if-missing} it is trained
     * (and cached there) first when missing.
     */
    static Net loadOrTrain(JavaSparkContext sc, Settings settings, Datasets data) {
        String modelPath = ModelPaths.original(settings);
        if (ModelStore.isSafetensors(modelPath)) {
            return loadTorch(settings, modelPath, data.rows(), data.cols(), data.channels(), sc.hadoopConfiguration());
        }
        if (!ModelStore.exists(modelPath, sc.hadoopConfiguration())) {
            if (!settings.get(JobSettings.TRAIN_IF_MISSING)) {
                throw new InvalidInputException("model.path: no model at " + modelPath + "; run the train command"
                        + " first or set model.train-if-missing=true");
            }
            LOG.info("no original model at {} yet: training it first", modelPath);
            data.checkLabels(settings.get(JobSettings.DATA_CLASSES), "data.classes'");
            trainAndSave(sc, settings, data, modelPath);
        }
        return ModelStore.loadNet(modelPath, "model.path", sc.hadoopConfiguration());
    }

    /**
     * The PyTorch weights at {@code modelPath} (safetensors) in the DL4J network of
     * {@code model.arch} at {@code model.width}, for images of {@code rows × cols × channels}; its
     * classes are the weights' own.
     */
    static Net loadTorch(Settings settings, String modelPath, int rows, int cols, int channels, Configuration conf) {
        Architecture arch = Architecture.parse(settings.get(JobSettings.MODEL_ARCH));
        if (arch != Architecture.LENET && arch != Architecture.RESNET18) {
            throw new InvalidInputException("model.arch: PyTorch weights (" + modelPath + ") are read for lenet and"
                    + " resnet18, found " + settings.get(JobSettings.MODEL_ARCH));
        }
        Map<String, Safetensors.Tensor> state = ModelStore.readSafetensors(modelPath, "model.path", conf);
        int classes = TorchWeights.classes(state, arch, "model.path", modelPath);
        Net net = arch.network(rows, cols, channels, classes, settings.get(JobSettings.SEED),
                Recipes.training(settings).optimizer(), settings.get(JobSettings.MODEL_WIDTH), TorchWeights.normalises(state));
        TorchWeights.load(state, net, arch, "model.path", modelPath);
        LOG.info("model.path: read PyTorch weights of a {} ({} parameters, {} classes) from {}",
                arch.name().toLowerCase(java.util.Locale.ROOT), net.numParams(), classes, modelPath);
        return net;
    }

    /** Trains on {@code data} and publishes the model at {@code modelPath} (written aside, then renamed). */
    static void trainAndSave(JavaSparkContext sc, Settings settings, Datasets data, String modelPath) {
        int classes = settings.get(JobSettings.DATA_CLASSES);
        long seed = settings.get(JobSettings.SEED);
        Architecture arch = Architecture.parse(settings.get(JobSettings.MODEL_ARCH));
        Optimizer optimizer = Recipes.training(settings).optimizer();
        Net init = arch.network(data.rows(), data.cols(), data.channels(), classes, seed, optimizer,
                settings.get(JobSettings.MODEL_WIDTH));
        LOG.info("train: {} with {} parameters, {}", arch, init.numParams(), optimizer);
        JavaRDD<Shard> train = Shards.cache(data.training(), "D shards");
        JavaRDD<Shard> test = Shards.cache(data.test(), "Dt shards");
        try {
            long began = System.nanoTime();
            ParameterAveraging.Plan plan = new ParameterAveraging.Plan("train", settings.get(JobSettings.TRAIN.epochs()),
                    settings.get(JobSettings.TRAIN.batch()), settings.get(JobSettings.TRAIN.localSteps()), classes, seed,
                    DataOrder.MIXED, Labelling.trueLabels(), new GradientTerm.None(), settings.get(JobSettings.TREE_DEPTH),
                    Recipes.schedule(settings, JobSettings.TRAIN.lrSchedule()));
            NetworkSnapshot trained = ParameterAveraging.train(sc, NetworkSnapshot.of(init), train, plan, Optional.empty()).network();
            double seconds = (System.nanoTime() - began) / 1e9;
            int batch = settings.get(JobSettings.EVAL_BATCH);
            int depth = settings.get(JobSettings.TREE_DEPTH);
            ClassCounts trainCounts = EvaluationStage.counts(sc, trained, train, batch, classes, depth)[1];
            ClassCounts testCounts = EvaluationStage.counts(sc, trained, test, batch, classes, depth)[1];
            CONSOLE.info(String.format("trained %s on %d records in %.1f s: train accuracy %.2f%%, test accuracy %.2f%%",
                    arch.name().toLowerCase(), trainCounts.total(), seconds, trainCounts.accuracy(), testCounts.accuracy()));
            save(trained.net().model(), modelPath, settings.get(JobSettings.OUTPUT_OVERWRITE), sc.hadoopConfiguration());
        } finally {
            train.unpersist();
            test.unpersist();
        }
    }

    static void save(org.deeplearning4j.nn.api.Model net, String modelPath, boolean overwrite, Configuration conf) {
        save(net, modelPath, overwrite, "model.path", conf);
    }

    /** Writes {@code net} beside {@code modelPath}, then renames it into place; {@code setting} names the path in errors. */
    static void save(org.deeplearning4j.nn.api.Model net, String modelPath, boolean overwrite, String setting, Configuration conf) {
        Path target = new Path(modelPath);
        Path aside = new Path(target.getParent(), "." + target.getName() + ".writing");
        io.salun.config.StorageException.guard(setting, "save the model at", modelPath, () -> {
            FileSystem fs = target.getFileSystem(conf);
            fs.delete(aside, false);
            ModelStore.save(net, aside.toString(), true, setting, conf);
            if (fs.exists(target) && overwrite) {
                fs.delete(target, false);
            }
            if (!fs.rename(aside, target)) {
                fs.delete(aside, false);
                throw new IOException("rename of " + aside + " to " + target + " failed");
            }
        });
    }
}
