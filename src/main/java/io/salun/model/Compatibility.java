package io.salun.model;

import io.salun.config.InvalidInputException;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Whether a model can be unlearned on given data, checked before any work: it ends in a
 * classification layer, reads images of the data's shape, and has finite weights.
 */
public final class Compatibility {
    private Compatibility() {
    }

    /**
     * The number of classes of {@code net}, after checking that it ends in a classification output
     * layer, accepts {@code features} inputs (images of {@code shape}) and has finite parameters.
     *
     * @param setting the setting that named the model ({@code model.path} …), for messages
     * @throws InvalidInputException naming {@code setting} and {@code modelPath} otherwise
     */
    public static int classes(Net net, int features, String shape, String modelPath, String setting) {
        if (!net.endsInClassifier()) {
            throw new InvalidInputException(setting + ": " + modelPath + " does not end in a classification output layer");
        }
        try {
            net.output(Nd4j.zeros(1, features), false);
        } catch (RuntimeException e) {
            throw new InvalidInputException(setting + ": " + modelPath + " does not accept " + shape
                    + " images (" + features + " features): " + e.getMessage(), e);
        }
        float[] params = net.params().toFloatVector();
        long nonFinite = 0;
        for (float p : params) {
            if (!Float.isFinite(p)) {
                nonFinite++;
            }
        }
        if (nonFinite > 0) {
            throw new InvalidInputException(setting + ": " + modelPath + " has " + nonFinite + " NaN or infinite"
                    + " parameters of " + params.length + "; expected a trained model with finite weights");
        }
        return (int) net.outputs();
    }
}
