package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.data.Datasets;
import io.salun.diffusion.Denoiser;
import io.salun.diffusion.Generation;
import io.salun.diffusion.GenerationEval;
import io.salun.diffusion.GenerationReport;
import io.salun.diffusion.GenerationTask;
import io.salun.diffusion.SampleGrid;
import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.ModelStore;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.report.Manifest;
import io.salun.report.OutputDir;
import io.salun.report.Provenance;
import io.salun.report.Report;
import io.salun.train.Checkpoints;
import io.salun.unlearn.TrialOutcome;
import io.salun.unlearn.UnlearnRun;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code unlearn-diffusion}: makes the class-conditional diffusion model stop generating
 * {@code diffusion.forget-class} (SALUN-SPEC §5). SalUn-gen: the saliency mask of the guided
 * diffusion loss on the class's images, then masked fine-tuning towards the model's own
 * predictions under the next class's condition plus β × the ordinary loss on retain images (Adam,
 * gradient clipping). {@code rl} runs the same without the mask. Before and after, it generates
 * images of every class and has the classifier label them; publishes {@code model.zip} (the first
 * method's), {@code mask.bin}, sample grids, {@code report.json}, {@code report.html},
 * {@code manifest.json} and {@code _SUCCESS} in {@code output.dir}.
 */
public final class UnlearnDiffusionCommand {
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private UnlearnDiffusionCommand() {
    }

    public static String run(JavaSparkContext sc, Settings settings) {
        Instant started = Instant.now();
        List<String> methods = methods(settings.get(JobSettings.DIFFUSION_METHODS));
        int forgetClass = settings.get(JobSettings.DIFFUSION_FORGET_CLASS);
        String diffusionPath = ModelPaths.diffusion(settings);
        String classifierPath = settings.get(JobSettings.DIFFUSION_CLASSIFIER).orElseGet(() -> ModelPaths.original(settings));
        String output = settings.get(JobSettings.OUTPUT_DIR).orElseGet(() -> RunSetup.defaultOutput("runs",
                "diffusion-class" + forgetClass + "-" + methods.get(0) + "-", started));
        for (String[] input : List.of(new String[] {"diffusion.model", diffusionPath}, new String[] {"diffusion.classifier", classifierPath})) {
            if (new Path(output).equals(new Path(input[1]))) {
                throw new InvalidInputException("output.dir: " + output + " is the " + input[0] + " path; inputs are never overwritten");
            }
        }
        long seed = settings.get(JobSettings.SEED);
        double ratio = settings.get(JobSettings.DIFFUSION_SALIENCY_RATIO);
        try (OutputDir out = RunSetup.openOutput(sc, settings, output, "unlearn-diffusion")) {
            Datasets data = RunSetup.load(sc, settings);
            String classifierSetting = settings.get(JobSettings.DIFFUSION_CLASSIFIER).isPresent() ? "diffusion.classifier"
                    : "model.path";
            MultiLayerNetwork classifier = settings.get(JobSettings.DIFFUSION_CLASSIFIER).isPresent()
                    ? ModelStore.load(classifierPath, "diffusion.classifier", sc.hadoopConfiguration())
                    : TrainCommand.loadOrTrain(sc, settings, data).stack();
            int classes = RunSetup.classes(Net.of(classifier), data, classifierPath, classifierSetting);
            int d = data.featureLength();
            MultiLayerNetwork ddpm = TrainDiffusionCommand.loadOrTrain(sc, settings, data);
            int modelClasses = Denoiser.check(ddpm, d, "diffusion.model", diffusionPath);
            if (methods.contains("salun")) {
                SaliencyMask.requireKeepsSome(ratio, RunSetup.trainable(Net.of(ddpm)), "diffusion.saliency-ratio");
            }
            if (modelClasses != classes) {
                throw new InvalidInputException("diffusion.model: " + diffusionPath + " generates " + modelClasses
                        + " classes but the classifier (" + classifierPath + ") knows " + classes);
            }
            if (forgetClass >= classes) {
                throw new InvalidInputException("diffusion.forget-class: expected a class in 0.." + (classes - 1)
                        + ", found " + forgetClass);
            }
            Map<String, String> models = new LinkedHashMap<>();
            models.put("originalModel", diffusionPath);
            models.put("classifier", classifierPath);
            Manifest manifest = RunSetup.inputs(sc, settings, "unlearn-diffusion", models, Optional.empty());
            Optional<Checkpoints> checkpoints = RunSetup.checkpoints(sc, settings, output, manifest);
            GenerationTask.Spec spec = new GenerationTask.Spec(forgetClass, classes, d,
                    new Generation.Spec(settings.get(JobSettings.DIFFUSION_SAMPLE_PER_CLASS), 25,
                            settings.get(JobSettings.DIFFUSION_SAMPLE_STEPS), settings.get(JobSettings.DIFFUSION_GUIDANCE), seed),
                    data.partitions(), settings.get(JobSettings.SALIENCY_BATCH), ratio,
                    settings.get(JobSettings.DIFFUSION_GUIDANCE), seed, settings.get(JobSettings.EVAL_BATCH),
                    settings.get(JobSettings.TREE_DEPTH));
            GenerationTask.Recipe recipe = new GenerationTask.Recipe(settings.get(JobSettings.DIFFUSION_UNLEARN.lr()),
                    settings.get(JobSettings.DIFFUSION_UNLEARN.epochs()), settings.get(JobSettings.DIFFUSION_UNLEARN.batch()),
                    settings.get(JobSettings.DIFFUSION_UNLEARN.localSteps()), settings.get(JobSettings.DIFFUSION_P_UNCOND),
                    settings.get(JobSettings.DIFFUSION_UNLEARN_BETA), settings.get(JobSettings.DIFFUSION_UNLEARN_CLIP));
            return RunSetup.keepingCheckpointsOnlyForResume(checkpoints, () -> {
                try (GenerationTask task = GenerationTask.prepare(data, classifier, spec)) {
                    NetworkSnapshot theta0 = NetworkSnapshot.of(ddpm);
                    UnlearnRun<GenerationTask.Generated> run = new UnlearnRun<>(sc, task, theta0, checkpoints);
                    GenerationTask.Generated before = run.originalJudgement();
                    Optional<Bitset> mask = methods.contains("salun") ? Optional.of(run.mask()) : Optional.empty();
                    mask.ifPresent(out::writeMask);
                    List<TrialOutcome<GenerationTask.Generated>> outcomes = new ArrayList<>();
                    for (String method : methods) {
                        outcomes.add(run.train(task.stage(method, method.equals("salun") ? mask : Optional.empty(), theta0,
                                recipe)));
                    }

                    NetworkSnapshot published = outcomes.get(0).model();
                    out.writeModel(Net.of(ddpm).withParameters(published.parameters()).model());
                    int columns = Math.min(10, spec.sampling().perClass());
                    byte[] originalGrid = SampleGrid.png(before.images(), columns, data.rows(), 2);
                    out.write("samples-original.png", o -> o.write(originalGrid));
                    for (TrialOutcome<GenerationTask.Generated> o : outcomes) {
                        byte[] grid = SampleGrid.png(o.judgement().images(), columns, data.rows(), 2);
                        out.write(GenerationReport.gridName(o.label()), stream -> stream.write(grid));
                    }
                    Report report = GenerationReport.of(new GenerationReport.Run(forgetClass, task.forgetImages(), diffusionPath,
                            classifierPath, theta0.size(), mask, run.saliencySeconds(), run.devices()), before, outcomes,
                            columns, data.rows(), Provenance.of(settings, sc, started));
                    out.writeReport(report);
                    manifest.put("forgetClass", forgetClass);
                    manifest.put("methods", methods);
                    out.writeManifest(manifest);
                    out.publish();
                    checkpoints.ifPresent(Checkpoints::clear);
                    printTable(forgetClass, before.scores(), outcomes, out.published("report.json"));
                    return out.uri();
                }
            });
        }
    }

    static List<String> methods(String value) {
        List<String> methods = new ArrayList<>();
        for (String part : value.split(",")) {
            String m = part.trim().toLowerCase(java.util.Locale.ROOT);
            if (!m.equals("salun") && !m.equals("rl")) {
                throw new InvalidInputException("diffusion.methods: expected a comma-separated list of salun and rl, found '"
                        + value + "'");
            }
            if (!methods.contains(m)) {
                methods.add(m);
            }
        }
        if (methods.isEmpty()) {
            throw new InvalidInputException("diffusion.methods: expected at least one of salun, rl, found nothing");
        }
        return methods;
    }

    private static void printTable(int forgetClass, GenerationEval.Scores before,
                                   List<TrialOutcome<GenerationTask.Generated>> outcomes, String reportUri) {
        StringBuilder t = new StringBuilder(String.format("%nunlearning class %d from the diffusion model%n", forgetClass));
        t.append(String.format("%-12s %14s %20s %16s %10s%n", "model", "generation UA", "remaining accuracy", "FID (remaining)", "seconds"));
        t.append(String.format("%-12s %14.2f %20.2f %16.2f %10s%n", "original", before.unlearningAccuracy(),
                before.remainingAccuracy(), before.fid(), "-"));
        for (TrialOutcome<GenerationTask.Generated> o : outcomes) {
            GenerationEval.Scores s = o.judgement().scores();
            t.append(String.format("%-12s %14.2f %20.2f %16.2f %10.1f%n", o.label(), s.unlearningAccuracy(),
                    s.remainingAccuracy(), s.fid(), o.seconds()));
        }
        t.append("report: ").append(reportUri);
        CONSOLE.info(t.toString());
    }
}
