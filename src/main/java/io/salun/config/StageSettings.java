package io.salun.config;

import io.salun.config.Setting.Interval;

import java.util.List;
import java.util.Optional;

/**
 * The optimiser group of one training stage, declared once and instantiated per prefix
 * ({@code train.}, {@code unlearn.}, {@code diffusion.}, {@code diffusion.unlearn.},
 * {@code benchmark.<method>.}), as Flink ML composes {@code HasMaxIter} or {@code HasSeed} into each
 * algorithm's parameters: {@code epochs}, {@code batch}, {@code local-steps}, {@code optimizer},
 * {@code lr}, {@code momentum}, {@code weight-decay} and a sweep's {@code lr-grid} and {@code epochs-grid}, each with the
 * same range and meaning wherever it appears; a stage declares the members it has, with its own
 * defaults. Every member is added to the catalogue as it is declared.
 */
public final class StageSettings {
    private final String prefix;
    private final Optional<Setting<Integer>> epochs;
    private final Optional<Setting<Integer>> batch;
    private final Optional<Setting<Integer>> localSteps;
    /** The update rules an {@code optimizer} setting names (io.salun.model.Optimizer builds them). */
    public static final List<String> OPTIMIZERS = List.of("sgd", "pytorch-sgd", "adam");

    private final Optional<Setting<String>> optimizer;
    private final Optional<Setting<Double>> lr;
    private final Optional<Setting<Double>> momentum;
    private final Optional<Setting<Double>> weightDecay;
    private final Optional<Setting<String>> lrGrid;
    private final Optional<Setting<String>> epochsGrid;
    private final Optional<Setting<String>> lrSchedule;

    private StageSettings(Defaults d, Catalogue catalogue) {
        this.prefix = d.prefix;
        String what = d.what + ": ";
        // declared in this order, so the catalogue lists a stage's members the same way everywhere
        epochs = d.epochs.map(v -> catalogue.add(Setting.integer(key("epochs"), v, d.minEpochs, 100_000,
                what + "epochs (passes over the stage's records)")));
        batch = d.batch.map(v -> catalogue.add(Setting.integer(key("batch"), v, 1, 1_000_000,
                what + "minibatch size per partition")));
        localSteps = d.localSteps.map(v -> catalogue.add(Setting.integer(key("local-steps"), v, 1, 1_000_000,
                what + "minibatch steps each partition takes between parameter averages")));
        optimizer = d.optimizer.map(v -> catalogue.add(Setting.oneOf(key("optimizer"), v, OPTIMIZERS,
                what + "update rule: sgd (Nesterov momentum, decoupled weight decay), pytorch-sgd (PyTorch's SGD:"
                + " classical momentum, weight decay added to the gradient) or adam")));
        lr = d.lr.map(v -> catalogue.add(Setting.decimal(key("lr"), v, Interval.greaterThan(0), what + "learning rate"
                + d.lrNote)));
        momentum = d.momentum.map(v -> catalogue.add(Setting.decimal(key("momentum"), v, Interval.closedOpen(0, 1),
                what + "SGD momentum (Nesterov for sgd, classical for pytorch-sgd)")));
        weightDecay = d.weightDecay.map(v -> catalogue.add(Setting.decimal(key("weight-decay"), v, Interval.atLeast(0),
                what + "weight decay (decoupled; coupled L2 for pytorch-sgd)")));
        lrGrid = d.lrGrid.map(v -> catalogue.add(Setting.string(key("lr-grid"), v,
                what + "comma-separated learning rates the sweep tries")));
        epochsGrid = d.epochsGrid.map(v -> catalogue.add(new Setting<>(key("epochs-grid"), String.class, v,
                what + "comma-separated epochs the sweep tries with every learning rate of the grid; empty: the"
                + " stage's epochs alone", t -> t.isBlank() || epochList(t) != null,
                "comma-separated distinct epochs >= 1, or empty")));
        lrSchedule = d.lrSchedule.map(v -> catalogue.add(new Setting<>(key("lr-schedule"), String.class, v,
                what + "learning-rate schedule over the stage's epochs: constant, cosine (annealed to 0), or"
                + " step:E1,E2,... (times 0.1 at each listed epoch, as PyTorch's MultiStepLR)",
                t -> scheduleMilestones(t) != null, "constant, cosine, or step:E1,E2,... with increasing epochs >= 1")));
    }

