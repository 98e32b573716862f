package io.salun.data;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;

import java.util.Collections;

/** Packs each partition of examples into one cached {@link Shard}. */
public final class Shards {
    private Shards() {
    }

    /** One shard per partition, named and persisted in memory; the caller unpersists it. */
    public static JavaRDD<Shard> cache(JavaRDD<Example> examples, String name) {
        JavaRDD<Shard> shards = examples.mapPartitions(it -> Collections.singletonList(Shard.pack(it)).iterator());
        return shards.setName(name).persist(StorageLevel.MEMORY_ONLY());
    }
}
