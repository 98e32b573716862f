package io.salun.spark;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The job in a JVM of its own, with this JVM's flags and class path, for tests that kill a driver. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** Starts {@code io.salun.job.Main jobArgs}; its output goes to {@code log}. */
    public static Process start(String[] jobArgs, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-XX:") || a.startsWith("-Djdk.") || a.startsWith("-Xmx")) {
                command.add(a);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.salun.job.Main");
        command.addAll(List.of(jobArgs));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb.start();
    }
}
