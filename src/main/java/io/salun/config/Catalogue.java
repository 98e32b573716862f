package io.salun.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The settings of a job, each added where it is declared ({@code X = CATALOGUE.add(Setting...)}),
 * so the list the job validates and {@code settings} prints cannot miss a declared setting or name
 * one twice. Listed in the order of declaration.
 */
public final class Catalogue {
    private final List<Setting<?>> settings = new ArrayList<>();

    /** Adds {@code setting} and returns it, for declaring a constant in one expression. */
    public synchronized <T> Setting<T> add(Setting<T> setting) {
        for (Setting<?> s : settings) {
            if (s.key().equals(setting.key())) {
                throw new IllegalArgumentException("setting '" + setting.key() + "' is declared twice");
            }
        }
        settings.add(setting);
        return setting;
    }

    /** Every setting added so far, in the order they were declared. */
    public synchronized List<Setting<?>> all() {
        return List.copyOf(settings);
    }
}
