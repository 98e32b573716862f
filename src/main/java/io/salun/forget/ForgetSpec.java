package io.salun.forget;

import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which training records to forget:
 * <ul>
 *   <li>{@link Random}: a seeded uniform {@code fraction} of the training set (exactly
 *       {@code round(fraction · |D|)} records; scenario {@code random10} is fraction 0.1);</li>
 *   <li>{@link Classes}: every record of the given labels (scenario {@code class0} is label 0);</li>
 *   <li>{@link Ids}: the records whose IDs a deletion list names ({@link DeletionList}).</li>
 * </ul>
 */
public sealed interface ForgetSpec {

    /**
     * Parses a scenario name as reports print it: {@code random10} (percent), {@code class0},
     * {@code class3+5}; {@code ids} is the deletion list {@code ids}.
     */
    static ForgetSpec parse(String name, java.util.Optional<Ids> ids) {
        String n = name.trim();
        try {
            if (n.startsWith("random")) {
                return new Random(Double.parseDouble(n.substring("random".length())) / 100.0);
            }
            if (n.startsWith("class")) {
                Set<Integer> labels = new TreeSet<>();
                for (String part : n.substring("class".length()).split("\\+")) {
                    labels.add(Integer.parseInt(part));
                }
                return new Classes(labels);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scenario '" + name + "': expected randomPERCENT (e.g. random10),"
                    + " classLABEL[+LABEL...] (e.g. class0) or ids", e);
        }
        if (n.equals("ids")) {
            return ids.orElseThrow(() -> new IllegalArgumentException(
                    "scenario ids: needs forget.ids=PATH, a deletion list of record IDs"));
        }
        throw new IllegalArgumentException("scenario '" + name + "': expected randomPERCENT (e.g. random10),"
                + " classLABEL[+LABEL...] (e.g. class0) or ids");
    }

    /** The scenario's name in reports: {@code random10}, {@code class0}, {@code class3+5}, {@code ids}. */
    String scenario();

    /** Labels forgotten whole (class-wise forgetting), empty otherwise. */
    default Set<Integer> forgottenClasses() {
        return Collections.emptySet();
    }

    record Random(double fraction) implements ForgetSpec {
        public Random {
            if (!(fraction > 0 && fraction < 1)) {
                throw new IllegalArgumentException("forget.fraction: expected a value in (0, 1), found " + fraction);
            }
        }

        @Override
        public String scenario() {
            double percent = fraction * 100;
            return "random" + (percent == Math.rint(percent) ? String.valueOf((long) percent)
                    : String.format(Locale.ROOT, "%.2f", percent));
        }
    }

    record Classes(Set<Integer> labels) implements ForgetSpec {
        public Classes {
            if (labels.isEmpty()) {
                throw new IllegalArgumentException("forget.classes: expected at least one label, found none");
            }
            labels = Collections.unmodifiableSet(new TreeSet<>(labels));
        }

        @Override
        public String scenario() {
            return "class" + String.join("+", labels.stream().map(String::valueOf).toList());
        }

        @Override
        public Set<Integer> forgottenClasses() {
            return labels;
        }
    }

    /**
     * A deletion list: its URI, format ({@code auto}, {@code text}, {@code csv}, {@code parquet})
     * and ID column; for a deletion log that grows over time, the column of each request's time
     * and the window of this run: requests after {@code afterMicros} up to {@code upToMicros}
     * (microseconds since the epoch, UTC) are forgotten now, earlier ones were forgotten by an
     * earlier run and their records are left out of the training set.
     */
    record Ids(String uri, String format, String column, java.util.Optional<String> timeColumn,
               java.util.OptionalLong afterMicros, java.util.OptionalLong upToMicros) implements ForgetSpec {
        /** A list whose format is told by its name, with IDs in column {@code id}. */
        public Ids(String uri) {
            this(uri, "auto", "id");
        }

        /** A whole list, without a time window. */
        public Ids(String uri, String format, String column) {
            this(uri, format, column, java.util.Optional.empty(), java.util.OptionalLong.empty(),
                    java.util.OptionalLong.empty());
        }

        /** The same list restricted to requests after {@code after} (if any) up to {@code upTo}. */
        public Ids window(java.util.OptionalLong after, long upTo) {
            return new Ids(uri, format, column, timeColumn, after, java.util.OptionalLong.of(upTo));
        }

        @Override
        public String scenario() {
            return "ids";
        }
    }
}
