package io.salun.model;

import io.salun.config.InvalidInputException;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Learning-rate schedules against hand-computed rates per step, their settings, and their JSON. */
class LrScheduleTest {

    @Test
    void stepDecayMultipliesByATenthAtEachMilestoneEpoch() {
        LrSchedule s = LrSchedule.Spec.parse("step:2,4", "train.lr-schedule").at(0.1, 6, 5, 0);
        for (int it = 0; it < 40; it++) {
            int epoch = it / 5;
            double expected = epoch < 2 ? 0.1 : epoch < 4 ? 0.1 * 0.1 : 0.1 * 0.1 * 0.1;
            assertEquals(expected, s.valueAt(it, 0), 1e-15, "iteration " + it);
        }
        // a stage that starts at iteration 100 counts its epochs from there
        LrSchedule later = LrSchedule.Spec.parse("step:1", "x").at(0.2, 3, 4, 100);
        assertEquals(0.2, later.valueAt(103, 0), 1e-15);
        assertEquals(0.02, later.valueAt(104, 0), 1e-15);
    }

    @Test
    void cosineAnnealsPerEpochToZero() {
        LrSchedule s = LrSchedule.Spec.parse("cosine", "unlearn.lr-schedule").at(0.05, 4, 3, 0);
        for (int it = 0; it < 12; it++) {
            int e = it / 3;
            assertEquals(0.05 * (1 + Math.cos(Math.PI * e / 4)) / 2, s.valueAt(it, 0), 1e-15, "iteration " + it);
        }
        assertEquals(0.05, s.valueAt(2, 0), 1e-15, "the first epoch runs at the base rate, as CosineAnnealingLR");
        assertEquals(0.05 * (1 + Math.cos(Math.PI * 3 / 4)) / 2, s.valueAt(11, 0), 1e-15);
    }

    @Test
    void settingsAreParsedOrRefusedNamingTheKey() {
        assertSame(LrSchedule.Spec.CONSTANT, LrSchedule.Spec.parse("constant", "k"));
        assertArrayEquals(new int[] {3, 7}, LrSchedule.Spec.parse("step:3, 7", "k").milestones());
        for (String bad : new String[] {"step:", "step:3,2", "step:0", "step:a", "linear", "step:2,2"}) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> LrSchedule.Spec.parse(bad, "train.lr-schedule"), bad);
            assertTrue(e.getMessage().startsWith("train.lr-schedule: expected constant, cosine, or step:"), e.getMessage());
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    /** The schedule travels in the network's JSON (executors rebuild from it) and sets every layer's rate. */
    @Test
    void travelsInTheNetworksJson() {
        NetworkConfig conf = NetworkConfig.of(Architecture.MLP.configuration(6, 6, 3, 1, new Optimizer("sgd", 0.05, 0.9, 0, 0)));
        NetworkConfig scheduled = LrSchedule.Spec.parse("step:1", "k").applyTo(conf, 2, 10, 0);
        Net net = new NetworkConfig(scheduled.json(), scheduled.graph()).init(0, 0);
        int layers = 0;
        for (org.deeplearning4j.nn.conf.NeuralNetConfiguration c : net.config().layers()) {
            if (c.getLayer() instanceof BaseLayer base) {
                assertEquals(0.05, base.getIUpdater().getLearningRate(9, 0), 1e-15);
                assertEquals(0.005, base.getIUpdater().getLearningRate(10, 0), 1e-15);
                layers++;
            }
        }
        assertTrue(layers >= 2);
        assertSame(conf, LrSchedule.Spec.CONSTANT.applyTo(conf, 2, 10, 0));
    }
}
