package io.salun.model;

/**
 * Lets DL4J hand convolution and pooling layers to ND4J's oneDNN kernels when nd4j-native is a
 * oneDNN build ({@code -Dnd4j.native.classifier=linux-x86_64-onednn…}, docs/PERFORMANCE.md).
 *
 * <p>DL4J 1.0.0-M2.1 creates no layer helpers unless the system property
 * {@value #DISABLE_PROPERTY} is {@code false} (its default is {@code true}), and even then only
 * when its reflective oneDNN check succeeds, which needs the shim
 * {@code org.nd4j.nativeblas.Nd4jCpu}. With the default nd4j-native build the shim reports no
 * oneDNN, no helper is created, and layers keep their built-in (im2col) implementation. An
 * explicit {@code -D}{@value #DISABLE_PROPERTY}{@code =true} is respected.
 *
 * <p>Must run before the first layer is instantiated in a JVM: the job's entry point and
 * {@link NetworkSnapshot} (executors build every network from one) call it.
 */
public final class NativeHelpers {
    /** DL4J's switch for layer helpers (DL4JSystemProperties.DISABLE_HELPER_PROPERTY). */
    public static final String DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    private NativeHelpers() {
    }

    /** Allows DL4J's layer helpers unless the JVM was started with the property set. Idempotent. */
    public static void enable() {
        if (System.getProperty(DISABLE_PROPERTY) == null) {
            System.setProperty(DISABLE_PROPERTY, "false");
        }
    }

    /** The loaded native library's build flags (compiler, BLAS, oneDNN), for reports. */
    public static String buildInfo() {
        String info = org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
        return info == null ? "unknown" : info.replaceAll("\\s+", " ").trim();
    }

    /** Whether the loaded nd4j-native is a oneDNN build and DL4J's helpers will use it. */
    public static boolean oneDnnActive() {
        return !Boolean.parseBoolean(System.getProperty(DISABLE_PROPERTY, "true"))
                && org.nd4j.nativeblas.Nd4jCpu.Environment.getInstance().isUseMKLDNN();
    }
}
