package io.salun.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Versions of the project and of the libraries it was built against, plus the running JVM's. */
public final class BuildInfo {
    private BuildInfo() {
    }

    public static Map<String, String> versions() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/salun-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> v = new LinkedHashMap<>();
        v.put("salun-spark", p.getProperty("salun.version", "unknown"));
        v.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
        v.put("deeplearning4j", p.getProperty("dl4j.version", "unknown"));
        v.put("java", System.getProperty("java.version"));
        return v;
    }

}
