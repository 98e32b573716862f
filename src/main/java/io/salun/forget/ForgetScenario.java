package io.salun.forget;

import io.salun.config.InvalidInputException;
import io.salun.data.Datasets;
import io.salun.data.Example;
import io.salun.data.SelectionStage;
import io.salun.data.Shard;
import io.salun.data.Shards;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One forgetting scenario on Spark: the training set split into Df and Dr, and the cached shards
 * every stage reads — D with its forget flags, Df, Dr, Dt, and the MIA attack's training sets:
 * members sampled from Dr and non-members from Dt' (the test set without forgotten classes),
 * {@code min(|Dt'|, |Dr|)} of each, seeded. Closing it unpersists them.
 */
public final class ForgetScenario implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ForgetScenario.class);

    private final ForgetSpec spec;
    private final ForgetSplit.Result split;
    private final JavaRDD<Shard> all;
    private final JavaRDD<Shard> forget;
    private final JavaRDD<Shard> retain;
    private final JavaRDD<Shard> test;
    private final JavaRDD<Shard> members;
    private final JavaRDD<Shard> nonMembers;
    private final long testCount;

    private ForgetScenario(ForgetSpec spec, ForgetSplit.Result split, JavaRDD<Shard> all, JavaRDD<Shard> forget,
                     JavaRDD<Shard> retain, JavaRDD<Shard> test, JavaRDD<Shard> members, JavaRDD<Shard> nonMembers,
                     long testCount) {
        this.spec = spec;
        this.split = split;
        this.all = all;
        this.forget = forget;
        this.retain = retain;
        this.test = test;
        this.members = members;
        this.nonMembers = nonMembers;
        this.testCount = testCount;
    }

    /**
     * Splits {@code data}'s training set by {@code spec} and caches every set a run reads.
     *
     * @param failOnUnknownIds refuse a deletion list with IDs no training record has
     *                         ({@code forget.unknown-ids=fail}) rather than count them
     * @throws InvalidInputException if the list has unknown IDs (and that fails), the forget set
     *                               is empty, or nothing would be retained
     */
    public static ForgetScenario prepare(JavaSparkContext sc, Datasets data, ForgetSpec spec, long seed,
                                         boolean failOnUnknownIds) {
        ForgetSplit.Result split = ForgetSplit.apply(sc, data.training(), data.idTable(), spec, seed);
        if (split.unknownIds() > 0 && failOnUnknownIds) {
            throw new InvalidInputException("forget.ids: " + split.unknownIds() + " IDs of the deletion list match no"
                    + " training record; check the list and the data, or set forget.unknown-ids=ignore to count them"
                    + " in the report and go on");
        }
        if (split.unknownIds() > 0) {
            LOG.warn("forget.ids: {} IDs of the deletion list match no training record (forget.unknown-ids=ignore)",
                    split.unknownIds());
        }
        if (split.forget() == 0) {
            throw new InvalidInputException("forget set is empty: scenario " + spec.scenario()
                    + " selects none of the " + split.retain() + " training records"
                    + (spec instanceof ForgetSpec.Ids ? " (" + split.unknownIds() + " listed IDs are not in the training set)" : ""));
        }
        if (split.retain() == 0) {
            throw new InvalidInputException("forget set is the whole training set (" + split.forget()
                    + " records): nothing would be retained; choose a smaller forget set");
        }
        LOG.info("scenario {}: {} records to forget, {} to retain", spec.scenario(), split.forget(), split.retain());
        JavaRDD<Example> retained = split.flagged().filter(e -> !e.forget());
        JavaRDD<Shard> test = Shards.cache(data.test(), "Dt shards");
        java.util.Set<Integer> forgotten = spec.forgottenClasses();
        JavaRDD<Example> testRetained = data.test().filter(e -> !forgotten.contains(e.label()));
        long testCount = test.map(Shard::size).fold(0, Integer::sum);
        // the attack's two training sets are balanced: |Dt'| of each, or |Dr| of each when Dr is smaller
        long n = Math.min(testRetained.count(), split.retain());
        JavaRDD<Example> memberSample = SelectionStage.take(retained, seed, "mia-members", n);
        JavaRDD<Example> nonMemberSample = SelectionStage.take(testRetained, seed, "mia-non-members", n);
        return new ForgetScenario(spec, split,
                Shards.cache(split.flagged(), "D shards (flagged)"),
                Shards.cache(split.flagged().filter(Example::forget), "Df shards"),
                Shards.cache(retained, "Dr shards"),
                test,
                Shards.cache(memberSample, "MIA member shards"),
                Shards.cache(nonMemberSample, "MIA non-member shards"),
                testCount);
    }

    public ForgetSpec spec() {
        return spec;
    }

    /** The split's counts (forget, retain, unknown and excluded IDs) and the flagged training set. */
    public ForgetSplit.Result split() {
        return split;
    }

    /** D with its forget flags, one cached shard per partition. */
    public JavaRDD<Shard> all() {
        return all;
    }

    /** Df. */
    public JavaRDD<Shard> forget() {
        return forget;
    }

    /** Dr. */
    public JavaRDD<Shard> retain() {
        return retain;
    }

    /** Dt. */
    public JavaRDD<Shard> test() {
        return test;
    }

    /** The membership attack's members: a seeded sample of Dr. */
    public JavaRDD<Shard> members() {
        return members;
    }

    /** The membership attack's non-members: a seeded sample of Dt without forgotten classes. */
    public JavaRDD<Shard> nonMembers() {
        return nonMembers;
    }

    /** |Dt|. */
    public long testCount() {
        return testCount;
    }

    @Override
    public void close() {
        all.unpersist();
        forget.unpersist();
        retain.unpersist();
        test.unpersist();
        members.unpersist();
        nonMembers.unpersist();
    }
}
