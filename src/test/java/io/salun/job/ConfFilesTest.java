package io.salun.job;

import io.salun.config.Setting;
import io.salun.config.Settings;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The shipped configuration files agree with the settings catalogue. */
class ConfFilesTest {
    @Test
    void salunPropertiesListsEveryKeyWithItsDefault() {
        Properties file = Settings.readProperties("conf/salun.properties");
        Set<String> catalogue = new TreeSet<>();
        JobSettings.ALL.forEach(s -> catalogue.add(s.key()));
        assertEquals(catalogue, new TreeSet<>(file.stringPropertyNames()));
        Settings fromFile = Settings.load(JobSettings.ALL, file, Map.of());
        Settings defaults = Settings.load(JobSettings.ALL, new Properties(), Map.of());
        for (Setting<?> s : JobSettings.ALL) {
            assertEquals(defaults.get(s), fromFile.get(s), s.key());
        }
    }

    @Test
    void everyOtherConfFileUsesKnownKeysOnly() {
        for (String name : new String[] {"conf/local.properties", "conf/benchmark.properties", "conf/gpu.properties", "conf/bench.properties"}) {
            // load rejects an unknown key, naming the nearest valid one
            Settings.load(JobSettings.ALL, Settings.readProperties(name), Map.of());
        }
    }
}
