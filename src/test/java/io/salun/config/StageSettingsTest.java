package io.salun.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The optimiser group declared once: each instance adds exactly the members it declares, under
 * its prefix, with its defaults and the group's ranges, to the catalogue; a key declared twice is
 * refused.
 */
class StageSettingsTest {
    @Test
    void eachPrefixGetsItsMembersWithTheSameRangesAndItsOwnDefaults() {
        Catalogue c = new Catalogue();
        StageSettings train = StageSettings.declare(c, StageSettings.of("train", "train").epochs(8).batch(64)
                .localSteps(4).optimizer("sgd").lr(0.05).momentum(0.9).weightDecay(5e-4));
        StageSettings bench = StageSettings.declare(c, StageSettings.of("benchmark.ft", "benchmark ft").epochs(3).lr(0.02)
                .lrGrid("0.01,0.1"));
        StageSettings gen = StageSettings.declare(c, StageSettings.of("diffusion", "train-diffusion").epochs(30, 0).lr(1e-3));
        assertEquals(List.of("train.epochs", "train.batch", "train.local-steps", "train.optimizer", "train.lr", "train.momentum",
                "train.weight-decay", "benchmark.ft.epochs", "benchmark.ft.lr", "benchmark.ft.lr-grid", "diffusion.epochs",
                "diffusion.lr"), c.all().stream().map(Setting::key).toList());

        Settings defaults = Settings.load(c.all(), new Properties(), Map.of());
        assertEquals(8, defaults.get(train.epochs()));
        assertEquals(0.02, defaults.get(bench.lr()));
        assertEquals("0.01,0.1", defaults.get(bench.lrGrid()));
        // one range for a member wherever it appears; diffusion alone allows 0 epochs
        for (StageSettings s : List.of(train, bench)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Settings.load(c.all(), new Properties(),
                    Map.of(s.epochs().key(), "0")));
            assertTrue(e.getMessage().contains("expected an integer in [1, 100000]"), e.getMessage());
        }
        assertEquals(0, Settings.load(c.all(), new Properties(), Map.of("diffusion.epochs", "0")).get(gen.epochs()));
        assertThrows(InvalidInputException.class, () -> Settings.load(c.all(), new Properties(), Map.of("benchmark.ft.lr", "-1")));
        assertThrows(IllegalStateException.class, bench::batch, "a member the stage did not declare");
    }

    @Test
    void aKeyDeclaredTwiceIsRefused() {
        Catalogue c = new Catalogue();
        StageSettings.declare(c, StageSettings.of("unlearn", "unlearn").epochs(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StageSettings.declare(c, StageSettings.of("unlearn", "again").epochs(5)));
        assertTrue(e.getMessage().contains("'unlearn.epochs' is declared twice"), e.getMessage());
    }
}
