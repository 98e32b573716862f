package io.salun.job;

import io.salun.config.Catalogue;
import io.salun.config.Setting;
import io.salun.config.StageSettings;
import io.salun.config.Setting.Interval;

import java.util.List;
import java.util.Optional;

/** Every setting of the job, declared once with its default, range and meaning. */
public final class JobSettings {
    private JobSettings() {
    }

    /** Every setting below adds itself here as it is declared; {@link #ALL} is this list. */
    private static final Catalogue C = new Catalogue();

    public static final Setting<Long> SEED = C.add(Setting.longInteger("seed", 42L, Long.MIN_VALUE, Long.MAX_VALUE,
            "master seed; every stage, epoch and partition derives its own from it"));

    public static final Setting<Optional<String>> SPARK_MASTER = C.add(Setting.optionalString("spark.master",
            "Spark master for runs started without spark-submit (e.g. local[*]); empty: as spark-submit set it"));
    public static final Setting<Integer> PARTITIONS = C.add(Setting.integer("spark.partitions", 0, 0, 100_000,
            "partitions of the training, forget and test sets; 0: Spark's default parallelism"));
    public static final Setting<Integer> TREE_DEPTH = C.add(Setting.integer("spark.tree-depth", 2, 1, 16,
            "depth of treeReduce for gradients, parameters and counts"));

