package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.eval.Metrics;
import io.salun.forget.ForgetSpec;
import io.salun.mask.Bitset;
import io.salun.model.Architecture;
import io.salun.model.ModelStore;
import io.salun.model.Net;
import io.salun.model.Safetensors;
import io.salun.model.TorchWeights;
import io.salun.report.OutputDir;
import io.salun.report.Provenance;
import io.salun.report.Report;
import io.salun.train.Checkpoints;
import io.salun.unlearn.Method;
import io.salun.unlearn.RunReport;
import io.salun.unlearn.TrialOutcome;
import io.salun.unlearn.UnlearnRun;
import io.salun.unlearn.Unlearning;
import io.salun.unlearn.Recipe;
import io.salun.unlearn.SelectiveDampening;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code unlearn}: reads the settings, builds the run's typed inputs, runs saliency mask → method
 * (SalUn by default) → audit → evaluation through {@link UnlearnRun}, and publishes
 * {@code model.zip}, {@code mask.bin}, {@code report.json}, {@code report.html},
 * {@code manifest.json} and {@code _SUCCESS} in {@code output.dir}. With {@code schedule.dir}
 * each run is one slot of a schedule ({@link Schedule}).
 */
public final class UnlearnCommand {
    private static final Logger LOG = LoggerFactory.getLogger(UnlearnCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private UnlearnCommand() {
    }

    /** Runs the command and returns the published output folder (none for a slot without new requests). */
    public static Optional<String> run(JavaSparkContext sc, Settings settings) {
        if (settings.get(JobSettings.SCHEDULE_DIR).isEmpty()) {
            return Optional.of(unlearn(sc, settings, RunSetup.forgetSpec(settings)));
        }
        try (Schedule.Slot slot = Schedule.open(sc, settings)) {
            if (slot.done()) {
                return slot.output();
            }
            Optional<String> output = slot.window().map(window -> unlearn(sc, slot.settings(), window));
            slot.record(output);
            return output;
        }
    }

    /** One unlearning run with forget set {@code spec}; returns its published folder. */
    static String unlearn(JavaSparkContext sc, Settings settings, ForgetSpec spec) {
        Instant started = Instant.now();
        Method method = Method.parse(settings.get(JobSettings.UNLEARN_METHOD));
        boolean masked = method.alwaysMasked() || settings.get(JobSettings.UNLEARN_MASK);
        if (method == Method.RETRAIN && masked) {
            throw new InvalidInputException("unlearn.mask: retrain trains every weight from scratch; found unlearn.mask=true");
        }
        if (method == Method.SFRON && masked) {
            throw new InvalidInputException("unlearn.mask: sfron masks its forget steps with its own Fisher-ratio mask"
                    + " (unlearn.sfron-threshold) and trains every weight on Dr; found unlearn.mask=true");
        }
        String label = Unlearning.label(method, masked);
        String modelPath = ModelPaths.original(settings);
        String output = settings.get(JobSettings.OUTPUT_DIR).orElseGet(() ->
                RunSetup.defaultOutput("runs", spec.scenario() + "-" + label + "-", started));
        if (new Path(output).equals(new Path(modelPath))) {
            throw new InvalidInputException("output.dir: " + output + " is the original model's path (model.path);"
                    + " the original model is never overwritten");
        }
        double ratio = settings.get(JobSettings.SALIENCY_RATIO);
        try (OutputDir out = RunSetup.openOutput(sc, settings, output, "unlearn")) {
            return RunSetup.classification(sc, settings, "unlearn", output, spec, masked, c -> {
                UnlearnRun<Metrics> run = c.run();
                Optional<Bitset> mask = masked ? Optional.of(run.mask()) : Optional.empty();
                mask.ifPresent(out::writeMask);
                Recipe recipe = Recipes.forUnlearnCommand(settings, method);
                TrialOutcome<Metrics> trial = method == Method.SCRUB
                        ? run.train(Unlearning.stage(method, mask, recipe, c.inputs()),
                                after -> Unlearning.scrubMinSteps(Unlearning.stage(method, mask, recipe, c.inputs()), after,
                                        recipe, c.inputs()))
                        : method == Method.SFRON ? sfron(sc, run, recipe, c.inputs())
                        : method.trains()
                        ? run.train(Unlearning.stage(method, mask, recipe, c.inputs()))
                        : run.apply(label, mask, 0, context -> Unlearning.dampen(new SelectiveDampening(
                                settings.get(JobSettings.UNLEARN_SSD_ALPHA), settings.get(JobSettings.UNLEARN_SSD_LAMBDA)),
                                Unlearning.importances(context, c.inputs()), mask, c.inputs()));
                Metrics before = run.originalJudgement();

                Net unlearned = c.original().withParameters(trial.model().parameters());
                out.writeModel(unlearned.model());
                if (ModelStore.isSafetensors(modelPath)) {
                    // PyTorch weights came in: the same keys, shapes and dtypes go out
                    Map<String, Safetensors.Tensor> imported = ModelStore.readSafetensors(modelPath, "model.path",
                            sc.hadoopConfiguration());
                    Architecture arch = Architecture.parse(settings.get(JobSettings.MODEL_ARCH));
                    out.write("model.safetensors", o -> Safetensors.write(TorchWeights.export(unlearned, arch,
                            Optional.of(imported)), Map.of("format", "pt", "written-by", "salun-spark"), o));
                }
                LOG.info("report: profiling accuracy per class and true-label confidence before and after");
                RunReport.Forgotten forgotten = new RunReport.Forgotten(c.task().profile(sc, c.theta0()),
                        c.task().profile(sc, trial.model()), spec.forgottenClasses());
                Report report = RunReport.of(new RunReport.Run(spec, modelPath, c.scenario().split(),
                        c.scenario().testCount(), mask, ratio, run.saliencySeconds(), run.devices(),
                        new RunReport.Model(settings.get(JobSettings.MODEL_ARCH), settings.get(JobSettings.MODEL_WIDTH),
                                c.original().isGraph() ? "ComputationGraph" : "MultiLayerNetwork", c.inputShape(),
                                ModelStore.isSafetensors(modelPath))), c.theta0(), before, trial,
                        forgotten, Provenance.of(settings, sc, started));
                out.writeReport(report);
                RunReport.fillManifest(report, c.manifest());
                out.writeManifest(c.manifest());
                out.publish();
                c.checkpoints().ifPresent(Checkpoints::clear);
                printTable(spec, label, before, trial.judgement(), run.saliencySeconds(), trial.seconds(),
                        forgotten.verdict(),
                        out.published("report.json"));
                return out.uri();
            });
        }
    }

    /** SFR-on: its Fisher-ratio mask, then its training; the outcome's time counts both. */
    private static TrialOutcome<Metrics> sfron(JavaSparkContext sc, UnlearnRun<Metrics> run, Recipe recipe,
                                               Unlearning.Inputs in) {
        Unlearning.SfrOnMask forgetMask = Unlearning.sfronMask(sc, in, recipe.sfron().threshold());
        return run.train(Unlearning.sfron(forgetMask, recipe, in)).plusSeconds(forgetMask.seconds());
    }

    private static void printTable(ForgetSpec spec, String method, Metrics before, Metrics after,
                                   double saliencySeconds, double unlearnSeconds, List<String> verdict,
                                   String reportPath) {
        CONSOLE.info("");
        CONSOLE.info(String.format("%-10s %8s %8s %8s %8s", spec.scenario(), "UA %", "RA %", "TA %", "MIA %"));
        CONSOLE.info(String.format("%-10s %8.2f %8.2f %8.2f %8.2f", "original", before.ua(), before.ra(), before.ta(), before.mia()));
        CONSOLE.info(String.format("%-10s %8.2f %8.2f %8.2f %8.2f", method, after.ua(), after.ra(), after.ta(), after.mia()));
        if (!Double.isNaN(after.forgottenClassTestAccuracy())) {
            CONSOLE.info(String.format("forgotten classes' test accuracy: %.2f%% -> %.2f%%",
                    before.forgottenClassTestAccuracy(), after.forgottenClassTestAccuracy()));
        }
        if (method.equals(Method.SFRON.id())) {
            CONSOLE.info(String.format("unlearning %.1f s (with its Fisher-ratio mask)", unlearnSeconds));
        } else {
            CONSOLE.info(String.format("saliency %.1f s, unlearning %.1f s", saliencySeconds, unlearnSeconds));
        }
        for (String line : verdict) {
            CONSOLE.info(line);
        }
        CONSOLE.info("report: {}", reportPath);
    }
}