    /**
     * The milestones of a schedule setting's text: empty for {@code constant} and {@code cosine},
     * the epochs of {@code step:E1,E2,…} (increasing, ≥ 1), null when the text is none of these.
     */
    public static int[] scheduleMilestones(String text) {
        String t = text.trim();
        if (t.equals("constant") || t.equals("cosine")) {
            return new int[0];
        }
        if (!t.startsWith("step:")) {
            return null;
        }
        String[] parts = t.substring(5).split(",", -1);
        int[] epochs = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                epochs[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                return null;
            }
            if (epochs[i] < 1 || (i > 0 && epochs[i] <= epochs[i - 1])) {
                return null;
            }
        }
        return epochs;
    }

    /** The epochs of an {@code epochs-grid} text (distinct, each ≥ 1, in the order given), null when malformed. */
    public static List<Integer> epochList(String text) {
        List<Integer> epochs = new java.util.ArrayList<>();
        for (String part : text.split(",", -1)) {
            try {
                int e = Integer.parseInt(part.trim());
                if (e < 1 || epochs.contains(e)) {
                    return null;
                }
                epochs.add(e);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return epochs;
    }

    /** The values of a comma-separated list of distinct finite numbers &gt; 0 (in the order given), null when malformed. */
    public static List<Double> positiveList(String text) {
        List<Double> values = new java.util.ArrayList<>();
        for (String part : text.split(",", -1)) {
            try {
                double v = Double.parseDouble(part.trim());
                if (!(v > 0) || Double.isInfinite(v) || values.contains(v)) {
                    return null;
                }
                values.add(v);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return values;
    }

    private String key(String member) {
        return prefix + "." + member;
    }

    /** Declares the group described by {@code defaults} in {@code catalogue}. */
    public static StageSettings declare(Catalogue catalogue, Defaults defaults) {
        return new StageSettings(defaults, catalogue);
    }

    /** Starts the description of the group of {@code prefix} (without its dot); {@code what} begins each description. */
    public static Defaults of(String prefix, String what) {
        return new Defaults(prefix, what);
    }

    public Setting<Integer> epochs() {
        return member(epochs, "epochs");
    }

    public Setting<Integer> batch() {
        return member(batch, "batch");
    }

    public Setting<Integer> localSteps() {
        return member(localSteps, "local-steps");
    }

    public Setting<String> optimizer() {
        return member(optimizer, "optimizer");
    }

    public Setting<Double> lr() {
        return member(lr, "lr");
    }

    public Setting<Double> momentum() {
        return member(momentum, "momentum");
    }

    public Setting<Double> weightDecay() {
        return member(weightDecay, "weight-decay");
    }

    public Setting<String> lrGrid() {
        return member(lrGrid, "lr-grid");
    }

    public Setting<String> epochsGrid() {
        return member(epochsGrid, "epochs-grid");
    }

    public Setting<String> lrSchedule() {
        return member(lrSchedule, "lr-schedule");
    }

    private <T> Setting<T> member(Optional<Setting<T>> s, String name) {
        return s.orElseThrow(() -> new IllegalStateException("the " + prefix + " stage declares no " + name + " setting"));
    }

    /** The members a stage has and their defaults. */
    public static final class Defaults {
        private final String prefix;
        private final String what;
        private Optional<Integer> epochs = Optional.empty();
        private int minEpochs = 1;
        private Optional<Integer> batch = Optional.empty();
        private Optional<Integer> localSteps = Optional.empty();
        private Optional<String> optimizer = Optional.empty();
        private Optional<Double> lr = Optional.empty();
        private String lrNote = "";
        private Optional<Double> momentum = Optional.empty();
        private Optional<Double> weightDecay = Optional.empty();
        private Optional<String> lrGrid = Optional.empty();
        private Optional<String> epochsGrid = Optional.empty();
        private Optional<String> lrSchedule = Optional.empty();

        private Defaults(String prefix, String what) {
            this.prefix = prefix;
            this.what = what;
        }

        public Defaults epochs(int value) {
            epochs = Optional.of(value);
            return this;
        }

        /** Epochs from {@code min} (0: a stage that may do nothing, e.g. to keep a given model). */
        public Defaults epochs(int value, int min) {
            minEpochs = min;
            return epochs(value);
        }

        public Defaults batch(int value) {
            batch = Optional.of(value);
            return this;
        }

        public Defaults localSteps(int value) {
            localSteps = Optional.of(value);
            return this;
        }

        public Defaults optimizer(String value) {
            optimizer = Optional.of(value);
            return this;
        }

        public Defaults lr(double value) {
            lr = Optional.of(value);
            return this;
        }

        /** A learning rate with a note on its rule ({@code " (Adam)"}) for a stage without an optimizer setting. */
        public Defaults lr(double value, String note) {
            lrNote = note;
            return lr(value);
        }

        public Defaults momentum(double value) {
            momentum = Optional.of(value);
            return this;
        }

        public Defaults weightDecay(double value) {
            weightDecay = Optional.of(value);
            return this;
        }

        public Defaults lrGrid(String value) {
            lrGrid = Optional.of(value);
            return this;
        }

        public Defaults epochsGrid(String value) {
            epochsGrid = Optional.of(value);
            return this;
        }

        public Defaults lrSchedule(String value) {
            lrSchedule = Optional.of(value);
            return this;
        }
    }
}
