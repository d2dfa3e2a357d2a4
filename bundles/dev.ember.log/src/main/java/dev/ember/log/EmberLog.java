package dev.ember.log;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.log.admin.LoggerAdmin;
import org.osgi.service.metatype.annotations.Designate;

import dev.ember.api.log.LogLevels;

/**
 * The distribution's log, through the OSGi Log Service: what Ember's bundles (and the JDK's own platform logging)
 * write with {@code System.Logger} is bridged from {@code java.util.logging} into the Log Service, whose entries this
 * component writes to {@code logs/ember.log}, rotated by size, or to standard error when no file is set (a JVM
 * launched by a driver, which reads its output). The level comes from configuration PID {@code dev.ember.log}
 * ({@code conf/dev.ember.log.cfg}), and changes at run time when that configuration does, or through the
 * {@link LogLevels} service this component provides ({@code sc.setLogLevel}, via the gateway).
 */
@Component(immediate = true, configurationPid = EmberLog.PID, service = LogLevels.class)
@Designate(ocd = LogConfig.class)
public final class EmberLog implements LogListener, LogLevels {

    static final String PID = "dev.ember.log";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneId.systemDefault());

    private final LoggerFactory loggers;
    private final LogReaderService reader;
    private final LoggerAdmin admin;
    private final BridgeHandler bridge = new BridgeHandler();
    private Handler[] replacedHandlers = new Handler[0];
    private volatile RotatingFile file;
    /** The Log Service records every bundle and service event at INFO; below DEBUG they would drown Ember's own. */
    private volatile LogLevel frameworkEvents = LogLevel.WARN;

    @Activate
    public EmberLog(@Reference LoggerFactory loggers, @Reference LogReaderService reader,
            @Reference LoggerAdmin admin, LogConfig config) throws IOException {
        this.loggers = loggers;
        this.reader = reader;
        this.admin = admin;
        apply(config);
        reader.addLogListener(this);
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        // The JDK's console handler would print every record a second time, outside the Log Service.
        replacedHandlers = root.getHandlers();
        for (Handler handler : replacedHandlers) {
            root.removeHandler(handler);
        }
        root.addHandler(bridge);
    }

    @Modified
    void modified(LogConfig config) throws IOException {
        apply(config);
    }

    @Deactivate
    void deactivate() throws IOException {
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.removeHandler(bridge);
        for (Handler handler : replacedHandlers) {
            root.addHandler(handler);
        }
        reader.removeLogListener(this);
        RotatingFile current = file;
        file = null;
        if (current != null) {
            current.close();
        }
    }

    /** A driver's {@code sc.setLogLevel}: applied before this returns, until the configuration changes again. */
    @Override
    public synchronized void set(String level) {
        applyLevel(level.strip().toUpperCase(Locale.ROOT));
    }

    private void applyLevel(String level) {
        java.util.logging.Level jul = julLevel(level);
        LogLevel osgi = osgiLevel(level);
        java.util.logging.Logger.getLogger("").setLevel(jul);
        admin.getLoggerContext(null).setLogLevels(Map.of(Logger.ROOT_LOGGER_NAME, osgi));
        frameworkEvents = osgi.implies(LogLevel.DEBUG) ? osgi : LogLevel.WARN;
    }

    private synchronized void apply(LogConfig config) throws IOException {
        applyLevel(config.level().strip().toUpperCase(Locale.ROOT));
        String configured = config.file().isBlank() ? System.getenv().getOrDefault("EMBER_LOG_FILE", "")
                : config.file();
        Path target = configured.isBlank() ? null : Path.of(configured).toAbsolutePath();
        RotatingFile current = file;
        long maxBytes = Math.max(1, config.maxFileSizeMB()) * 1024L * 1024;
        if (current != null && (target == null || !current.path().equals(target))) {
            file = null;
            current.close();
            current = null;
        }
        if (target != null && current == null) {
            file = new RotatingFile(target, maxBytes, config.maxFiles());
        }
    }

    /** Spark's level names (log4j's) as java.util.logging levels. */
    static Level julLevel(String level) {
        return switch (level) {
            case "ALL" -> Level.ALL;
            case "TRACE" -> Level.FINEST;
            case "DEBUG" -> Level.FINE;
            case "INFO" -> Level.INFO;
            case "WARN" -> Level.WARNING;
            case "ERROR", "FATAL" -> Level.SEVERE;
            case "OFF" -> Level.OFF;
            default -> throw new IllegalArgumentException("unknown log level '" + level
                    + "' (ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF)");
        };
    }

    static LogLevel osgiLevel(String level) {
        return switch (level) {
            case "ALL", "TRACE" -> LogLevel.TRACE;
            case "DEBUG" -> LogLevel.DEBUG;
            case "INFO" -> LogLevel.INFO;
            case "WARN" -> LogLevel.WARN;
            case "ERROR", "FATAL" -> LogLevel.ERROR;
            case "OFF" -> LogLevel.AUDIT; // only audit entries, which are always logged
            default -> throw new IllegalArgumentException("unknown log level '" + level + "'");
        };
    }

    /** Writes an entry of the Log Service to the file, or to standard error when there is none. */
    @Override
    public void logged(LogEntry entry) {
        if (entry.getLoggerName().startsWith("Events.") && !frameworkEvents.implies(entry.getLogLevel())) {
            return;
        }
        StringBuilder line = new StringBuilder(TIME.format(Instant.ofEpochMilli(entry.getTime()))).append(' ')
                .append(String.format("%-5s", entry.getLogLevel())).append(' ').append(entry.getLoggerName())
                .append(": ").append(entry.getMessage()).append('\n');
        if (entry.getException() != null) {
            StringWriter trace = new StringWriter();
            entry.getException().printStackTrace(new PrintWriter(trace));
            line.append(trace);
        }
        RotatingFile current = file;
        if (current == null) {
            System.err.print(line);
            return;
        }
        try {
            current.write(line.toString());
        } catch (IOException e) {
            System.err.print("ember: cannot write the log file " + current.path() + " (" + e.getMessage() + "): "
                    + line);
        }
    }

    /** Hands java.util.logging records (System.Logger's default backend) to the Log Service. */
    private final class BridgeHandler extends Handler {

        @Override
        public void publish(LogRecord record) {
            if (!isLoggable(record)) {
                return;
            }
            Logger logger = loggers.getLogger(record.getLoggerName() == null ? "jul" : record.getLoggerName());
            String message = format(record);
            Throwable thrown = record.getThrown();
            int level = record.getLevel().intValue();
            if (level >= Level.SEVERE.intValue()) {
                logger.error("{}", message, thrown);
            } else if (level >= Level.WARNING.intValue()) {
                logger.warn("{}", message, thrown);
            } else if (level >= Level.INFO.intValue()) {
                logger.info("{}", message, thrown);
            } else if (level >= Level.FINE.intValue()) {
                logger.debug("{}", message, thrown);
            } else {
                logger.trace("{}", message, thrown);
            }
        }

        private String format(LogRecord record) {
            String message = record.getMessage();
            Object[] parameters = record.getParameters();
            if (message == null || parameters == null || parameters.length == 0) {
                return String.valueOf(message);
            }
            try {
                return java.text.MessageFormat.format(message, parameters);
            } catch (IllegalArgumentException e) {
                return message;
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
