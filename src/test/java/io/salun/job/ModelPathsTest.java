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

    private static String retrain(String config, long[] forget, int partitions, long seed, String... args) {
        return ModelPaths.retrain(Settings.load(JobSettings.ALL, new Properties(), Settings.parseOverrides(args)), config,
                ModelPaths.forgetSetKey(forget), partitions, seed);
    }

    /** A benchmark's cached Retrain is another model whenever anything that decides Retrain differs. */
    @Test
    void retrainFollowsTrainingOriginalForgetSetPartitionsAndSeed() {
        long[] forget = {3, 8, 21};
        String base = retrain("{conf}", forget, 2, 42);
        assertEquals(base, retrain("{conf}", new long[] {3, 8, 21}, 2, 42));
        assertEquals("work/models/retrain-lenet-" + key() + "-", base.substring(0, ("work/models/retrain-lenet-" + key()
                + "-").length()));
        assertNotEquals(base, retrain("{other}", forget, 2, 42));
        assertNotEquals(base, retrain("{conf}", new long[] {3, 8, 22}, 2, 42));
        assertNotEquals(base, retrain("{conf}", forget, 3, 42));
        assertNotEquals(base, retrain("{conf}", forget, 2, 43));
        assertNotEquals(base, retrain("{conf}", forget, 2, 42, "--train.epochs=41"));
        // unlearning settings do not decide Retrain: a search over them reuses it
        assertEquals(base, retrain("{conf}", forget, 2, 42, "--unlearn.order=sequential", "--unlearn.lr=0.3"));
        assertEquals("hdfs://nn/cache/" + base.substring("work/models/".length()),
                retrain("{conf}", forget, 2, 42, "--benchmark.retrain-dir=hdfs://nn/cache"));
    }
}
