package io.salun.report;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The peak memory of this JVM so far, for reports: the Java heap's peak (the sum of each heap
 * pool's own peak, so an upper bound of the heap's peak at any one moment), the heap's limit, and
 * the process's peak resident set (VmHWM), which includes ND4J's off-heap arrays where the
 * parameters, gradients and updater state live. On the driver in local mode the executors'
 * threads share this JVM, so their memory is counted too.
 */
public final class PeakMemory {
    private PeakMemory() {
    }

    /** {@code peakHeapBytes}, {@code maxHeapBytes}, {@code peakRssBytes} (null where /proc is not readable). */
    public static Map<String, Object> ofThisJvm() {
        long heapPeak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                heapPeak += pool.getPeakUsage().getUsed();
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("peakHeapBytes", heapPeak);
        m.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        m.put("peakRssBytes", null);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    m.put("peakRssBytes", Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: the resident peak stays unknown
        }
        return m;
    }
}
