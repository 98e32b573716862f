package io.salun.diffusion;

import io.salun.mask.Bitset;
import io.salun.report.Charts;
import io.salun.report.Html;
import io.salun.report.Provenance;
import io.salun.report.Report;
import io.salun.unlearn.RunReport;
import io.salun.unlearn.TrialOutcome;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code report.json} and {@code report.html} of an {@code unlearn-diffusion} run, from one {@link Report}. */
public final class GenerationReport {
    private GenerationReport() {
    }

    /** What the run was: the class forgotten, how many images, the models, the mask. */
    public record Run(int forgetClass, long forgetImages, String diffusionModel, String classifier, int parameters,
                      Optional<Bitset> mask, double saliencySeconds, Map<String, Object> devices) {
    }

    /**
     * The report of {@code outcomes} (each method's, in order) against the original's {@code before};
     * sample grids of {@code columns} images per class of {@code side}-pixel images.
     */
    public static Report of(Run run, GenerationTask.Generated before, List<TrialOutcome<GenerationTask.Generated>> outcomes,
                            int columns, int side, Provenance provenance) {
        Report r = new Report("salun-spark: unlearning class " + run.forgetClass() + " from a diffusion model");
        r.put("command", "unlearn-diffusion");
        r.put("forgetClass", run.forgetClass());
        r.put("forgetImages", run.forgetImages());
        r.put("diffusionModel", run.diffusionModel());
        r.put("classifier", run.classifier());
        r.put("parameters", run.parameters());
        run.mask().ifPresent(m -> r.put("maskKept", m.cardinality()));
        r.put("saliencySeconds", run.saliencySeconds());
        r.put("original", before.scores().toMap());
        Map<String, Object> methods = new LinkedHashMap<>();
        for (TrialOutcome<GenerationTask.Generated> o : outcomes) {
            Map<String, Object> m = new LinkedHashMap<>(o.judgement().scores().toMap());
            m.put("masked", o.masked());
            m.put("seconds", o.seconds());
            m.put("losses", RunReport.lossRows(o.losses(), new ArrayList<>()));
            methods.put(o.label(), m);
        }
        r.put("methods", methods);
        List<String> files = new ArrayList<>(List.of("model.zip"));
        run.mask().ifPresent(x -> files.add("mask.bin"));
        files.add("samples-original.png");
        outcomes.forEach(o -> files.add(gridName(o.label())));
        files.add("report.html");
        r.put("files", files);
        provenance.addTo(r);
        r.put("devices", run.devices());

        GenerationEval.Scores b = before.scores();
        r.paragraph("Generation UA: % of images generated for class " + run.forgetClass() + " that the classifier does not"
                + " assign to it. Remaining accuracy: mean over the other classes of the % of their generations the"
                + " classifier assigns to the class asked for. FID: Fréchet distance between the remaining classes'"
                + " generations and real test images of those classes, on the classifier's penultimate features.");
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("model", "generation UA", "remaining accuracy", "FID (remaining)", "seconds"));
        rows.add(List.of("original", Html.num(b.unlearningAccuracy()), Html.num(b.remainingAccuracy()), Html.num(b.fid()), "–"));
        for (TrialOutcome<GenerationTask.Generated> o : outcomes) {
            GenerationEval.Scores s = o.judgement().scores();
            rows.add(List.of(o.label() + (o.masked() ? " (masked)" : " (no mask)"), Html.num(s.unlearningAccuracy()),
                    Html.num(s.remainingAccuracy()), Html.num(s.fid()), String.format("%.1f", o.seconds())));
        }
        r.table(rows);
        run.mask().ifPresent(m -> r.paragraph("SalUn-gen's mask keeps " + m.cardinality() + " of " + run.parameters()
                + " parameters."));
        List<List<String>> perClass = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("class", "original"));
        outcomes.forEach(o -> header.add(o.label()));
        perClass.add(header);
        for (Integer c : b.accuracyByClass().keySet()) {
            List<String> row = new ArrayList<>(List.of(c + (c == run.forgetClass() ? " (forgotten)" : "")));
            row.add(Html.num(b.accuracyByClass().get(c)));
            outcomes.forEach(o -> row.add(Html.num(o.judgement().scores().accuracyByClass().get(c))));
            perClass.add(row);
        }
        r.heading("Classifier accuracy on each class's generations (%)");
        r.table(perClass);
        Map<String, List<Double>> losses = new LinkedHashMap<>();
        for (TrialOutcome<GenerationTask.Generated> o : outcomes) {
            List<Double> flat = new ArrayList<>();
            RunReport.lossRows(o.losses(), flat);
            losses.put(o.label(), flat);
        }
        r.image(Charts.lines("Unlearning loss per round as fitted (forget term + beta^2 x retain term)", "round", "loss",
                losses), "unlearning loss per round");
        r.heading("Samples: one row per class, same starting noise in every grid");
        r.paragraph("original");
        r.image(dataUri(SampleGrid.png(before.images(), columns, side, 2)), "samples of the original model");
        for (TrialOutcome<GenerationTask.Generated> o : outcomes) {
            r.paragraph(o.label());
            r.image(dataUri(SampleGrid.png(o.judgement().images(), columns, side, 2)), "samples after " + o.label());
        }
        return r;
    }

    /** The sample grid file of a method's label ({@code salun-gen} → {@code samples-salun.png}). */
    public static String gridName(String label) {
        return "samples-" + label.replace("-gen", "") + ".png";
    }

    private static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }
}
