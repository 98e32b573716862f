package io.salun.data;

import java.io.Serializable;
import java.util.Iterator;
import java.util.Arrays;

/**
 * The examples of one Spark partition laid out contiguously: built once per partition and cached,
 * so that every training round slices minibatches out of flat arrays instead of churning
 * per-record objects. Row {@code i} has features {@code features[i*d .. (i+1)*d)}.
 */
public final class Shard implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long[] ids;
    private final int[] labels;
    private final boolean[] forget;
    private final float[] features;
    private final int featureLength;

    public Shard(long[] ids, int[] labels, boolean[] forget, float[] features, int featureLength) {
        int n = ids.length;
        if (labels.length != n || forget.length != n || features.length != (long) n * featureLength) {
            throw new IllegalArgumentException("shard arrays disagree: " + n + " ids, " + labels.length
                    + " labels, " + forget.length + " flags, " + features.length + " features of length "
                    + featureLength);
        }
        this.ids = ids;
        this.labels = labels;
        this.forget = forget;
        this.features = features;
        this.featureLength = featureLength;
    }

    /** Packs the examples of one partition; an empty partition gives an empty shard. */
    public static Shard pack(Iterator<Example> examples) {
        int capacity = 256;
        long[] ids = new long[capacity];
        int[] labels = new int[capacity];
        boolean[] forget = new boolean[capacity];
        float[] features = new float[0];
        int d = -1;
        int n = 0;
        while (examples.hasNext()) {
            Example e = examples.next();
            if (d < 0) {
                d = e.features().length;
                features = new float[capacity * d];
            } else if (e.features().length != d) {
                throw new IllegalArgumentException("record " + e.id() + " has " + e.features().length
                        + " features where the partition's first record has " + d);
            }
            if (n == ids.length) {
                capacity *= 2;
                ids = Arrays.copyOf(ids, capacity);
                labels = Arrays.copyOf(labels, capacity);
                forget = Arrays.copyOf(forget, capacity);
                features = Arrays.copyOf(features, capacity * d);
            }
            ids[n] = e.id();
            labels[n] = e.label();
            forget[n] = e.forget();
            System.arraycopy(e.features(), 0, features, n * d, d);
            n++;
        }
        if (d < 0) {
            return new Shard(new long[0], new int[0], new boolean[0], new float[0], 0);
        }
        return new Shard(Arrays.copyOf(ids, n), Arrays.copyOf(labels, n), Arrays.copyOf(forget, n),
                Arrays.copyOf(features, n * d), d);
    }

    /** The rows {@code keep} accepts, in their order, as a new shard (ids, labels, flags and features copied). */
    public Shard select(java.util.function.IntPredicate keep) {
        int n = 0;
        for (int i = 0; i < size(); i++) {
            n += keep.test(i) ? 1 : 0;
        }
        long[] outIds = new long[n];
        int[] outLabels = new int[n];
        boolean[] outForget = new boolean[n];
        float[] outFeatures = new float[n * featureLength];
        int j = 0;
        for (int i = 0; i < size(); i++) {
            if (keep.test(i)) {
                outIds[j] = ids[i];
                outLabels[j] = labels[i];
                outForget[j] = forget[i];
                System.arraycopy(features, i * featureLength, outFeatures, j * featureLength, featureLength);
                j++;
            }
        }
        return new Shard(outIds, outLabels, outForget, outFeatures, featureLength);
    }

    public int size() {
        return ids.length;
    }

    public int featureLength() {
        return featureLength;
    }

    public long id(int row) {
        return ids[row];
    }

    public int label(int row) {
        return labels[row];
    }

    public boolean forget(int row) {
        return forget[row];
    }

    /** Copies row {@code row}'s features into {@code dest} at {@code offset}. */
    public void copyFeatures(int row, float[] dest, int offset) {
        System.arraycopy(features, row * featureLength, dest, offset, featureLength);
    }

    /** Number of rows flagged as forget-set members. */
    public int forgetCount() {
        int c = 0;
        for (boolean f : forget) {
            if (f) {
                c++;
            }
        }
        return c;
    }
}
