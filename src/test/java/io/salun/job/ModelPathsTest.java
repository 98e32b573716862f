package io.salun.job;

import io.salun.config.Settings;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The original model's cache key follows every setting that decides the trained model. */
class ModelPathsTest {

    private static String key(String... args) {
        return ModelPaths.trainingKey(Settings.load(JobSettings.ALL, new Properties(), Settings.parseOverrides(args)));
    }

    @Test
    void aScheduleOrAnotherRuleIsAnotherModel() {
        String plain = key();
        // a setting left at its default keeps the key models trained before it existed have
        assertEquals(plain, key("--train.lr-schedule=constant"));
        assertNotEquals(plain, key("--train.lr-schedule=cosine"));
        assertNotEquals(key("--train.lr-schedule=cosine"), key("--train.lr-schedule=step:4,6"));
        assertNotEquals(plain, key("--train.optimizer=pytorch-sgd"));
        // unlearning settings do not decide the original
        assertEquals(plain, key("--unlearn.lr-schedule=cosine"));
    }
}
