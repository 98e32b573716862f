package io.salun.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Command lines for the job in tests: a command, a test's default settings, and overrides that replace them. */
public final class JobArgs {
    private JobArgs() {
    }

    /** {@code command} with {@code defaults}, each {@code --key=value} of {@code more} replacing the default of its key. */
    public static String[] of(String command, List<String> defaults, String... more) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String o : defaults) {
            options.put(key(o), o);
        }
        for (String o : more) {
            options.put(key(o), o);
        }
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(options.values());
        return args.toArray(String[]::new);
    }

    private static String key(String option) {
        int eq = option.indexOf('=');
        return eq < 0 ? option : option.substring(0, eq);
    }
}
