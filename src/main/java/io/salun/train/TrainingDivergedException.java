package io.salun.train;

/**
 * Training produced a non-finite loss: the learning rate is too large for this stage (gradient
 * ascent in particular is knife-edge, SALUN-SPEC §2). Reported as such rather than publishing a
 * broken model.
 */
public final class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String stage, int epoch, int round, double loss) {
        super(stage + " diverged at epoch " + (epoch + 1) + ", round " + (round + 1) + " (mean loss " + loss
                + "); lower the stage's learning rate (" + learningRateSetting(stage) + ") and run again");
    }

    /** The setting that holds a stage's learning rate. */
    public static String learningRateSetting(String stage) {
        if (stage.equals("train")) {
            return "train.lr";
        }
        if (stage.equals("train-diffusion")) {
            return "diffusion.lr";
        }
        if (stage.endsWith("-gen")) {
            return "diffusion.unlearn.lr";
        }
        String method = stage.replaceAll("/.*", "").replace("+mask", "").replace("+", "-plus");
        return "unlearn.lr, or benchmark." + method + ".lr in a benchmark";
    }
}
