package io.salun.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Which device a task's ND4J work runs on. With Spark's GPU scheduling
 * ({@code spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount}) each task
 * is given GPU addresses in {@code TaskContext.resources()}; on the CUDA backend the task thread
 * is bound to the first of them (ND4J binds devices per thread), not to whichever device ND4J
 * would pick. Without an assigned GPU, or on the CPU backend, nothing is bound: the CPU backend
 * runs on the executor's cores, the CUDA backend on its default device.
 */
public final class Devices {
    private static final Logger LOG = LoggerFactory.getLogger(Devices.class);

    private Devices() {
    }

    /** Where a task runs: the ND4J backend and the GPU it is bound to, if any. */
    public record Binding(String backend, OptionalInt gpu) {
        /** As the report prints it: {@code cpu}, {@code cuda:1}, {@code cuda (default device)}. */
        public String describe() {
            if (gpu.isPresent()) {
                return backend + ":" + gpu.getAsInt();
            }
            return backend.equals("cuda") ? "cuda (default device)" : backend;
        }
    }

    /** {@code cuda} or {@code cpu}, from the class name of ND4J's backend. */
    public static String backend(String backendClassName) {
        String n = backendClassName.toLowerCase(Locale.ROOT);
        return n.contains("cublas") || n.contains("cuda") ? "cuda" : "cpu";
    }

    /**
     * The binding for a task given its resources: on the CUDA backend the first {@code gpu} address
     * (a device index), otherwise none. An address that is not a device index is a configuration
     * error of the discovery script and is reported as such.
     */
    public static Binding plan(String backend, Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources.get("gpu");
        if (!backend.equals("cuda") || gpu == null || gpu.addresses().length == 0) {
            return new Binding(backend, OptionalInt.empty());
        }
        String address = gpu.addresses()[0].trim();
        try {
            int index = Integer.parseInt(address);
            if (index < 0) {
                throw new NumberFormatException(address);
            }
            return new Binding(backend, OptionalInt.of(index));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("spark.executor.resource.gpu: the discovery script gave GPU address '"
                    + address + "'; expected a CUDA device index (0, 1, ...)");
        }
    }

    /**
     * Where the tasks of a stage over {@code rdd} run: one line per distinct backend, device and
     * executor (a job of one tiny task per partition, on the same cached partitions).
     */
    public static java.util.List<String> probe(org.apache.spark.api.java.JavaRDD<?> rdd) {
        java.util.List<String> seen = new java.util.ArrayList<>(rdd.mapPartitions(it -> java.util.List.of(
                bindTask().describe() + " on executor " + org.apache.spark.SparkEnv.get().executorId()).iterator())
                .distinct().collect());
        java.util.Collections.sort(seen);
        return seen;
    }

    /** Binds the calling Spark task's thread to its GPU (if any) and says where it runs. */
    public static Binding bindTask() {
        TaskContext task = TaskContext.get();
        Map<String, ResourceInformation> resources = task == null ? Map.of() : task.resourcesJMap();
        Binding binding = plan(backend(Nd4j.getBackend().getClass().getSimpleName()), resources);
        if (binding.gpu().isPresent()) {
            Nd4j.getAffinityManager().unsafeSetDevice(binding.gpu().getAsInt());
        } else if (binding.backend().equals("cuda") && task != null) {
            LOG.warn("no GPU assigned to task {} (set spark.task.resource.gpu.amount): ND4J's default device",
                    task.taskAttemptId());
        }
        return binding;
    }
}
