package io.salun.spark;

import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * submit/getGpusResources.sh against what Spark parses, with a stand-in nvidia-smi (this machine
 * has no GPU): its JSON becomes the resource map the job binds tasks from.
 */
class GpuDiscoveryScriptTest {
    @TempDir
    Path bin;

    private ResourceInformation discover(String gpuIndices) throws IOException, InterruptedException {
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\nprintf '" + gpuIndices + "'\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder pb = new ProcessBuilder("bash", "submit/getGpusResources.sh");
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return ResourceInformation.parseJson(out.trim());
    }

    @Test
    void scriptOutputIsWhatSparkParses() throws Exception {
        ResourceInformation two = discover("0\\n1\\n");
        assertEquals("gpu", two.name());
        assertArrayEquals(new String[] {"0", "1"}, two.addresses());
        // a task given the second GPU binds to device 1
        ResourceInformation second = new ResourceInformation("gpu", new String[] {two.addresses()[1]});
        assertEquals(OptionalInt.of(1), Devices.plan("cuda", Map.of("gpu", second)).gpu());
        assertEquals(List.of(), List.of(discover("").addresses()));
    }
}
