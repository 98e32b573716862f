package io.salun.job;

import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.data.Example;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.diffusion.Denoiser;
import io.salun.diffusion.DiffusionTargets;
import io.salun.diffusion.GenerationEval;
import io.salun.diffusion.Generation;
import io.salun.diffusion.GuidedSaliency;
import io.salun.diffusion.NoiseSchedule;
import io.salun.diffusion.SampleGrid;
import io.salun.forget.SelectionStage;
import io.salun.mask.Bitset;
import io.salun.mask.MaskFile;
import io.salun.model.ModelStore;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.report.BuildInfo;
import io.salun.report.FileDigests;
import io.salun.report.Html;
import io.salun.report.Manifest;
import io.salun.report.OutputDir;
import io.salun.report.RunReport;
import io.salun.train.DataOrder;
import io.salun.train.GradientTerm;
import io.salun.train.ParameterAveraging;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
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
    private static final Logger LOG = LoggerFactory.getLogger(UnlearnDiffusionCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private UnlearnDiffusionCommand() {
    }

    /** One method's outcome. */
    record Outcome(String method, NetworkSnapshot model, double seconds, List<ParameterAveraging.RoundLoss> losses,
                   GenerationEval.Scores scores, float[][][] images) {
    }

    public static String run(JavaSparkContext sc, Settings settings) {
        Instant started = Instant.now();
        List<String> methods = methods(settings.get(JobSettings.DIFFUSION_METHODS));
        int forgetClass = settings.get(JobSettings.DIFFUSION_FORGET_CLASS);
        String diffusionPath = ModelPaths.diffusion(settings);
        String classifierPath = settings.get(JobSettings.DIFFUSION_CLASSIFIER).orElseGet(() -> ModelPaths.original(settings));
        String output = settings.get(JobSettings.OUTPUT_DIR).orElseGet(() -> "work/runs/diffusion-class" + forgetClass + "-"
                + methods.get(0) + "-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started));
        for (String[] input : List.of(new String[] {"diffusion.model", diffusionPath}, new String[] {"diffusion.classifier", classifierPath})) {
            if (new Path(output).equals(new Path(input[1]))) {
                throw new InvalidInputException("output.dir: " + output + " is the " + input[0] + " path; inputs are never overwritten");
            }
        }
        Configuration hadoop = sc.hadoopConfiguration();
        long seed = settings.get(JobSettings.SEED);
        int depth = settings.get(JobSettings.TREE_DEPTH);
        int evalBatch = settings.get(JobSettings.EVAL_BATCH);
        double guidance = settings.get(JobSettings.DIFFUSION_GUIDANCE);
        try (OutputDir out = UnlearnCommand.openOutput(sc, settings, output, "unlearn-diffusion")) {
            Datasets data = Datasets.load(sc, settings);
            MultiLayerNetwork classifier = settings.get(JobSettings.DIFFUSION_CLASSIFIER).isPresent()
                    ? ModelStore.load(classifierPath, "diffusion.classifier", hadoop)
                    : TrainCommand.loadOrTrain(sc, settings, data);
            int classes = UnlearnCommand.checkCompatible(classifier, data, classifierPath,
                    settings.get(JobSettings.DIFFUSION_CLASSIFIER).isPresent() ? "diffusion.classifier" : "model.path");
            int d = data.featureLength();
            MultiLayerNetwork ddpm = TrainDiffusionCommand.loadOrTrain(sc, settings, data);
            int modelClasses = Denoiser.check(ddpm, d, "diffusion.model", diffusionPath);
            if (methods.contains("salun")) {
                UnlearnCommand.requireMaskKeepsSome(settings.get(JobSettings.DIFFUSION_SALIENCY_RATIO), (int) ddpm.numParams(),
                        "diffusion.saliency-ratio");
            }
            if (modelClasses != classes) {
                throw new InvalidInputException("diffusion.model: " + diffusionPath + " generates " + modelClasses
                        + " classes but the classifier (" + classifierPath + ") knows " + classes);
            }
            if (forgetClass >= classes) {
                throw new InvalidInputException("diffusion.forget-class: expected a class in 0.." + (classes - 1)
                        + ", found " + forgetClass);
            }
            Manifest manifest = new Manifest("unlearn-diffusion");
            manifest.input("originalModel", diffusionPath, FileDigests.of(diffusionPath, hadoop, null), Map.of());
            manifest.input("classifier", classifierPath, FileDigests.of(classifierPath, hadoop, null), Map.of());

            JavaRDD<Example> flagged = data.training().map(e -> e.withForget(e.label() == forgetClass));
            JavaRDD<Example> forgetRecords = flagged.filter(Example::forget);
            long forgetCount = forgetRecords.count();
            if (forgetCount == 0) {
                throw new InvalidInputException("diffusion.forget-class: no training record of " + data.source()
                        + " has label " + forgetClass + "; nothing to forget");
            }
            JavaRDD<Example> retainSample = SelectionStage.take(flagged.filter(e -> !e.forget()), seed, "diffusion-retain",
                    forgetCount);
            JavaRDD<Shard> forget = Shards.cache(forgetRecords, "Df shards");
            JavaRDD<Shard> unlearnSet = Shards.cache(forgetRecords.union(retainSample)
                    .repartition(Math.max(1, data.partitions())), "Df+Dr shards");
            try {
                int[] allClasses = new int[classes];
                for (int c = 0; c < classes; c++) {
                    allClasses[c] = c;
                }
                Generation.Spec sampling = new Generation.Spec(settings.get(JobSettings.DIFFUSION_SAMPLE_PER_CLASS), 25,
                        settings.get(JobSettings.DIFFUSION_SAMPLE_STEPS), guidance, seed);
                double[][] realRemaining = GenerationEval.features(classifier, data.test()
                        .filter(e -> e.label() != forgetClass).map(Example::features).collect().toArray(new float[0][]), evalBatch);

                NetworkSnapshot theta0 = NetworkSnapshot.of(ddpm);
                LOG.info("generating {} images per class with the original model", sampling.perClass());
                float[][][] beforeImages = Generation.generate(sc, theta0, allClasses, classes, d, sampling, data.partitions());
                GenerationEval.Scores before = GenerationEval.score(classifier, allClasses, beforeImages, forgetClass, realRemaining, evalBatch);
                LOG.info("original model: generation UA {}, remaining classes' accuracy {}, FID {}", Html.num(before.unlearningAccuracy()),
                        Html.num(before.remainingAccuracy()), Html.num(before.fid()));

                Optional<Bitset> mask = Optional.empty();
                double saliencySeconds = 0;
                if (methods.contains("salun")) {
                    long t0 = System.nanoTime();
                    LOG.info("saliency: summing the guided diffusion loss's gradient over {} images of class {} ({} parameters)",
                            forgetCount, forgetClass, theta0.size());
                    mask = Optional.of(GuidedSaliency.mask(sc, theta0, forget, settings.get(JobSettings.SALIENCY_BATCH), classes,
                            guidance, settings.get(JobSettings.DIFFUSION_SALIENCY_RATIO), seed, depth));
                    saliencySeconds = (System.nanoTime() - t0) / 1e9;
                    LOG.info("saliency: mask keeps {} of {} parameters ({} s)", mask.get().cardinality(), mask.get().size(),
                            String.format("%.1f", saliencySeconds));
                    Bitset m = mask.get();
                    out.write("mask.bin", o -> o.write(MaskFile.encode(m)));
                }
                List<Outcome> outcomes = new ArrayList<>();
                for (String method : methods) {
                    Optional<Bitset> methodMask = method.equals("salun") ? mask : Optional.empty();
                    Outcome o = unlearn(sc, settings, method, methodMask, theta0, ddpm.getLayerWiseConfigurations(),
                            unlearnSet, classes, allClasses, d, sampling, classifier, forgetClass, realRemaining, data.partitions());
                    io.salun.unlearn.Unlearning.audit(method + "-gen", methodMask, theta0, o.model());
                    outcomes.add(o);
                }

                NetworkSnapshot published = outcomes.get(0).model();
                MultiLayerNetwork net = new MultiLayerNetwork(ddpm.getLayerWiseConfigurations().clone());
                net.init(Nd4j.createFromArray(published.parameters()).reshape(1, published.size()), false);
                out.write("model.zip", o -> ModelStore.write(net, false, o));
                int columns = Math.min(10, sampling.perClass());
                byte[] originalGrid = SampleGrid.png(beforeImages, columns, data.rows(), 2);
                out.write("samples-original.png", o -> o.write(originalGrid));
                for (Outcome o : outcomes) {
                    byte[] grid = SampleGrid.png(o.images(), columns, data.rows(), 2);
                    out.write("samples-" + o.method() + ".png", stream -> stream.write(grid));
                }
                Map<String, Object> report = report(settings, forgetClass, forgetCount, diffusionPath, classifierPath, theta0,
                        mask, saliencySeconds, before, outcomes, started, sc);
                out.writeText("report.json", RunReport.toJson(report));
                out.writeText("report.html", html(forgetClass, before, outcomes, beforeImages, columns, data.rows(), mask, theta0.size()));
                manifest.put("forgetClass", forgetClass);
                manifest.put("methods", methods);
                out.writeManifest(manifest);
                out.publish();
                printTable(forgetClass, before, outcomes, out.published("report.json"));
                return out.uri();
            } finally {
                forget.unpersist();
                unlearnSet.unpersist();
            }
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

    private static Outcome unlearn(JavaSparkContext sc, Settings settings, String method, Optional<Bitset> mask,
                                   NetworkSnapshot theta0, MultiLayerConfiguration configuration, JavaRDD<Shard> data,
                                   int classes, int[] allClasses, int d, Generation.Spec sampling, MultiLayerNetwork classifier,
                                   int forgetClass, double[][] realRemaining, int partitions) {
        long seed = settings.get(JobSettings.SEED);
        Optimizer adam = new Optimizer("adam", settings.get(JobSettings.DIFFUSION_UNLEARN.lr()), 0, 0, 0);
        NetworkSnapshot start = NetworkSnapshot.fresh(adam.applyTo(configuration), theta0.parameters());
        String stage = method + "-gen";
        ParameterAveraging.Plan plan = new ParameterAveraging.Plan(stage, settings.get(JobSettings.DIFFUSION_UNLEARN.epochs()),
                settings.get(JobSettings.DIFFUSION_UNLEARN.batch()), settings.get(JobSettings.DIFFUSION_UNLEARN.localSteps()),
                classes, seed, DataOrder.MIXED,
                new DiffusionTargets.Forgetting(seed, NoiseSchedule.DDPM, settings.get(JobSettings.DIFFUSION_P_UNCOND),
                        settings.get(JobSettings.DIFFUSION_UNLEARN_BETA)),
                new GradientTerm.ClipNorm(settings.get(JobSettings.DIFFUSION_UNLEARN_CLIP)), settings.get(JobSettings.TREE_DEPTH));
        long began = System.nanoTime();
        ParameterAveraging.Result result = ParameterAveraging.train(sc, start, data, plan, mask);
        double seconds = (System.nanoTime() - began) / 1e9;
        LOG.info("{}: generating {} images per class with the unlearned model", stage, sampling.perClass());
        float[][][] images = Generation.generate(sc, result.network(), allClasses, classes, d, sampling, partitions);
        GenerationEval.Scores scores = GenerationEval.score(classifier, allClasses, images, forgetClass, realRemaining,
                settings.get(JobSettings.EVAL_BATCH));
        LOG.info("{}: generation UA {}, remaining classes' accuracy {}, FID {} ({} s of unlearning)", stage,
                Html.num(scores.unlearningAccuracy()), Html.num(scores.remainingAccuracy()), Html.num(scores.fid()),
                String.format("%.1f", seconds));
        return new Outcome(method, result.network(), seconds, result.losses(), scores, images);
    }

    private static Map<String, Object> report(Settings settings, int forgetClass, long forgetCount, String diffusionPath,
                                              String classifierPath, NetworkSnapshot theta0, Optional<Bitset> mask,
                                              double saliencySeconds, GenerationEval.Scores before, List<Outcome> outcomes,
                                              Instant started, JavaSparkContext sc) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("command", "unlearn-diffusion");
        r.put("forgetClass", forgetClass);
        r.put("forgetImages", forgetCount);
        r.put("diffusionModel", diffusionPath);
        r.put("classifier", classifierPath);
        r.put("parameters", theta0.size());
        mask.ifPresent(m -> r.put("maskKept", m.cardinality()));
        r.put("saliencySeconds", saliencySeconds);
        r.put("original", before.toMap());
        Map<String, Object> methods = new LinkedHashMap<>();
        for (Outcome o : outcomes) {
            Map<String, Object> m = new LinkedHashMap<>(o.scores().toMap());
            m.put("masked", o.method().equals("salun"));
            m.put("seconds", o.seconds());
            m.put("losses", RunReport.lossRows(o.losses(), new ArrayList<>()));
            methods.put(o.method() + "-gen", m);
        }
        r.put("methods", methods);
        List<String> files = new ArrayList<>(List.of("model.zip"));
        mask.ifPresent(x -> files.add("mask.bin"));
        files.add("samples-original.png");
        outcomes.forEach(o -> files.add("samples-" + o.method() + ".png"));
        files.add("report.html");
        r.put("files", files);
        BuildInfo.addProvenance(r, settings, sc, started);
        return r;
    }

    private static String html(int forgetClass, GenerationEval.Scores before, List<Outcome> outcomes, float[][][] beforeImages,
                               int columns, int side, Optional<Bitset> mask, int parameters) {
        Html page = new Html("salun-spark: unlearning class " + forgetClass + " from a diffusion model");
        page.paragraph("Generation UA: % of images generated for class " + forgetClass + " that the classifier does not"
                + " assign to it. Remaining accuracy: mean over the other classes of the % of their generations the"
                + " classifier assigns to the class asked for. FID: Fréchet distance between the remaining classes'"
                + " generations and real test images of those classes, on the classifier's penultimate features.");
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("model", "generation UA", "remaining accuracy", "FID (remaining)", "seconds"));
        rows.add(List.of("original", Html.num(before.unlearningAccuracy()), Html.num(before.remainingAccuracy()),
                Html.num(before.fid()), "–"));
        for (Outcome o : outcomes) {
            rows.add(List.of(o.method() + "-gen" + (o.method().equals("salun") ? " (masked)" : " (no mask)"),
                    Html.num(o.scores().unlearningAccuracy()), Html.num(o.scores().remainingAccuracy()),
                    Html.num(o.scores().fid()), String.format("%.1f", o.seconds())));
        }
        page.table(rows);
        mask.ifPresent(m -> page.paragraph("SalUn-gen's mask keeps " + m.cardinality() + " of " + parameters + " parameters."));
        List<List<String>> perClass = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("class"));
        header.add("original");
        outcomes.forEach(o -> header.add(o.method() + "-gen"));
        perClass.add(header);
        for (Integer c : before.accuracyByClass().keySet()) {
            List<String> row = new ArrayList<>(List.of(c + (c == forgetClass ? " (forgotten)" : "")));
            row.add(Html.num(before.accuracyByClass().get(c)));
            outcomes.forEach(o -> row.add(Html.num(o.scores().accuracyByClass().get(c))));
            perClass.add(row);
        }
        page.heading("Classifier accuracy on each class's generations (%)");
        page.table(perClass);
        Map<String, List<Double>> losses = new LinkedHashMap<>();
        for (Outcome o : outcomes) {
            List<Double> flat = new ArrayList<>();
            RunReport.lossRows(o.losses(), flat);
            losses.put(o.method() + "-gen", flat);
        }
        page.image(io.salun.report.Charts.lines("Unlearning loss per round as fitted (forget term + beta^2 x retain term)", "round",
                "loss", losses), "unlearning loss per round");
        page.heading("Samples: one row per class, same starting noise in every grid");
        page.paragraph("original");
        page.image(dataUri(SampleGrid.png(beforeImages, columns, side, 2)), "samples of the original model");
        for (Outcome o : outcomes) {
            page.paragraph(o.method() + "-gen");
            page.image(dataUri(SampleGrid.png(o.images(), columns, side, 2)), "samples after " + o.method() + "-gen");
        }
        return page.render();
    }

    private static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    private static void printTable(int forgetClass, GenerationEval.Scores before, List<Outcome> outcomes, String reportUri) {
        StringBuilder t = new StringBuilder(String.format("%nunlearning class %d from the diffusion model%n", forgetClass));
        t.append(String.format("%-12s %14s %20s %16s %10s%n", "model", "generation UA", "remaining accuracy", "FID (remaining)", "seconds"));
        t.append(String.format("%-12s %14.2f %20.2f %16.2f %10s%n", "original", before.unlearningAccuracy(),
                before.remainingAccuracy(), before.fid(), "-"));
        for (Outcome o : outcomes) {
            t.append(String.format("%-12s %14.2f %20.2f %16.2f %10.1f%n", o.method() + "-gen", o.scores().unlearningAccuracy(),
                    o.scores().remainingAccuracy(), o.scores().fid(), o.seconds()));
        }
        t.append("report: ").append(reportUri);
        CONSOLE.info(t.toString());
    }
}
