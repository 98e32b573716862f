package io.salun.job;

import io.salun.config.Settings;
import io.salun.model.LrSchedule;
import io.salun.model.Optimizer;
import io.salun.train.DataOrder;
import io.salun.unlearn.Method;
import io.salun.unlearn.Recipe;

/** The training recipes the settings describe. */
final class Recipes {
    private Recipes() {
    }

    /** The original training recipe (train.*), which Retrain repeats on Dr. */
    static Recipe training(Settings s) {
        return new Recipe(new Optimizer(s.get(JobSettings.TRAIN.optimizer()), s.get(JobSettings.TRAIN.lr()),
                s.get(JobSettings.TRAIN.momentum()), s.get(JobSettings.TRAIN.weightDecay()), 0),
                s.get(JobSettings.TRAIN.epochs()), s.get(JobSettings.TRAIN.batch()), s.get(JobSettings.TRAIN.localSteps()),
                DataOrder.MIXED, true, 0, schedule(s, JobSettings.TRAIN.lrSchedule()));
    }

    /** The unlearn command's recipe (unlearn.*), with learning rate and epochs as given. */
    static Recipe unlearning(Settings s, double lr, int epochs) {
        return new Recipe(new Optimizer(s.get(JobSettings.UNLEARN.optimizer()), lr,
                s.get(JobSettings.UNLEARN.momentum()), s.get(JobSettings.UNLEARN.weightDecay()), 0),
                epochs, s.get(JobSettings.UNLEARN.batch()), s.get(JobSettings.UNLEARN.localSteps()),
                DataOrder.parse(s.get(JobSettings.UNLEARN_ORDER)), s.get(JobSettings.UNLEARN_EXCLUDE_TRUE_LABEL),
                s.get(JobSettings.UNLEARN_L1_ALPHA), schedule(s, JobSettings.UNLEARN.lrSchedule()),
                s.get(JobSettings.UNLEARN_NEGGRAD_BETA), new Recipe.Scrub(s.get(JobSettings.UNLEARN_SCRUB_ALPHA),
                        s.get(JobSettings.UNLEARN_SCRUB_GAMMA), s.get(JobSettings.UNLEARN_SCRUB_MAX_EPOCHS)),
                new Recipe.SfrOn(s.get(JobSettings.UNLEARN_SFRON_ALPHA), s.get(JobSettings.UNLEARN_SFRON_LAMBDA),
                        s.get(JobSettings.UNLEARN_SFRON_MAX_NORM), s.get(JobSettings.UNLEARN_SFRON_FORGET_EVERY),
                        s.get(JobSettings.UNLEARN_SFRON_THRESHOLD)));
    }

    /** The schedule a stage's {@code lr-schedule} setting names (an error naming the key when malformed). */
    static LrSchedule.Spec schedule(Settings s, io.salun.config.Setting<String> setting) {
        return LrSchedule.Spec.parse(s.get(setting), setting.key());
    }

    /** The recipe of {@code method} in the unlearn command. */
    static Recipe forUnlearnCommand(Settings s, Method method) {
        return method == Method.RETRAIN ? training(s)
                : unlearning(s, s.get(JobSettings.UNLEARN.lr()), s.get(JobSettings.UNLEARN.epochs()));
    }
}
