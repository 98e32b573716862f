package io.salun.diffusion;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Judges generated images with the project's image classifier (SALUN-SPEC §5): the share of each
 * class's generations the classifier assigns to that class, generation UA for the forgotten class
 * ({@code 100 − that share}), and FID between the remaining classes' generations and real test
 * images of those classes, on the classifier's penultimate activations.
 */
public final class GenerationEval {
    private GenerationEval() {
    }

    /** Scores of one model's generations. */
    public record Scores(Map<Integer, Double> accuracyByClass, double unlearningAccuracy,
                         double remainingAccuracy, double fid) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            Map<String, Double> perClass = new LinkedHashMap<>();
            accuracyByClass.forEach((c, a) -> perClass.put(String.valueOf(c), a));
            m.put("generationUA", unlearningAccuracy);
            m.put("remainingAccuracy", remainingAccuracy);
            m.put("fidRemaining", fid);
            m.put("accuracyByClass", perClass);
            return m;
        }
    }

    /** The classifier's predicted class of each image (pixel values in [0, 1]). */
    public static int[] classify(MultiLayerNetwork classifier, float[][] images, int batch) {
        int[] labels = new int[images.length];
        for (int from = 0; from < images.length; from += batch) {
            int to = Math.min(images.length, from + batch);
            INDArray out = classifier.output(matrix(images, from, to), false);
            INDArray argmax = Nd4j.argMax(out, 1);
            for (int i = from; i < to; i++) {
                labels[i] = argmax.getInt(i - from);
            }
        }
        return labels;
    }

    /** The classifier's penultimate activations (the input of its output layer) of each image. */
    public static double[][] features(MultiLayerNetwork classifier, float[][] images, int batch) {
        double[][] f = new double[images.length][];
        int layers = classifier.getnLayers();
        for (int from = 0; from < images.length; from += batch) {
            int to = Math.min(images.length, from + batch);
            List<INDArray> acts = classifier.feedForwardToLayer(layers - 2, matrix(images, from, to), false);
            INDArray penultimate = acts.get(acts.size() - 1);
            for (int i = from; i < to; i++) {
                f[i] = penultimate.getRow(i - from).toDoubleVector();
            }
        }
        return f;
    }

    /**
     * Scores {@code generated[i]} (images made for class {@code classes[i]}); {@code realRemaining}
     * are the classifier features of real images of the classes other than {@code forgotten}.
     */
    public static Scores score(MultiLayerNetwork classifier, int[] classes, float[][][] generated, int forgotten,
                               double[][] realRemaining, int batch) {
        Map<Integer, Double> accuracy = new LinkedHashMap<>();
        double remainingSum = 0;
        int remainingClasses = 0;
        java.util.List<float[]> remainingImages = new java.util.ArrayList<>();
        for (int i = 0; i < classes.length; i++) {
            int[] predicted = classify(classifier, generated[i], batch);
            int hits = 0;
            for (int p : predicted) {
                if (p == classes[i]) {
                    hits++;
                }
            }
            double acc = 100.0 * hits / predicted.length;
            accuracy.put(classes[i], acc);
            if (classes[i] != forgotten) {
                remainingSum += acc;
                remainingClasses++;
                remainingImages.addAll(java.util.Arrays.asList(generated[i]));
            }
        }
        double ua = accuracy.containsKey(forgotten) ? 100 - accuracy.get(forgotten) : Double.NaN;
        double fid = Fid.distance(features(classifier, remainingImages.toArray(new float[0][]), batch), realRemaining);
        return new Scores(accuracy, ua, remainingClasses == 0 ? Double.NaN : remainingSum / remainingClasses, fid);
    }

    static INDArray matrix(float[][] images, int from, int to) {
        int d = images[from].length;
        float[] flat = new float[(to - from) * d];
        for (int i = from; i < to; i++) {
            System.arraycopy(images[i], 0, flat, (i - from) * d, d);
        }
        return Nd4j.create(flat, new long[] {to - from, d}, 'c');
    }
}
