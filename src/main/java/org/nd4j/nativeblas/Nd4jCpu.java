package org.nd4j.nativeblas;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Compatibility shim, not part of ND4J: DL4J 1.0.0-M2.1 decides whether its oneDNN layer helpers
 * (convolution, pooling) may run by looking up {@code org.nd4j.nativeblas.Nd4jCpu$Environment}
 * reflectively ({@code BaseMKLDNNHelper.mklDnnEnabled()}), a class ND4J M2.1 moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings}. The lookup fails, so the helpers are never used
 * and every convolution takes DL4J's slow im2col path even with a oneDNN build of nd4j-native.
 * This class answers that lookup: oneDNN is in use when the loaded native library was built with
 * it ({@code HAVE_ONEDNN} in its build information) and ND4J's helpers are allowed. With the
 * default nd4j-native build it answers false and nothing changes. See {@code io.salun.model.NativeHelpers}.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The one method DL4J calls: {@code Environment.getInstance().isUseMKLDNN()}. */
    public static final class Environment {
        private static final Environment INSTANCE = new Environment();
        private static volatile Boolean builtWithOneDnn;

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        public boolean isUseMKLDNN() {
            return builtWithOneDnn() && Nd4j.getEnvironment().helpersAllowed();
        }

        static boolean builtWithOneDnn() {
            Boolean built = builtWithOneDnn;
            if (built == null) {
                String info = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
                built = info != null && info.contains("HAVE_ONEDNN");
                builtWithOneDnn = built;
            }
            return built;
        }
    }
}
