package io.salun.spark;

import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Binding tasks to the GPUs Spark assigned them, with resource maps as Spark builds them. */
class DevicesTest {
    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of("gpu", new ResourceInformation("gpu", addresses));
    }

    @Test
    void cudaTasksBindToTheirFirstAssignedGpu() {
        assertEquals(OptionalInt.of(0), Devices.plan("cuda", gpus("0")).gpu());
        assertEquals(OptionalInt.of(3), Devices.plan("cuda", gpus("3")).gpu());
        // a task given two GPUs runs its DL4J work on the first (ND4J binds one device per thread)
        assertEquals(OptionalInt.of(2), Devices.plan("cuda", gpus("2", "5")).gpu());
        assertEquals("cuda:2", Devices.plan("cuda", gpus(" 2 ")).describe());
    }

    @Test
    void withoutAGpuOrOnTheCpuBackendNothingIsBound() {
        assertEquals(OptionalInt.empty(), Devices.plan("cuda", Map.of()).gpu());
        assertEquals("cuda (default device)", Devices.plan("cuda", Map.of()).describe());
        assertEquals(OptionalInt.empty(), Devices.plan("cuda", gpus()).gpu());
        assertEquals(OptionalInt.empty(), Devices.plan("cpu", gpus("0")).gpu());
        assertEquals("cpu", Devices.plan("cpu", Map.of()).describe());
        // other resources (FPGAs, say) do not count
        assertEquals(OptionalInt.empty(), Devices.plan("cuda", Map.of("fpga", new ResourceInformation("fpga",
                new String[] {"0"}))).gpu());
    }

    @Test
    void addressesThatAreNotDeviceIndicesAreAConfigurationError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Devices.plan("cuda", gpus("GPU-7f3a")));
        assertTrue(e.getMessage().contains("GPU-7f3a") && e.getMessage().contains("device index"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Devices.plan("cuda", gpus("-1")));
    }

    @Test
    void backendIsToldByNd4jsBackendClass() {
        assertEquals("cuda", Devices.backend("JCublasBackend"));
        assertEquals("cpu", Devices.backend("CpuBackend"));
        // this build runs on the CPU backend
        assertEquals("cpu", Devices.backend(org.nd4j.linalg.factory.Nd4j.getBackend().getClass().getSimpleName()));
    }
}
