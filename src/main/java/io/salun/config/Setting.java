package io.salun.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * One declared setting: its key, value type, default, description, validator and the
 * human-readable {@code expectation} quoted in error messages ("an integer in [1, 1000]").
 *
 * <p>Supported types: {@link String}, {@link Integer}, {@link Long}, {@link Double},
 * {@link Boolean}, and {@code Optional<String>} for a setting that may be absent (its text
 * form is empty when absent). Values are parsed strictly from trimmed text: integers are
 * ASCII digits with an optional sign, decimals are plain or scientific notation (no NaN,
 * infinities, hex or type suffixes), booleans are {@code true}/{@code false}.
 *
 * <p>Declare settings with the factories ({@link #integer}, {@link #decimal}, ...); the
 * canonical constructor checks that the default itself passes the validator, so a faulty
 * catalogue fails when it is built, not when a run happens to rely on the default.
 */
public record Setting<T>(String key, Class<T> type, T defaultValue, String description,
        Predicate<T> validator, String expectation) {

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL =
            Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    private static final List<Class<?>> SUPPORTED =
            List.of(String.class, Integer.class, Long.class, Double.class, Boolean.class, Optional.class);

    /** Validates the declaration; a failure here is a programming error in the catalogue. */
    public Setting {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(defaultValue, "defaultValue (use optionalString for an absent default)");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(validator, "validator");
        Objects.requireNonNull(expectation, "expectation");
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("setting key must match " + KEY + ", found '" + key + "'");
        }
        if (!SUPPORTED.contains(type)) {
            throw new IllegalArgumentException("setting '" + key + "': unsupported type " + type.getName());
        }
        if (!type.isInstance(defaultValue)) {
            throw new IllegalArgumentException("setting '" + key + "': default " + defaultValue
                    + " is not a " + type.getSimpleName());
        }
        if (description.isBlank() || expectation.isBlank()) {
            throw new IllegalArgumentException("setting '" + key + "': description and expectation are required");
        }
        if (!validator.test(defaultValue)) {
            throw new IllegalArgumentException("setting '" + key + "': default " + defaultValue
                    + " is not " + expectation);
        }
    }

    /** Any non-empty text. */
    public static Setting<String> string(String key, String defaultValue, String description) {
        return new Setting<>(key, String.class, defaultValue, description, s -> !s.isEmpty(), "non-empty text");
    }

    /** Text that may be absent; absent by default, and an empty value means absent. */
    public static Setting<Optional<String>> optionalString(String key, String description) {
        @SuppressWarnings("unchecked")
        Class<Optional<String>> type = (Class<Optional<String>>) (Class<?>) Optional.class;
        return new Setting<>(key, type, Optional.empty(), description, o -> true, "text, or empty for none");
    }

    /** An {@code int} in the inclusive range {@code [min, max]}. */
    public static Setting<Integer> integer(String key, int defaultValue, int min, int max, String description) {
        requireOrdered(key, min, max);
        return new Setting<>(key, Integer.class, defaultValue, description, v -> v >= min && v <= max,
                "an integer in [" + min + ", " + max + "]");
    }

    /** A {@code long} in the inclusive range {@code [min, max]}. */
    public static Setting<Long> longInteger(String key, long defaultValue, long min, long max, String description) {
        requireOrdered(key, min, max);
        return new Setting<>(key, Long.class, defaultValue, description, v -> v >= min && v <= max,
                "an integer in [" + min + ", " + max + "]");
    }

    /** A finite {@code double} inside {@code range}, e.g. {@code Interval.openClosed(0, 1)} for (0, 1]. */
    public static Setting<Double> decimal(String key, double defaultValue, Interval range, String description) {
        Objects.requireNonNull(range, "range");
        return new Setting<>(key, Double.class, defaultValue, description, range::contains,
                "a finite number in " + range);
    }

    /** {@code true} or {@code false}. */
    public static Setting<Boolean> bool(String key, boolean defaultValue, String description) {
        return new Setting<>(key, Boolean.class, defaultValue, description, b -> true, "true or false");
    }

    /** One of the {@code allowed} words, compared case-sensitively. */
    public static Setting<String> oneOf(String key, String defaultValue, List<String> allowed, String description) {
        List<String> choices = List.copyOf(allowed);
        if (choices.isEmpty()) {
            throw new IllegalArgumentException("setting '" + key + "': no allowed values");
        }
        return new Setting<>(key, String.class, defaultValue, description, choices::contains,
                "one of " + choices);
    }

    /**
     * Parses and validates {@code text} (trimmed first: trailing blanks in properties files are
     * invisible and never intended).
     *
     * @param origin where the text came from, for the message ("the settings file", ...)
     * @throws InvalidInputException naming the key, the expectation and the text found
     */
    T parse(String text, String origin) {
        String trimmed = text.trim();
        T value;
        try {
            value = type.cast(convert(trimmed));
        } catch (NumberFormatException e) {
            throw invalid(text, origin);
        }
        if (value == null || !validator.test(value)) {
            throw invalid(text, origin);
        }
        return value;
    }

    /** The text form of {@code value}: parsing it gives {@code value} back. */
    String format(Object value) {
        if (value instanceof Optional<?> optional) {
            return optional.map(Object::toString).orElse("");
        }
        return value.toString();
    }

    /** Converts trimmed text to the declared type, or returns null when it is not of that form. */
    private Object convert(String text) {
        if (type == String.class) {
            return text;
        }
        if (type == Optional.class) {
            return text.isEmpty() ? Optional.empty() : Optional.of(text);
        }
        if (type == Boolean.class) {
            return text.equals("true") ? Boolean.TRUE : text.equals("false") ? Boolean.FALSE : null;
        }
        if (type == Integer.class) {
            return INTEGER.matcher(text).matches() ? Integer.valueOf(text) : null;
        }
        if (type == Long.class) {
            return INTEGER.matcher(text).matches() ? Long.valueOf(text) : null;
        }
        // Double: the only remaining supported type
        return DECIMAL.matcher(text).matches() ? Double.valueOf(text) : null;
    }

    private InvalidInputException invalid(String text, String origin) {
        return new InvalidInputException("setting '" + key + "' (" + origin + "): expected "
                + expectation + ", found '" + text + "'");
    }

    private static void requireOrdered(String key, long min, long max) {
        if (min > max) {
            throw new IllegalArgumentException("setting '" + key + "': empty range [" + min + ", " + max + "]");
        }
    }

    /**
     * A real interval with each end open or closed; an infinite bound is always open.
     * Non-finite values (NaN, ±∞) are never contained.
     */
    public record Interval(double lower, boolean lowerClosed, double upper, boolean upperClosed) {

        /** Checks that the interval is well formed and not empty. */
        public Interval {
            if (Double.isNaN(lower) || Double.isNaN(upper) || lower > upper
                    || lower == upper && !(lowerClosed && upperClosed)) {
                throw new IllegalArgumentException("empty or malformed interval " + describe(lower, lowerClosed, upper, upperClosed));
            }
            lowerClosed &= !Double.isInfinite(lower);
            upperClosed &= !Double.isInfinite(upper);
        }

        /** {@code (lower, upper)}. */
        public static Interval open(double lower, double upper) {
            return new Interval(lower, false, upper, false);
        }

        /** {@code [lower, upper]}. */
        public static Interval closed(double lower, double upper) {
            return new Interval(lower, true, upper, true);
        }

        /** {@code (lower, upper]}. */
        public static Interval openClosed(double lower, double upper) {
            return new Interval(lower, false, upper, true);
        }

        /** {@code [lower, upper)}. */
        public static Interval closedOpen(double lower, double upper) {
            return new Interval(lower, true, upper, false);
        }

        /** {@code [lower, +inf)}. */
        public static Interval atLeast(double lower) {
            return new Interval(lower, true, Double.POSITIVE_INFINITY, false);
        }

        /** {@code (lower, +inf)}. */
        public static Interval greaterThan(double lower) {
            return new Interval(lower, false, Double.POSITIVE_INFINITY, false);
        }

        /** Whether {@code v} is finite and inside the interval. */
        public boolean contains(double v) {
            return Double.isFinite(v)
                    && (lowerClosed ? v >= lower : v > lower)
                    && (upperClosed ? v <= upper : v < upper);
        }

        @Override
        public String toString() {
            return describe(lower, lowerClosed, upper, upperClosed);
        }

        private static String describe(double lower, boolean lowerClosed, double upper, boolean upperClosed) {
            return (lowerClosed ? "[" : "(") + bound(lower) + ", " + bound(upper) + (upperClosed ? "]" : ")");
        }

        private static String bound(double v) {
            if (Double.isInfinite(v)) {
                return v > 0 ? "+inf" : "-inf";
            }
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
        }
    }
}
