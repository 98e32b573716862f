package io.salun.spark;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Captures what every logger emits (message and stack trace) while a piece of code runs. */
public final class LogCapture {
    private LogCapture() {
    }

    /** Runs {@code body} with every configured logger at {@code level} or finer; returns the lines logged. */
    public static List<String> during(Level level, Runnable body) {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        AbstractAppender appender = new AbstractAppender("capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                StringBuilder text = new StringBuilder(event.getMessage().getFormattedMessage());
                if (event.getThrown() != null) {
                    StringWriter trace = new StringWriter();
                    event.getThrown().printStackTrace(new PrintWriter(trace));
                    text.append('\n').append(trace);
                }
                lines.add(text.toString());
            }
        };
        appender.start();
        Map<LoggerConfig, Level> levels = new HashMap<>();
        // the root logger may be among getLoggers() too: each config once, or its level is restored wrongly
        java.util.Set<LoggerConfig> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        all.addAll(config.getLoggers().values());
        all.add(config.getRootLogger());
        for (LoggerConfig logger : all) {
            levels.put(logger, logger.getLevel());
            if (logger.getLevel().isMoreSpecificThan(level)) {
                logger.setLevel(level);
            }
            logger.addAppender(appender, level, null);
        }
        ctx.updateLoggers();
        try {
            body.run();
        } finally {
            for (LoggerConfig logger : all) {
                logger.removeAppender("capture");
                logger.setLevel(levels.get(logger));
            }
            ctx.updateLoggers();
            appender.stop();
        }
        return new ArrayList<>(lines);
    }
}
