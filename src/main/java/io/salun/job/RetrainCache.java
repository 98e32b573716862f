package io.salun.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.salun.config.InvalidInputException;
import io.salun.config.Settings;
import io.salun.config.StorageException;
import io.salun.data.Shard;
import io.salun.eval.Metrics;
import io.salun.model.ModelStore;
import io.salun.model.Net;
import io.salun.model.NetworkSnapshot;
import io.salun.train.ParameterAveraging;
import io.salun.unlearn.Method;
import io.salun.unlearn.Stage;
import io.salun.unlearn.TrialOutcome;
import io.salun.unlearn.Unlearning;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A benchmark's Retrain, the gold standard of one seed: read from its cache when an earlier
 * benchmark trained it under the same key ({@link ModelPaths#retrain}: the training settings, the
 * original's configuration, the forget set, the partitions and the seed), otherwise trained and
 * cached. The cache holds the model and, beside it, the seconds and per-round losses of its
 * training, so the RTE column keeps Retrain's real cost and the report its loss history; a cached
 * Retrain is judged afresh like a trained one.
 */
final class RetrainCache {
    private static final Logger LOG = LoggerFactory.getLogger(RetrainCache.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private RetrainCache() {
    }

    static TrialOutcome<Metrics> retrain(JavaSparkContext sc, Settings settings, RunSetup.Classification c, long seed) {
        Stage stage = Unlearning.stage(Method.RETRAIN, Optional.empty(), Recipes.training(settings), c.inputs())
                .scoped("retrain");
        String path = ModelPaths.retrain(settings, c.original().config().json(), ModelPaths.forgetSetKey(forgetIds(c)),
                stage.data().getNumPartitions(), seed);
        String key = JobSettings.BENCHMARK_RETRAIN_DIR.key();
        Configuration conf = sc.hadoopConfiguration();
        String recordPath = path.substring(0, path.length() - ".zip".length()) + ".json";
        if (ModelStore.exists(path, conf) && ModelStore.exists(recordPath, conf)) {
            Record record = read(recordPath, key, conf);
            Net net = ModelStore.loadNet(path, key, conf);
            LOG.info("benchmark: seed {}: Retrain read from {} (its training took {} s)", seed, path,
                    String.format("%.1f", record.seconds()));
            return c.run().recorded(stage, NetworkSnapshot.of(net), record.seconds(), record.losses());
        }
        LOG.info("benchmark: seed {}: retraining from scratch on the retain set (the gold standard), to be cached in {}",
                seed, path);
        TrialOutcome<Metrics> retrain = c.run().train(stage);
        // the record first: a model without one is no cache entry, so a crash between the two retrains again.
        // A cache that cannot be written costs the next benchmark a Retrain, not this one its result.
        try {
            write(recordPath, new Record(retrain.seconds(), retrain.losses()), key, conf);
            TrainCommand.save(c.original().withParameters(retrain.model().parameters()).model(), path, true, key, conf);
        } catch (StorageException e) {
            LOG.warn("benchmark: seed {}: Retrain not cached: {}", seed, e.getMessage());
        }
        return retrain;
    }

    /** The forget set's record IDs in ascending order. */
    private static long[] forgetIds(RunSetup.Classification c) {
        List<long[]> parts = c.inputs().forget().map(RetrainCache::ids).collect();
        long[] all = parts.stream().flatMapToLong(Arrays::stream).toArray();
        Arrays.sort(all);
        return all;
    }

    private static long[] ids(Shard shard) {
        long[] ids = new long[shard.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = shard.id(i);
        }
        return ids;
    }

    /** The training record kept beside a cached model: its seconds and per-round losses. */
    record Record(double seconds, List<ParameterAveraging.RoundLoss> losses) {
    }

    private static Record read(String uri, String key, Configuration conf) {
        List<String> text = new ArrayList<>(1);
        StorageException.guard(key, "read the cached Retrain's training record at", uri, () -> {
            Path p = new Path(uri);
            try (InputStream in = p.getFileSystem(conf).open(p)) {
                text.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        });
        try {
            JsonNode json = JSON.readTree(text.get(0));
            double seconds = json.get("seconds").asDouble(Double.NaN);
            List<ParameterAveraging.RoundLoss> losses = new ArrayList<>();
            for (JsonNode l : json.get("losses")) {
                losses.add(new ParameterAveraging.RoundLoss(l.get(0).asInt(), l.get(1).asInt(), l.get(2).asDouble(),
                        l.get(3).asLong()));
            }
            if (seconds >= 0 && Double.isFinite(seconds)) {
                return new Record(seconds, losses);
            }
        } catch (IOException | RuntimeException e) {
            // reported below
        }
        throw new InvalidInputException(key + ": expected a cached Retrain's training record (JSON with seconds and"
                + " losses) in " + uri + ", found '" + text.get(0).strip() + "'; delete it and the model beside it to retrain");
    }

    private static void write(String uri, Record record, String key, Configuration conf) {
        StorageException.guard(key, "cache the Retrain's training record at", uri, () -> {
            ObjectNode json = JSON.createObjectNode();
            json.put("seconds", record.seconds());
            ArrayNode losses = json.putArray("losses");
            for (ParameterAveraging.RoundLoss l : record.losses()) {
                losses.addArray().add(l.epoch()).add(l.round()).add(l.meanLoss()).add(l.examples());
            }
            Path target = new Path(uri);
            Path aside = new Path(target.getParent(), "." + target.getName() + ".writing");
            FileSystem fs = target.getFileSystem(conf);
            try (FSDataOutputStream out = fs.create(aside, true)) {
                out.write(JSON.writeValueAsBytes(json));
            }
            fs.delete(target, false);
            if (!fs.rename(aside, target)) {
                fs.delete(aside, false);
                throw new IOException("rename of " + aside + " to " + target + " failed");
            }
        });
    }
}
