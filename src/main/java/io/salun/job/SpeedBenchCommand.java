package io.salun.job;

import io.salun.config.Settings;
import io.salun.data.Datasets;
import io.salun.data.Example;
import io.salun.data.Shard;
import io.salun.data.Shards;
import io.salun.data.SelectionStage;
import io.salun.mask.Bitset;
import io.salun.model.Architecture;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Optimizer;
import io.salun.report.OutputDir;
import io.salun.saliency.GradientSum;
import io.salun.saliency.SaliencyStage;
import io.salun.train.DataOrder;
import io.salun.train.GradientTerm;
import io.salun.train.Labelling;
import io.salun.train.LocalSteps;
import io.salun.train.RoundAverage;
import io.salun.train.ParameterAveraging;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import io.salun.spark.ShardAggregate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code bench}: how fast the engine is, on the network of {@code model.arch} (the reference LeNet
 * by default; {@code resnet18} at {@code model.width}) and Fashion-MNIST — one masked
 * fine-tuning epoch in a plain single-JVM DL4J loop and through the Spark engine, the same loop
 * without the mask (masking's cost), the saliency pass, and a round's broadcast + treeReduce with
 * no training in it; each after warm-up, repeated, reported as median and range; plus the peak
 * heap and resident memory of this JVM (the driver, and in local mode the executors too). Writes
 * {@code bench.json} and {@code bench.md}.
 */
final class SpeedBenchCommand {
    private static final Logger LOG = LoggerFactory.getLogger(SpeedBenchCommand.class);
    private static final Logger CONSOLE = LoggerFactory.getLogger("io.salun.console");

    private SpeedBenchCommand() {
    }

    /** Median, minimum and maximum of repeated measurements. */
    record Stats(double median, double min, double max, int n) {
        static Stats of(List<Double> values) {
            List<Double> sorted = new ArrayList<>(values);
            Collections.sort(sorted);
            int n = sorted.size();
            double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
            return new Stats(median, sorted.get(0), sorted.get(n - 1), n);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("median", median);
            m.put("min", min);
            m.put("max", max);
            m.put("repetitions", n);
            return m;
        }
    }

    static String run(JavaSparkContext sc, Settings settings) {
        Instant started = Instant.now();
        int records = settings.get(JobSettings.BENCH_RECORDS);
        int warmup = settings.get(JobSettings.BENCH_WARMUP);
        int repetitions = settings.get(JobSettings.BENCH_REPETITIONS);
        int batch = settings.get(JobSettings.UNLEARN.batch());
        int partitions = settings.get(JobSettings.PARTITIONS) > 0 ? settings.get(JobSettings.PARTITIONS) : sc.defaultParallelism();
        long seed = settings.get(JobSettings.SEED);
        String output = settings.get(JobSettings.BENCH_OUTPUT).orElseGet(() -> "work/bench/"
                + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started));
        try (OutputDir out = RunSetup.openOutput(sc, settings, output, "bench")) {
            Datasets data = RunSetup.load(sc, settings);
            long available = data.training().count();
            if (records > available) {
                throw new io.salun.config.InvalidInputException("bench.records: expected at most the " + available
                        + " training records (data.subset), found " + records);
            }
            JavaRDD<Example> sample = SelectionStage.take(data.training(), seed, "bench", records)
                    .map(e -> e.withForget(e.id() % 10 == 0));
            JavaRDD<Shard> spread = Shards.cache(sample.repartition(partitions), "bench shards");
            JavaRDD<Shard> single = Shards.cache(sample.coalesce(1), "bench shard");
            JavaRDD<Shard> forget = Shards.cache(sample.filter(Example::forget), "bench forget shards");
            Shard all = single.first();
            long forgetCount = forget.map(Shard::size).fold(0, Integer::sum);
            int classes = settings.get(JobSettings.DATA_CLASSES);

            Optimizer sgd = new Optimizer("sgd", settings.get(JobSettings.UNLEARN.lr()), settings.get(JobSettings.UNLEARN.momentum()),
                    settings.get(JobSettings.UNLEARN.weightDecay()), 0);
            Architecture arch = Architecture.parse(settings.get(JobSettings.MODEL_ARCH));
            NetworkSnapshot start = NetworkSnapshot.of(arch.network(data.rows(), data.cols(), data.channels(), classes, seed,
                    sgd, settings.get(JobSettings.MODEL_WIDTH), false));
            Bitset mask = new Bitset(start.size());
            for (int i = 0; i < start.size(); i += 2) {
                mask.set(i);
            }
            Labelling labelling = Labelling.randomForgetLabels(seed, classes, true);
            int steps = LocalSteps.batchesPerEpoch(all.size(), batch);
            LocalSteps.Round wholeEpoch = new LocalSteps.Round("bench", seed, 0, 0, batch, steps, classes,
                    DataOrder.MIXED, labelling, new GradientTerm.None());
            ParameterAveraging.Plan plan = new ParameterAveraging.Plan("bench", 1, batch,
                    settings.get(JobSettings.UNLEARN.localSteps()), classes, seed, DataOrder.MIXED, labelling,
                    new GradientTerm.None(), settings.get(JobSettings.TREE_DEPTH));
            LOG.info("bench: {} ({} parameters), {} records ({} to forget), batch {}, {} partitions, {} warm-up + {}"
                    + " repetitions each", arch.name().toLowerCase(java.util.Locale.ROOT), start.size(), all.size(), forgetCount, batch, partitions, warmup, repetitions);

            Map<String, Object> results = new LinkedHashMap<>();
            // process CPU time beside wall time: on a shared machine the wall clock also counts the
            // time other processes held the core; CPU seconds count only this JVM's own work
            Map<String, Stats> cpu = new LinkedHashMap<>();
            ParameterAveraging.Plan oneStep = new ParameterAveraging.Plan(plan.stage(), plan.epochs(), plan.batchSize(), 1,
                    plan.classes(), plan.seed(), plan.order(), plan.targets(), plan.term(), plan.treeDepth());
            String plainName = "plain DL4J loop, masked";
            String unmaskedName = "plain DL4J loop, no mask";
            String oneName = "Spark engine, 1 partition";
            String oneStepName = "Spark engine, 1 partition, 1 local step";
            String allName = "Spark engine, " + partitions + " partitions";
            Map<String, Runnable> epochs = new LinkedHashMap<>();
            epochs.put(plainName, () -> LocalSteps.run(start, Optional.of(mask), all, 0, wholeEpoch));
            epochs.put(unmaskedName, () -> LocalSteps.run(start, Optional.empty(), all, 0, wholeEpoch));
            epochs.put(oneName, () -> ParameterAveraging.train(sc, start, single, plan, Optional.of(mask)));
            epochs.put(oneStepName, () -> ParameterAveraging.train(sc, start, single, oneStep, Optional.of(mask)));
            epochs.put(allName, () -> ParameterAveraging.train(sc, start, spread, plan, Optional.of(mask)));
            Map<String, Stats> epochStats = measureInterleaved(cpu, warmup, repetitions, epochs);
            Stats plain = epochStats.get(plainName);
            Stats unmasked = epochStats.get(unmaskedName);
            Stats sparkOne = epochStats.get(oneName);
            Stats sparkOneStep = epochStats.get(oneStepName);
            Stats sparkAll = epochStats.get(allName);
            Stats saliency = measure(cpu, "saliency pass", warmup, repetitions, () ->
                    SaliencyStage.gradientSum(sc, start, forget, settings.get(JobSettings.SALIENCY_BATCH), classes,
                            settings.get(JobSettings.TREE_DEPTH)));
            Stats round = measure(cpu, "empty round (broadcast + merge)", warmup, repetitions, () ->
                    ParameterAveraging.emptyRound(sc, start, spread, settings.get(JobSettings.TREE_DEPTH)));
            Stats inference = measure(cpu, "inference, plain DL4J (batch 500)", warmup, repetitions, () ->
                    io.salun.eval.Predictions.count(start.net(), all, 500, classes));
            int parameters = start.size();
            Stats gradientReduce = measure(cpu, "gradient treeReduce", warmup, repetitions, () ->
                    ShardAggregate.reduce(spread, (nothing, partition, it) -> Optional.of(GradientSum.empty(parameters)),
                            GradientSum::merge, settings.get(JobSettings.TREE_DEPTH)));

            results.put("fineTuningEpoch", Map.of(
                    "plainMasked", throughput(plain, all.size()),
                    "plainUnmasked", throughput(unmasked, all.size()),
                    "sparkOnePartition", throughput(sparkOne, all.size()),
                    "sparkOnePartitionOneLocalStep", throughput(sparkOneStep, all.size()),
                    "sparkAllPartitions", throughput(sparkAll, all.size())));
            results.put("inferencePlain", throughput(inference, all.size()));
            results.put("saliencyPass", throughput(saliency, forgetCount));
            results.put("emptyRoundSeconds", round.json());
            results.put("gradientTreeReduceSeconds", gradientReduce.json());
            double maskingOverhead = plain.median() / unmasked.median() - 1;
            double sparkOverhead = sparkOne.median() / plain.median();
            results.put("maskingOverhead", maskingOverhead);
            results.put("sparkOverheadOnePartition", sparkOverhead);
            results.put("sparkOverheadOnePartitionOneLocalStep", sparkOneStep.median() / plain.median());
            results.put("sparkSpeedupAllPartitions", sparkOne.median() / sparkAll.median());
            Map<String, Object> cpuJson = new LinkedHashMap<>();
            cpu.forEach((what, st) -> cpuJson.put(what, st.json()));
            results.put("processCpuSeconds", cpuJson);
            double maskingOverheadCpu = cpu.get("plain DL4J loop, masked").median()
                    / cpu.get("plain DL4J loop, no mask").median() - 1;
            results.put("maskingOverheadCpu", maskingOverheadCpu);
            results.put("memory", io.salun.report.PeakMemory.ofThisJvm());
            Map<String, Object> setup = new LinkedHashMap<>();
            setup.put("arch", arch.name().toLowerCase(java.util.Locale.ROOT));
            setup.put("width", arch == Architecture.RESNET18 ? settings.get(JobSettings.MODEL_WIDTH) : null);
            setup.put("parameters", start.size());
            setup.put("records", all.size());
            setup.put("forgetRecords", forgetCount);
            setup.put("batch", batch);
            setup.put("localSteps", plan.localSteps());
            setup.put("partitions", partitions);
            setup.put("cores", Runtime.getRuntime().availableProcessors());
            setup.put("ompThreads", System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
            setup.put("warmup", warmup);
            setup.put("oneDnn", io.salun.model.NativeHelpers.oneDnnActive());
            setup.put("nd4jNativeBuild", io.salun.model.NativeHelpers.buildInfo());
            results.put("setup", setup);
            Optional<Map<String, Object>> torch = arch == Architecture.MLP ? Optional.empty()
                    : pytorch(settings, arch, all.size(), warmup, repetitions);
            torch.ifPresent(t -> {
                results.put("pytorch", t);
                results.put("dl4jOverPytorchTraining", (all.size() / plain.median()) / rate(t, "trainingEpoch"));
                results.put("dl4jOverPytorchInference", (all.size() / inference.median()) / rate(t, "inference"));
                cpuRate(t, "trainingEpoch").ifPresent(r -> results.put("dl4jOverPytorchTrainingCpu",
                        (all.size() / cpu.get("plain DL4J loop, masked").median()) / r));
            });
            io.salun.report.Provenance.of(settings, sc, started).addTo(results);

            String md = markdown(all.size(), forgetCount, partitions, batch, plain, unmasked, sparkOne, sparkOneStep, sparkAll,
                    saliency, round, gradientReduce, maskingOverhead, sparkOverhead, plan.localSteps())
                    + String.format(java.util.Locale.ROOT, "%nInference (batch 500, plain DL4J): %.0f records/s.%n",
                            all.size() / inference.median())
                    + cpuMarkdown(cpu, all.size(), forgetCount, maskingOverheadCpu)
                    + String.format(java.util.Locale.ROOT, "%nND4J: %s; DL4J oneDNN layer helpers %s.%n",
                            io.salun.model.NativeHelpers.buildInfo(),
                            io.salun.model.NativeHelpers.oneDnnActive() ? "in use" : "not in use")
                    + torch.map(t -> String.format(java.util.Locale.ROOT, "PyTorch %s on %s thread(s), same network and"
                            + " records: training %.0f records/s (DL4J %.2f×), inference %.0f records/s (DL4J %.2f×).%n",
                            t.get("torch"), t.get("threads"), rate(t, "trainingEpoch"),
                            (all.size() / plain.median()) / rate(t, "trainingEpoch"), rate(t, "inference"),
                            (all.size() / inference.median()) / rate(t, "inference"))
                            + cpuRate(t, "trainingEpoch").map(r -> String.format(java.util.Locale.ROOT,
                                    "By process CPU time: PyTorch training %.0f records per CPU-second (DL4J %.2f×).%n", r,
                                    (all.size() / cpu.get("plain DL4J loop, masked").median()) / r)).orElse(""))
                    .orElse("PyTorch: not measured (bench.pytorch=off, python3 with torch not installed:"
                            + " apt-get install python3-torch, or the MLP, which has no PyTorch twin here).\n");
            out.writeText("bench.json", io.salun.report.Report.toJson(results));
            out.writeText("bench.md", md);
            out.publish();
            spread.unpersist();
            single.unpersist();
            forget.unpersist();
            CONSOLE.info(md);
            CONSOLE.info("bench: {}", out.published("bench.json"));
            return out.uri();
        }
    }

    /**
     * The same network (the LeNet, or ResNet-18 at model.width) in PyTorch on the same records and
     * thread count (bench/pytorch_lenet.py), when
     * bench.pytorch allows and python3 with torch is there; a benchmark dependency only.
     */
    @SuppressWarnings("unchecked")
    private static Optional<Map<String, Object>> pytorch(Settings settings, Architecture arch, int records, int warmup,
                                                         int repetitions) {
        Path script = Path.of("bench", "pytorch_lenet.py");
        if (settings.get(JobSettings.BENCH_PYTORCH).equals("off") || !Files.isRegularFile(script)
                || !settings.get(JobSettings.DATA_FORMAT).equals("idx")) {
            return Optional.empty();
        }
        String threads = System.getenv().getOrDefault("OMP_NUM_THREADS", "1");
        try {
            // Debian's torch is for Debian's python3; SALUN_PYTHON names another interpreter
            String python = System.getenv().getOrDefault("SALUN_PYTHON",
                    Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3");
            Process p = new ProcessBuilder(python, script.toString(), "--data", settings.get(JobSettings.DATA_DIR),
                    "--records", String.valueOf(records), "--threads", threads, "--repetitions",
                    String.valueOf(repetitions), "--warmup", String.valueOf(Math.max(1, warmup)), "--arch",
                    arch.name().toLowerCase(java.util.Locale.ROOT), "--width",
                    String.valueOf(settings.get(JobSettings.MODEL_WIDTH))).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                LOG.warn("bench: PyTorch comparison skipped: {}", err.lines().reduce((a, b) -> b).orElse("python3 failed"));
                return Optional.empty();
            }
            return Optional.of(new com.fasterxml.jackson.databind.ObjectMapper().readValue(out.trim(), Map.class));
        } catch (IOException e) {
            LOG.warn("bench: PyTorch comparison skipped: {}", e.toString());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    @SuppressWarnings("unchecked")
    private static double rate(Map<String, Object> torch, String what) {
        Map<String, Object> m = (Map<String, Object>) ((Map<String, Object>) torch.get(what)).get("recordsPerSecond");
        return ((Number) m.get("median")).doubleValue();
    }

    /**
     * Times each of {@code works} {@code repetitions} times, interleaved (A B C, A B C, …) after
     * {@code warmup} interleaved warm-ups: whatever drifts during the run (the JIT compiling Spark's
     * paths on a pinned core, another process's load) falls on every row alike, so the ratios
     * between rows hold where back-to-back blocks would flatter the later ones.
     */
    private static Map<String, Stats> measureInterleaved(Map<String, Stats> cpu, int warmup, int repetitions,
                                                         Map<String, Runnable> works) {
        for (int i = 0; i < warmup; i++) {
            works.values().forEach(Runnable::run);
        }
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, List<Double>> cpuTimes = new LinkedHashMap<>();
        for (int i = 0; i < repetitions; i++) {
            for (Map.Entry<String, Runnable> w : works.entrySet()) {
                long c0 = processCpuNanos();
                long t0 = System.nanoTime();
                w.getValue().run();
                times.computeIfAbsent(w.getKey(), k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e9);
                cpuTimes.computeIfAbsent(w.getKey(), k -> new ArrayList<>()).add((processCpuNanos() - c0) / 1e9);
            }
        }
        Map<String, Stats> out = new LinkedHashMap<>();
        for (String what : works.keySet()) {
            out.put(what, logged(cpu, what, times.get(what), cpuTimes.get(what)));
        }
        return out;
    }

    private static Stats measure(Map<String, Stats> cpu, String what, int warmup, int repetitions, Runnable work) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        List<Double> times = new ArrayList<>();
        List<Double> cpuTimes = new ArrayList<>();
        for (int i = 0; i < repetitions; i++) {
            long c0 = processCpuNanos();
            long t0 = System.nanoTime();
            work.run();
            times.add((System.nanoTime() - t0) / 1e9);
            cpuTimes.add((processCpuNanos() - c0) / 1e9);
        }
        return logged(cpu, what, times, cpuTimes);
    }

    private static Stats logged(Map<String, Stats> cpu, String what, List<Double> times, List<Double> cpuTimes) {
        Stats s = Stats.of(times);
        Stats c = Stats.of(cpuTimes);
        cpu.put(what, c);
        LOG.info("bench: {}: median {} s (min {}, max {}); process CPU median {} s (min {})", what,
                String.format("%.3f", s.median()), String.format("%.3f", s.min()), String.format("%.3f", s.max()),
                String.format("%.3f", c.median()), String.format("%.3f", c.min()));
        return s;
    }

    /** CPU time of every thread of this JVM so far (0 where the platform does not report it). */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }

    @SuppressWarnings("unchecked")
    private static Optional<Double> cpuRate(Map<String, Object> torch, String what) {
        Object cpu = ((Map<String, Object>) torch.get(what)).get("cpuSeconds");
        if (!(cpu instanceof Map<?, ?> m) || !(m.get("median") instanceof Number median) || median.doubleValue() <= 0) {
            return Optional.empty();
        }
        return Optional.of(((Number) torch.get("records")).doubleValue() / median.doubleValue());
    }

    private static String cpuMarkdown(Map<String, Stats> cpu, long records, long forget, double maskingOverheadCpu) {
        StringBuilder md = new StringBuilder(String.format(java.util.Locale.ROOT, "%nProcess CPU time (all threads of"
                + " this JVM; other processes' load does not count): masking costs %+.1f %% by CPU time.%n%n"
                + "| measurement | CPU median | CPU range | records per CPU-second (median) |%n|---|---:|---:|---:|%n",
                100 * maskingOverheadCpu));
        cpu.forEach((what, s) -> {
            long n = what.startsWith("saliency") ? forget
                    : what.startsWith("empty") || what.startsWith("gradient") ? 0 : records;
            row(md, what, s, n);
        });
        return md.toString();
    }

    private static Map<String, Object> throughput(Stats seconds, long records) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seconds", seconds.json());
        m.put("recordsPerSecond", Map.of("median", records / seconds.median(), "min", records / seconds.max(),
                "max", records / seconds.min()));
        return m;
    }

    private static String markdown(long records, long forget, int partitions, int batch, Stats plain, Stats unmasked,
                                   Stats sparkOne, Stats sparkOneStep, Stats sparkAll, Stats saliency, Stats round,
                                   Stats reduce, double maskingOverhead, double sparkOverhead, int localSteps) {
        StringBuilder md = new StringBuilder();
        md.append("| measurement | median | range | records/s (median) |\n|---|---:|---:|---:|\n");
        row(md, "masked fine-tuning epoch, plain DL4J loop (1 thread)", plain, records);
        row(md, "fine-tuning epoch without the mask, plain DL4J loop", unmasked, records);
        row(md, "masked fine-tuning epoch, Spark engine, 1 partition, " + localSteps + " local steps", sparkOne, records);
        row(md, "masked fine-tuning epoch, Spark engine, 1 partition, 1 local step", sparkOneStep, records);
        row(md, "masked fine-tuning epoch, Spark engine, " + partitions + " partitions, " + localSteps + " local steps",
                sparkAll, records);
        row(md, "saliency pass (gradient sum + merges) over " + forget + " records", saliency, forget);
        row(md, "one round with no training: broadcast of parameters and state, merge on the executors, mean to the driver",
                round, 0);
        row(md, "treeReduce of a gradient sum (N doubles per partition)", reduce, 0);
        md.append(String.format(java.util.Locale.ROOT, "%nBatch %d, %d records. Masking costs %+.1f %% of a plain"
                + " step; the Spark engine on 1 partition takes %.3f× the plain loop's time at %d local steps and"
                + " %.3f× at 1; %d partitions give %.2f× the records/s of 1.%n", batch, records,
                100 * maskingOverhead, sparkOverhead, localSteps, sparkOneStep.median() / plain.median(), partitions,
                sparkOne.median() / sparkAll.median()));
        return md.toString();
    }

    private static void row(StringBuilder md, String what, Stats s, long records) {
        md.append(String.format(java.util.Locale.ROOT, "| %s | %.3f s | %.3f–%.3f s | %s |%n", what, s.median(), s.min(),
                s.max(), records > 0 ? String.format(java.util.Locale.ROOT, "%.0f", records / s.median()) : "–"));
    }
}
