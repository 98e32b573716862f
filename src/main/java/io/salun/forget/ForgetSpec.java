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
 *   <li>{@link Ids}: the records whose IDs are listed, one per line, in a text file.</li>
 * </ul>
 */
public sealed interface ForgetSpec {

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

    record Ids(String uri) implements ForgetSpec {
        @Override
        public String scenario() {
            return "ids";
        }
    }
}
