package dev.ember.log;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Ember logging", description = "Where the distribution's log goes and how much of it")
@interface LogConfig {

    @AttributeDefinition(description = "Spark's level names: ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF")
    String level() default "INFO";

    @AttributeDefinition(description = "The log file; empty means the EMBER_LOG_FILE environment variable, and "
            + "without that the log goes to standard error")
    String file() default "";

    @AttributeDefinition(description = "Size at which the file is rotated, in MiB")
    int maxFileSizeMB() default 10;

    @AttributeDefinition(description = "How many rotated files (ember.log.1 ...) are kept")
    int maxFiles() default 5;
}
