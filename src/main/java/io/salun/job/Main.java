package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Setting;
import io.salun.config.Settings;
import io.salun.config.StorageException;
import io.salun.unlearn.NoEffectException;
import io.salun.train.TrainingDivergedException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The job's entry point: {@code COMMAND [--conf=FILE ...] [--key=value ...]} ({@code --sweep} is short
 * for {@code --benchmark.sweep=true}) with commands
 * {@code train}, {@code unlearn}, {@code train-diffusion}, {@code unlearn-diffusion}, {@code benchmark}, {@code verify} and {@code settings}. Settings come from the properties file
 * (optional) overridden by the command line. Success returns normally (YARN treats an early
 * {@code System.exit(0)} as failure); bad input exits with 2, divergence with 3, a failed verification with 4, an unlearning run that
 * changed nothing with 5, anything else (a full disk among them) 1.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    public static final int BAD_INPUT = 2;
    public static final int DIVERGED = 3;
    public static final int FAILED = 1;
    public static final int NOT_VERIFIED = 4;
    public static final int NO_EFFECT = 5;

    private static final String USAGE = String.join("\n",
            "usage: COMMAND [--conf=FILE ...] [--key=value ...]",
            "  train     train the original model on the training set and save it at model.path",
            "  unlearn   saliency mask + SalUn + evaluation; publishes model.zip, mask.bin, report.json, report.html,",
            "            manifest.json and _SUCCESS in output.dir",
            "  train-diffusion    train the class-conditional diffusion model and save it at diffusion.model",
            "  unlearn-diffusion  SalUn-gen (and its unmasked variant) makes the diffusion model forget",
            "            diffusion.forget-class; generation before/after judged by the classifier; publishes model.zip,",
            "            mask.bin, sample grids, report.json, report.html, manifest.json and _SUCCESS in output.dir",
            "  bench     how fast the engine is: fine-tuning epoch (plain DL4J vs Spark), masking, saliency, rounds",
            "  verify    check the result in output.dir against its manifest.json (no Spark needed)",
            "  benchmark Retrain and every method of benchmark.methods on each scenario: the paper's table",
            "            (--sweep: try each method's learning-rate grid, keep the smallest Avg. Gap)",
            "  audit     per-example privacy audit of audit.model's forget records against audit.shadows shadow",
            "            models (trained one per Spark task, cached); publishes report.json, report.html in output.dir",
            "  settings  list every setting with its value and meaning",
            "  help      this text",
            "Settings come from the --conf files (later files win) and --key=value overrides (these win).",
            "Exit codes: 0 success, 2 bad input, 3 training diverged, 4 verify found a mismatch, 5 unlearning changed",
            "nothing (raise the learning rate), 1 other failure (a full disk: the message names the path).");

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs a command; returns the exit code. */
    public static int run(String[] args) {
        io.salun.model.NativeHelpers.enable();
        try {
            if (args.length == 1 && (args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h"))) {
                CONSOLE.info(USAGE);
                return 0;
            }
            if (args.length == 0 || args[0].startsWith("--")) {
                throw new InvalidInputException("command: expected one of train, unlearn, train-diffusion, unlearn-diffusion, benchmark, bench, audit, verify, settings, help as the first"
                        + " argument, found " + (args.length == 0 ? "nothing" : args[0]));
            }
            String command = args[0];
            Properties file = new Properties();
            Map<String, String> origins = new LinkedHashMap<>();
            Map<String, String> rest = new LinkedHashMap<>();
            String[] options = Arrays.copyOfRange(args, 1, args.length);
            for (String option : options) {
                if (option.startsWith("--conf=")) {
                    // several files layer: a later file's value wins
                    String path = option.substring("--conf=".length());
                    Properties layer = Settings.readProperties(path);
                    layer.stringPropertyNames().forEach(k -> origins.put(k, path));
                    file.putAll(layer);
                }
            }
            rest.putAll(Settings.parseOverrides(Arrays.stream(options).filter(o -> !o.startsWith("--conf="))
                    .map(o -> o.equals("--sweep") ? "--" + JobSettings.BENCHMARK_SWEEP.key() + "=true" : o)
                    .toArray(String[]::new)));
            Settings settings = Settings.load(JobSettings.ALL, file, origins, rest);
            switch (command) {
                case "settings" -> {
                    for (Setting<?> s : JobSettings.ALL) {
                        CONSOLE.info(String.format("%-28s %-36s %s", s.key(), settings.effective().get(s.key()), s.description()));
                    }
                }
                case "train" -> withSpark(settings, command, sc -> TrainCommand.run(sc, settings));
                case "unlearn" -> withSpark(settings, command, sc -> UnlearnCommand.run(sc, settings));
                case "benchmark" -> withSpark(settings, command, sc -> BenchmarkCommand.run(sc, settings));
                case "train-diffusion" -> withSpark(settings, command, sc -> TrainDiffusionCommand.run(sc, settings));
                case "unlearn-diffusion" -> withSpark(settings, command, sc -> UnlearnDiffusionCommand.run(sc, settings));
                case "bench" -> withSpark(settings, command, sc -> SpeedBenchCommand.run(sc, settings));
                case "audit" -> withSpark(settings, command, sc -> AuditCommand.run(sc, settings));
                case "verify" -> {
                    String dir = settings.get(JobSettings.OUTPUT_DIR).orElseThrow(() -> new InvalidInputException(
                            "output.dir: verify needs the published result to check (--output.dir=URI), found none"));
                    if (!VerifyCommand.run(dir, hadoopConfiguration())) {
                        return NOT_VERIFIED;
                    }
                }
                default -> throw new InvalidInputException("command: expected one of train, unlearn, train-diffusion, unlearn-diffusion, benchmark, bench, audit, verify, settings, help, found "
                        + command);
            }
            return 0;
        } catch (InvalidInputException e) {
            LOG.error("{}", e.getMessage());
            return BAD_INPUT;
        } catch (TrainingDivergedException e) {
            LOG.error("{}", e.getMessage());
            return DIVERGED;
        } catch (NoEffectException e) {
            LOG.error("{}", e.getMessage());
            return NO_EFFECT;
        } catch (StorageException e) {
            LOG.error("{}", e.getMessage());
            LOG.debug("storage failure", e);
            return FAILED;
        } catch (org.apache.hadoop.fs.FSError e) {
            LOG.error("file system failure: {}", StorageException.reason(e));
            LOG.debug("file system failure", e);
            return FAILED;
        } catch (Exception e) {
            // Spark rethrows task failures as SparkException, a checked exception Java code does not declare
            InvalidInputException cause = causeOf(e, InvalidInputException.class);
            if (cause != null) {
                LOG.error("{}", cause.getMessage());
                LOG.debug("bad input found in a Spark task", e);
                return BAD_INPUT;
            }
            StorageException storage = causeOf(e, StorageException.class);
            if (storage != null) {
                LOG.error("{}", storage.getMessage());
                LOG.debug("storage failure in a Spark task", e);
                return FAILED;
            }
            if (mentions(e, "java.lang.OutOfMemoryError")) {
                LOG.error("{}", OUT_OF_MEMORY + " (in a Spark task: " + firstLine(e) + ")");
                LOG.debug("out of memory in a Spark task", e);
                return FAILED;
            }
            if (mentions(e, "TaskResultLost")) {
                // the driver could not take a task's result: in local mode, and most often on clusters, for want of heap
                LOG.error("{}", "a task's result was lost on its way to the driver, most often because the driver ran "
                        + OUT_OF_MEMORY + " (" + firstLine(e) + ")");
                LOG.debug("task result lost", e);
                return FAILED;
            }
            LOG.error("job failed", e);
            return FAILED;
        } catch (OutOfMemoryError e) {
            LOG.error("{}", OUT_OF_MEMORY + " (on the driver: " + e.getMessage() + ")");
            return FAILED;
        }
    }

    /** What to do about memory, for the one line an out-of-memory failure gets. */
    static final String OUT_OF_MEMORY = "out of memory: each Spark task holds the network, its updater state and a round's"
            + " float64 partial (roughly 45 bytes per parameter with SGD momentum, 65 with Adam, plus the activations"
            + " of a minibatch), the driver the model, its state and the partials of treeReduce's last level; raise"
            + " spark.executor.memory and spark.driver.memory (in local mode the one JVM's heap: JAVA_OPTS=-Xmx...),"
            + " or lower the batch size; README, \"Bring your own model\", gives measured figures";

    /** Whether {@code e} or a cause names {@code what} (a task's error reaches the driver as text in a SparkException). */
    private static boolean mentions(Throwable e, String what) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getName().equals(what) || (t.getMessage() != null && t.getMessage().contains(what))) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(Throwable e) {
        return e.getMessage() == null ? e.getClass().getName() : e.getMessage().lines().findFirst().orElse("");
    }

    /**
     * The Hadoop configuration of a command that runs without Spark ({@code verify}): the
     * cluster's (core-site.xml on the class path) with every {@code spark.hadoop.*} setting
     * spark-submit passed (as Spark itself would apply them), so {@code s3a://} endpoints and
     * credentials given that way reach it.
     */
    static org.apache.hadoop.conf.Configuration hadoopConfiguration() {
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
        for (scala.Tuple2<String, String> kv : new SparkConf().getAll()) {
            if (kv._1().startsWith("spark.hadoop.")) {
                conf.set(kv._1().substring("spark.hadoop.".length()), kv._2());
            }
        }
        return conf;
    }

    /** A failure found inside a Spark task reaches the driver wrapped in a SparkException. */
    private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static void withSpark(Settings settings, String command, java.util.function.Consumer<JavaSparkContext> body) {
        boolean existing = SparkSession.getActiveSession().isDefined();
        SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "salun-spark " + command);
        settings.get(JobSettings.SPARK_MASTER).ifPresent(conf::setMaster);
        if (!conf.contains("spark.master")) {
            throw new InvalidInputException("spark.master: not set; run through spark-submit, or pass"
                    + " --spark.master=local[*] to run on this machine");
        }
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            body.accept(JavaSparkContext.fromSparkContext(spark.sparkContext()));
        } finally {
            if (!existing) {
                spark.stop();
            }
        }
    }
}