    public static final Setting<String> DATA_FORMAT = C.add(Setting.oneOf("data.format", "idx", List.of("idx", "parquet"),
            "idx: the four IDX files of data.dir; parquet: the tables data.train and data.test (columns id, label and"
                    + " features or image)"));
    public static final Setting<String> DATA_DIR = C.add(Setting.string("data.dir", "/usr/share/datasets/fashion-mnist",
            "folder (Hadoop URI) holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                    + "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzip or plain IDX)"));
    public static final Setting<Optional<String>> DATA_TRAIN = C.add(Setting.optionalString("data.train",
            "parquet: the training table (Hadoop URI of a Parquet file or folder): id (string or long, unique),"
                    + " label (int), and features (array<float>, values in [0, 1]) or image (binary: PNG or raw bytes)"));
    public static final Setting<Optional<String>> DATA_TEST = C.add(Setting.optionalString("data.test",
            "parquet: the test table, with the training table's columns"));
    public static final Setting<Integer> DATA_HEIGHT = C.add(Setting.integer("data.image.height", 28, 1, 65_536,
            "parquet: image height in pixels"));
    public static final Setting<Integer> DATA_WIDTH = C.add(Setting.integer("data.image.width", 28, 1, 65_536,
            "parquet: image width in pixels"));
    public static final Setting<Integer> DATA_CHANNELS = C.add(Setting.integer("data.image.channels", 1, 1, 4,
            "parquet: image channels (1 grey, 3 RGB, 4 RGBA)"));
    public static final Setting<String> DATA_LAYOUT = C.add(Setting.oneOf("data.image.layout", "hwc", List.of("hwc", "chw"),
            "parquet: order of raw image bytes and of features values: hwc (channels interleaved, as PNG and"
                    + " numpy images) or chw (channel planes)"));
    public static final Setting<Integer> DATA_SUBSET = C.add(Setting.integer("data.subset", 0, 0, Integer.MAX_VALUE,
            "train on a seeded uniform subset of this many training records; 0: all"));
    public static final Setting<Integer> DATA_CLASSES = C.add(Setting.integer("data.classes", 10, 2, 100_000,
            "number of classes K of a model trained from scratch"));

    public static final Setting<String> MODEL_ARCH = C.add(Setting.oneOf("model.arch", "lenet",
            List.of("lenet", "mlp", "resnet18"), "architecture of a model trained from scratch, or of the PyTorch"
                    + " weights (safetensors) at model.path: lenet, mlp, resnet18 (CIFAR form, BatchNorm)"));
    public static final Setting<Integer> MODEL_WIDTH = C.add(Setting.integer("model.width", 64, 1, 4096,
            "resnet18: base width of its four stages (w, 2w, 4w, 8w); 64 is ResNet-18 (11.17 M parameters), 16 a"
                    + " sixteenth of the cost"));
    public static final Setting<Optional<String>> MODEL_PATH = C.add(Setting.optionalString("model.path",
            "the original model (DL4J zip, Hadoop URI); empty: work/models/<arch>-<hash of the training settings>.zip"));
    public static final Setting<Boolean> TRAIN_IF_MISSING = C.add(Setting.bool("model.train-if-missing", false,
            "unlearn: train the original model first when model.path does not exist yet"));

    /** The original model's training, which Retrain repeats on Dr. */
    public static final StageSettings TRAIN = StageSettings.declare(C, StageSettings.of("train", "train")
            .epochs(8).batch(64).localSteps(4).optimizer("sgd").lr(0.05).momentum(0.9).weightDecay(5e-4)
            .lrSchedule("constant"));

    public static final Setting<String> FORGET_SCENARIO = C.add(Setting.oneOf("forget.scenario", "random",
            List.of("random", "class", "ids"), "random: a seeded fraction; class: whole classes; ids: IDs listed in a file"));
    public static final Setting<Double> FORGET_FRACTION = C.add(Setting.decimal("forget.fraction", 0.1, Interval.open(0, 1),
            "random scenario: fraction of the training set to forget"));
    public static final Setting<String> FORGET_CLASSES = C.add(Setting.string("forget.classes", "0",
            "class scenario: comma-separated labels to forget"));
    public static final Setting<Optional<String>> FORGET_IDS = C.add(Setting.optionalString("forget.ids",
            "ids scenario: the deletion list (Hadoop URI): a text file of one ID per line, a CSV file with a header"
                    + " row, or a Parquet table; a file or a folder of part files"));
    public static final Setting<String> FORGET_IDS_FORMAT = C.add(Setting.oneOf("forget.ids.format", "auto",
            List.of("auto", "text", "csv", "parquet"), "format of forget.ids; auto: by the file name's ending"
                    + " (.parquet, .csv, anything else text; a folder by the endings of its files)"));
    public static final Setting<String> FORGET_IDS_COLUMN = C.add(Setting.string("forget.ids.column", "id",
            "csv and parquet deletion lists: the column holding the record IDs"));
    public static final Setting<Optional<String>> FORGET_IDS_TIME = C.add(Setting.optionalString("forget.ids.time-column",
            "csv and parquet deletion logs: the column holding each request's time (timestamp or ISO-8601); scheduled"
                    + " runs (schedule.dir) forget only the requests after the last run's"));
    public static final Setting<String> FORGET_UNKNOWN_IDS = C.add(Setting.oneOf("forget.unknown-ids", "fail",
            List.of("fail", "ignore"), "deletion-list IDs that match no training record: fail stops the job before any"
                    + " output is written; ignore counts them in the report and goes on"));

    public static final Setting<Double> SALIENCY_RATIO = C.add(Setting.decimal("saliency.ratio", 0.5, Interval.openClosed(0, 1),
            "fraction of parameters the mask keeps trainable (largest |gradient| first)"));
    public static final Setting<Integer> SALIENCY_BATCH = C.add(Setting.integer("saliency.batch", 500, 1, 1_000_000,
            "minibatch size of the gradient pass (does not change the sum)"));

    public static final Setting<String> UNLEARN_METHOD = C.add(Setting.oneOf("unlearn.method", "salun",
            List.of("salun", "rl", "ft", "ga", "l1-sparse", "neggrad+", "ssd", "scrub", "sfron", "retrain"),
            "salun: random labels under the saliency mask; rl: random labels; ft: fine-tune on Dr; ga: gradient"
                    + " ascent on Df; l1-sparse: ft with a decaying l1 penalty; neggrad+: descend on Dr and ascend on"
                    + " Df in each minibatch (unlearn.neggrad-beta); ssd: no training, dampen the parameters far more"
                    + " important to Df than to D (unlearn.ssd-alpha, unlearn.ssd-lambda); scrub: a student from the"
                    + " original moves away from it (the teacher) on Df and stays close on Dr (unlearn.scrub-*); sfron:"
                    + " fine-tune on Dr with a masked, clipped ascent step on Df every few steps (unlearn.sfron-*); retrain:"
                    + " from scratch on Dr (train.*)"));
    public static final Setting<Boolean> UNLEARN_MASK = C.add(Setting.bool("unlearn.mask", false,
            "run rl, ft, ga or l1-sparse under the saliency mask too (salun always is)"));
    public static final Setting<Double> UNLEARN_L1_ALPHA = C.add(Setting.decimal("unlearn.l1-alpha", 5e-4, Interval.atLeast(0),
            "l1-sparse: initial l1 coefficient alpha, decaying linearly to 0"));
    public static final Setting<Double> UNLEARN_NEGGRAD_BETA = C.add(Setting.decimal("unlearn.neggrad-beta",
            io.salun.unlearn.Recipe.NEGGRAD_BETA, Interval.closed(0, 1), "neggrad+: weight beta of the retain part's"
                    + " mean loss; the forget part's is subtracted with weight 1 - beta (official code: 0.95)"));
    public static final Setting<Double> UNLEARN_SSD_ALPHA = C.add(Setting.decimal("unlearn.ssd-alpha",
            io.salun.unlearn.SelectiveDampening.ALPHA, Interval.greaterThan(0), "ssd: selection weighting alpha; a"
                    + " parameter is dampened when its Fisher importance on Df exceeds alpha times that on D; must be below"
                    + " |D|/|Df| (docs/METHODS.md 3b; the paper's 10 is for another importance scale)"));
    public static final Setting<Double> UNLEARN_SSD_LAMBDA = C.add(Setting.decimal("unlearn.ssd-lambda",
            io.salun.unlearn.SelectiveDampening.LAMBDA, Interval.greaterThan(0), "ssd: dampening constant lambda; a"
                    + " selected parameter is scaled by min(lambda * I_D / I_Df, 1) (paper: 1)"));
    public static final Setting<Double> UNLEARN_SCRUB_ALPHA = C.add(Setting.decimal("unlearn.scrub-alpha",
            io.salun.unlearn.Recipe.Scrub.DEFAULT.alpha(), Interval.atLeast(0), "scrub: weight of KL(teacher || student)"
                    + " in the min-steps on Dr (official small-scale notebook: 0.5)"));
    public static final Setting<Double> UNLEARN_SCRUB_GAMMA = C.add(Setting.decimal("unlearn.scrub-gamma",
            io.salun.unlearn.Recipe.Scrub.DEFAULT.gamma(), Interval.atLeast(0), "scrub: weight of the cross-entropy"
                    + " in the min-steps on Dr (official: 1)"));
    public static final Setting<Integer> UNLEARN_SCRUB_MAX_EPOCHS = C.add(Setting.integer("unlearn.scrub-max-epochs",
            io.salun.unlearn.Recipe.Scrub.DEFAULT.maxEpochs(), 1, 1_000_000, "scrub: the first this many epochs begin"
                    + " with a max-step pass over Df (ascending on the KL divergence); later epochs are min-steps on Dr"
                    + " alone (official msteps: 3)"));
    public static final Setting<Double> UNLEARN_SFRON_ALPHA = C.add(Setting.decimal("unlearn.sfron-alpha",
            io.salun.unlearn.Recipe.SfrOn.DEFAULT.alpha(), Interval.greaterThan(0), "sfron: initial scale of the forget"
                    + " steps' ascent loss, annealed to 0 by a cosine over the stage's steps (official forget_alpha: 25)"));
    public static final Setting<Double> UNLEARN_SFRON_LAMBDA = C.add(Setting.decimal("unlearn.sfron-lambda",
            io.salun.unlearn.Recipe.SfrOn.DEFAULT.lambda(), Interval.atLeast(0), "sfron: exponent of the adaptive"
                    + " ascent; a forget record's weight is proportional to 1/loss^lambda (official lambd: 0.5; 0: plain"
                    + " ascent)"));
    public static final Setting<Double> UNLEARN_SFRON_MAX_NORM = C.add(Setting.decimal("unlearn.sfron-max-norm",
            io.salun.unlearn.Recipe.SfrOn.DEFAULT.maxNorm(), Interval.greaterThan(0), "sfron: the forget steps' mean"
                    + " gradient is clipped to this L2 norm after masking (official max_norm: 7)"));
    public static final Setting<Integer> UNLEARN_SFRON_FORGET_EVERY = C.add(Setting.integer("unlearn.sfron-forget-every",
            io.salun.unlearn.Recipe.SfrOn.DEFAULT.forgetEvery(), 1, 1_000_000, "sfron: a forget step precedes every this"
                    + " many steps on Dr (official forget_freq: 5)"));
    public static final Setting<Double> UNLEARN_SFRON_THRESHOLD = C.add(Setting.decimal("unlearn.sfron-threshold",
            io.salun.unlearn.Recipe.SfrOn.DEFAULT.threshold(), Interval.greaterThan(0), "sfron: a weight is in the"
                    + " forget steps' mask when its Fisher information on Df is at least this many times that on Dr"
                    + " (official th, gamma in the paper: 1)"));
    /** The unlearning stage of unlearn (and the benchmark's methods, beside their own learning rates and epochs). */
    public static final StageSettings UNLEARN = StageSettings.declare(C, StageSettings.of("unlearn", "unlearn")
            .epochs(3).batch(64).localSteps(4).optimizer("sgd").lr(0.05).momentum(0.9).weightDecay(5e-4)
            .lrSchedule("constant"));
    public static final Setting<String> UNLEARN_ORDER = C.add(Setting.oneOf("unlearn.order", "mixed",
            List.of("mixed", "sequential"), "RL and SalUn: mixed, one shuffled stream of Df and Dr; sequential, Df then Dr each epoch (the reference"
                    + " code's CIFAR-10 branch); NegGrad+ always mixes, SCRUB keeps its max-then-min order"));
    public static final Setting<Boolean> UNLEARN_EXCLUDE_TRUE_LABEL = C.add(Setting.bool("unlearn.exclude-true-label", true,
            "draw random labels from the other K-1 classes (paper) rather than all K (reference code)"));

    public static final Setting<Optional<String>> AUDIT_MODEL = C.add(Setting.optionalString("audit.model",
            "audit: the unlearned model to audit (a DL4J model.zip, e.g. an unlearn run's), on the forget set of the"
                    + " forget.* settings and seed"));
    public static final Setting<Integer> AUDIT_SHADOWS = C.add(Setting.integer("audit.shadows", 8, 4, 10_000,
            "audit: shadow models, each trained with the original recipe on the retain set and a seeded half of the"
                    + " forget set, one per Spark task, in complementary pairs (even, >= 4)"));
    public static final Setting<Optional<String>> AUDIT_SHADOW_DIR = C.add(Setting.optionalString("audit.shadow-dir",
            "audit: where the shadow models are cached (Hadoop URI); empty: work/models/shadows-<arch>-<training key>-"
                    + "<original's configuration>-<forget set>-p<partitions>-s<seed>"));
    public static final Setting<Integer> EVAL_BATCH = C.add(Setting.integer("eval.batch", 500, 1, 1_000_000,
            "minibatch size of inference"));

    public static final Setting<Optional<String>> OUTPUT_DIR = C.add(Setting.optionalString("output.dir",
            "unlearn: output folder (Hadoop URI); empty: work/runs/<scenario>-<method>-<time>; verify: the"
                    + " published result to check"));
    public static final Setting<Boolean> OUTPUT_OVERWRITE = C.add(Setting.bool("output.overwrite", false,
            "replace an existing output folder or model file"));
    public static final Setting<Integer> OUTPUT_LEASE_TIMEOUT = C.add(Setting.integer("output.lease-timeout", 300, 1, 86_400,
            "seconds a run's claim on its output.dir (or schedule.dir) lives without renewal (renewed every quarter of"
                    + " it) before another run may take it over from a run that died; on the dead run's own host at once"));
    public static final Setting<Optional<String>> CHECKPOINT_DIR = C.add(Setting.optionalString("checkpoint.dir",
            "unlearn: where the run keeps its mask and last finished round, so a rerun after a crash resumes"
                    + " (Hadoop URI); empty: .<output name>.checkpoint beside output.dir; removed once published"));
    public static final Setting<Integer> CHECKPOINT_ROUNDS = C.add(Setting.integer("checkpoint.rounds", 1, 0, 1_000_000,
            "unlearn: save the training state every this many rounds and after each epoch; 0: no checkpoints"));
    public static final Setting<Optional<String>> SCHEDULE_DIR = C.add(Setting.optionalString("schedule.dir",
            "unlearn: scheduled runs over a growing deletion log (Hadoop URI): runs/<slot>/ results and schedule.json"
                    + " with each slot's watermark and model; a slot already done is a no-op"));
    public static final Setting<Optional<String>> SCHEDULE_SLOT = C.add(Setting.optionalString("schedule.slot",
            "unlearn with schedule.dir: this run's slot name, e.g. the schedule's date (2026-11-27)"));
    public static final Setting<Integer> BENCH_RECORDS = C.add(Setting.integer("bench.records", 6000, 100, 10_000_000,
            "bench: records of the fine-tuning epoch (a seeded sample of the training set; 10% of it is the forget set)"));
    public static final Setting<Integer> BENCH_WARMUP = C.add(Setting.integer("bench.warmup", 1, 0, 1000,
            "bench: unmeasured runs before each measurement"));
    public static final Setting<Integer> BENCH_REPETITIONS = C.add(Setting.integer("bench.repetitions", 5, 1, 1000,
            "bench: measured runs of each measurement (median and range reported)"));
    public static final Setting<String> BENCH_PYTORCH = C.add(Setting.oneOf("bench.pytorch", "auto", List.of("auto", "off"),
            "bench: also time the same LeNet in PyTorch (bench/pytorch_lenet.py) when python3 with torch is installed"));
    public static final Setting<Optional<String>> BENCH_OUTPUT = C.add(Setting.optionalString("bench.output",
            "bench: output folder for bench.json and bench.md; empty: work/bench/<time>"));

    public static final Setting<Optional<String>> DIFFUSION_MODEL = C.add(Setting.optionalString("diffusion.model",
            "the class-conditional diffusion model (DL4J zip, Hadoop URI); empty: work/models/ddpm-x0-<hash of the"
                    + " diffusion training settings>.zip"));
    public static final Setting<Boolean> DIFFUSION_TRAIN_IF_MISSING = C.add(Setting.bool("diffusion.train-if-missing", false,
            "unlearn-diffusion: train the diffusion model first when diffusion.model does not exist yet"));
    public static final Setting<Integer> DIFFUSION_WIDTH = C.add(Setting.integer("diffusion.width", 1024, 8, 65_536,
            "train-diffusion: units of each hidden layer of the noise predictor"));
    public static final Setting<Integer> DIFFUSION_DEPTH = C.add(Setting.integer("diffusion.depth", 3, 1, 64,
            "train-diffusion: hidden layers of the noise predictor"));
    public static final StageSettings DIFFUSION = StageSettings.declare(C, StageSettings.of("diffusion", "train-diffusion")
            .epochs(30, 0).batch(128).localSteps(40).lr(1e-3, " (Adam)"));
    public static final Setting<Double> DIFFUSION_P_UNCOND = C.add(Setting.decimal("diffusion.p-uncond", 0.1,
            Interval.closedOpen(0, 1), "probability that a training image's class condition is dropped to the null"
                    + " condition (classifier-free guidance)"));
    public static final Setting<Integer> DIFFUSION_FORGET_CLASS = C.add(Setting.integer("diffusion.forget-class", 1, 0, 1_000_000,
            "unlearn-diffusion: the class the model must stop generating"));
    public static final Setting<String> DIFFUSION_METHODS = C.add(Setting.string("diffusion.methods", "salun,rl",
            "unlearn-diffusion: comma-separated methods, each run from the original model: salun (SalUn-gen, masked)"
                    + " and rl (the same unlearning without the mask); the first one's model is published"));
    public static final Setting<Double> DIFFUSION_SALIENCY_RATIO = C.add(Setting.decimal("diffusion.saliency-ratio", 0.5,
            Interval.openClosed(0, 1), "unlearn-diffusion: fraction of parameters SalUn-gen's mask keeps trainable"));
    public static final Setting<Double> DIFFUSION_GUIDANCE = C.add(Setting.decimal("diffusion.guidance", 2.0, Interval.atLeast(0),
            "classifier-free guidance weight w of the saliency loss and of sampling: (1+w)·eps(c) - w·eps(null)"));
    /** unlearn-diffusion's fine-tuning over the forget images and an equal-sized seeded sample of retain images. */
    public static final StageSettings DIFFUSION_UNLEARN = StageSettings.declare(C, StageSettings.of("diffusion.unlearn",
            "unlearn-diffusion").epochs(10).batch(128).localSteps(4).lr(5e-4, " (Adam)"));
    public static final Setting<Double> DIFFUSION_UNLEARN_BETA = C.add(Setting.decimal("diffusion.unlearn.beta", 1.0,
            Interval.atLeast(0), "unlearn-diffusion: weight of the retain images' ordinary diffusion loss (the reference's"
                    + " 1e-3 wrecked the other classes of this MLP denoiser: docs/RESULTS.md)"));
    public static final Setting<Double> DIFFUSION_UNLEARN_CLIP = C.add(Setting.decimal("diffusion.unlearn.clip", 1.0,
            Interval.greaterThan(0), "unlearn-diffusion: bound on the L2 norm of each step's mean gradient"));
    public static final Setting<Integer> DIFFUSION_SAMPLE_PER_CLASS = C.add(Setting.integer("diffusion.sample.per-class", 100, 2,
            1_000_000, "unlearn-diffusion: images generated per class for the evaluation, before and after"));
    public static final Setting<Integer> DIFFUSION_SAMPLE_STEPS = C.add(Setting.integer("diffusion.sample.steps", 50, 1, 1000,
            "DDIM steps per generated image"));
    public static final Setting<Optional<String>> DIFFUSION_CLASSIFIER = C.add(Setting.optionalString("diffusion.classifier",
            "unlearn-diffusion: the classifier that labels generated images (DL4J zip); empty: the original"
                    + " classifier of model.path (trained first if model.train-if-missing)"));

    public static final Setting<String> BENCHMARK_SCENARIOS = C.add(Setting.string("benchmark.scenarios", "current",
            "benchmark: comma-separated scenarios (random10, class0, class3+5, ids), each benchmarked in turn;"
                    + " current: the one forget.* describes"));
    public static final Setting<String> BENCHMARK_METHODS = C.add(Setting.string("benchmark.methods",
            "ft,ga,rl,l1-sparse,salun,neggrad+,ssd,scrub,sfron", "benchmark: methods compared with Retrain; append +mask for a masked"
                    + " variant (e.g. ga+mask)"));
    public static final Setting<Boolean> BENCHMARK_SWEEP = C.add(Setting.bool("benchmark.sweep", false,
            "benchmark: try every point (learning rate x epochs) of benchmark.<method>.lr-grid and epochs-grid on"
                    + " every seed and keep the smallest mean Avg. Gap; without it, each method runs its recipe for"
                    + " the scenario's kind (benchmark.<method>.lr/epochs, or .class.lr/.class.epochs)"));
    public static final Setting<Optional<String>> BENCHMARK_SEEDS = C.add(Setting.optionalString("benchmark.seeds",
            "benchmark: comma-separated seeds; each draws its own forget set, attack samples, labels and data order"
                    + " from the one original model (trained with seed), and every figure is the mean ± std over them;"
                    + " empty: the seed setting alone"));
    public static final Setting<Integer> BENCHMARK_GRID_EXTENSIONS = C.add(Setting.integer("benchmark.grid-extensions", 2,
            0, 20, "benchmark --sweep: how many times a method's best point on the edge of its grid extends the"
                    + " search one step beyond that edge"));
    public static final Setting<Integer> BENCHMARK_AUDIT_SHADOWS = C.add(Setting.integer("benchmark.audit-shadows", 0,
            0, 10_000, "benchmark: also audit the original, Retrain and each method's chosen model per example against"
                    + " this many shadow models per seed (even, >= 4; cached by seed and forget set, as the audit"
                    + " command caches them, or in benchmark.audit-shadow-dir; each costs about one Retrain the first"
                    + " time); 0: no audit"));
    public static final Setting<Optional<String>> BENCHMARK_AUDIT_SHADOW_DIR = C.add(Setting.optionalString(
            "benchmark.audit-shadow-dir", "benchmark with benchmark.audit-shadows: a folder for the shadow models, one"
                    + " subfolder per scenario and seed (<scenario>-seed<seed>, an audit.shadow-dir for the audit command);"
                    + " empty: the keyed cache under work/models"));
    public static final Setting<Optional<String>> BENCHMARK_RETRAIN_DIR = C.add(Setting.optionalString(
            "benchmark.retrain-dir", "benchmark: the folder (Hadoop URI) where each seed's Retrain is cached, with the"
                    + " time its training took, as retrain-<arch>-<training key>-<original's configuration>-<forget set>"
                    + "-p<partitions>-s<seed>.zip, and read back by a later benchmark of the same key; empty: work/models"));
    public static final Setting<Optional<String>> BENCHMARK_OUTPUT = C.add(Setting.optionalString("benchmark.output",
            "benchmark: output folder (one subfolder per scenario); empty: work/benchmarks/<time>"));

    /**
     * Per-method recipe and sweep grids of the benchmark, benchmark.METHOD.{epochs,lr,lr-grid,epochs-grid}:
     * the recipe for random forgetting and deletion lists, and the grids the sweep searches.
     */
    public static final Setting<Double> BENCHMARK_SSD_ALPHA = C.add(Setting.decimal("benchmark.ssd.alpha",
            io.salun.unlearn.SelectiveDampening.ALPHA, Interval.greaterThan(0),
            "benchmark ssd (and ssd+mask): selection weighting alpha on random forgetting and deletion lists"
                    + " (lambda: unlearn.ssd-lambda)"));
    public static final Setting<Double> BENCHMARK_SSD_CLASS_ALPHA = C.add(Setting.decimal("benchmark.ssd.class.alpha",
            io.salun.unlearn.SelectiveDampening.ALPHA, Interval.greaterThan(0),
            "benchmark ssd (and ssd+mask): selection weighting alpha on class-wise scenarios"));
    public static final Setting<String> BENCHMARK_SSD_ALPHA_GRID = C.add(new Setting<>("benchmark.ssd.alpha-grid",
            String.class, "1.5,2,3,5,8", "benchmark ssd with benchmark.sweep: the selection weightings tried (no epochs:"
                    + " it does not train; the tables show alpha in the lr column and 0 epochs)",
            t -> StageSettings.positiveList(t) != null, "comma-separated distinct numbers > 0"));
    public static final java.util.Map<String, StageSettings> BENCHMARK_METHOD_KEYS = benchmarkMethods("");

    /** Per-method recipe for class-wise forgetting: benchmark.METHOD.class.{epochs,lr}. */
    public static final java.util.Map<String, StageSettings> BENCHMARK_CLASS_KEYS = benchmarkMethods(".class");

    private static java.util.Map<String, StageSettings> benchmarkMethods(String kind) {
        java.util.Map<String, StageSettings> keys = new java.util.LinkedHashMap<>();
        Object[][] defaults = {
            {"ft", 0.05, 3, "0.02,0.05,0.1"},
            {"ga", 0.001, 3, "0.0005,0.001,0.002,0.005"},
            {"rl", 0.05, 3, "0.02,0.05,0.1"},
            {"l1-sparse", 0.05, 3, "0.02,0.05,0.1"},
            {"salun", 0.05, 3, "0.02,0.05,0.1"},
            {"neggrad+", 0.01, 3, "0.003,0.01,0.03"},
            {"scrub", 0.001, 3, "0.0003,0.001,0.003"},
            {"sfron", 0.01, 3, "0.003,0.01,0.03"},
        };
        for (Object[] d : defaults) {
            String m = (String) d[0];
            StageSettings.Defaults group = StageSettings.of("benchmark." + keyName(m) + kind, "benchmark " + m + " (and " + m
                    + "+mask)" + (kind.isEmpty() ? "" : " on class-wise scenarios")).epochs((Integer) d[2]).lr((Double) d[1]);
            if (kind.isEmpty()) {
                group.lrGrid((String) d[3]).epochsGrid("");
            }
            keys.put(m, StageSettings.declare(C, group));
        }
        return java.util.Collections.unmodifiableMap(keys);
    }

    /** A method's name in setting keys, which allow no '+': {@code neggrad+} is {@code neggrad-plus}. */
    public static String keyName(String method) {
        return method.replace("+", "-plus");
    }

    /** The catalogue, in the order help lists it: every setting above, added where it is declared. */
    public static final List<Setting<?>> ALL = C.all();

    /** The settings that decide the original model (its cache key). */
    public static final List<Setting<?>> TRAINING_KEYS = List.of(SEED, DATA_DIR, DATA_SUBSET, DATA_CLASSES, MODEL_ARCH,
            TRAIN.epochs(), TRAIN.batch(), TRAIN.localSteps(), TRAIN.optimizer(), TRAIN.lr(),
            TRAIN.momentum(), TRAIN.weightDecay(), PARTITIONS);

    /** The settings that decide the diffusion model (its cache key). */
    public static final List<Setting<?>> DIFFUSION_TRAINING_KEYS = List.of(SEED, DATA_FORMAT, DATA_DIR, DATA_TRAIN,
            DATA_SUBSET, DIFFUSION_WIDTH, DIFFUSION_DEPTH, DIFFUSION.epochs(), DIFFUSION.batch(),
            DIFFUSION.localSteps(), DIFFUSION.lr(), DIFFUSION_P_UNCOND, PARTITIONS);

    /**
     * Settings that also decide the original model but enter its cache key only when changed from
     * their defaults, so the keys of models trained before they existed stay valid.
     */
    public static final List<Setting<?>> TRAINING_KEYS_IF_SET = List.of(DATA_FORMAT, DATA_TRAIN, DATA_TEST,
            DATA_HEIGHT, DATA_WIDTH, DATA_CHANNELS, DATA_LAYOUT, MODEL_WIDTH, TRAIN.lrSchedule());
}
