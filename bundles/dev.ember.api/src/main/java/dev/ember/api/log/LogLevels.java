package dev.ember.api.log;

import org.osgi.annotation.versioning.ProviderType;

/** Sets the distribution's log level while it runs ({@code sc.setLogLevel}); provided by the logging bundle. */
@ProviderType
public interface LogLevels {

    /**
     * Applies a level at once, for the whole distribution.
     *
     * @param level one of Spark's names: ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF
     * @throws IllegalArgumentException for any other name
     */
    void set(String level);
}
