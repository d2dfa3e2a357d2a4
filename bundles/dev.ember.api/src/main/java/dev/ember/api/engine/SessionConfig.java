package dev.ember.api.engine;

import java.util.Map;
import java.util.Objects;

/**
 * What a driver tells the engine about itself when it opens a session.
 *
 * @param appName     the application name, for logs and shell listings
 * @param parallelism how many tasks of this session may run at once ({@code local[N]})
 * @param pythonExec  the Python interpreter workers run
 * @param workerEnv   extra environment for workers (for example {@code PYTHONPATH})
 * @param maxTaskFailures how many times a task may fail (its worker lost, or its code raising) before the job
 *                    fails ({@code spark.task.maxFailures})
 * @param workerMemoryLimit the most resident memory, in bytes, a worker may use while it runs a task of this
 *                    session before the engine stops it and fails the job; 0 for no limit
 *                    ({@code spark.executor.pyspark.memory})
 * @param master      the driver's master URL as it gave it ({@code local[4]}, {@code ember-cluster://host:port}), or
 *                    "" when unknown; an engine that reaches other machines finds them through it
 * @param settings    the driver's settings meant for the engine: its {@code spark.ember.*} configuration and
 *                    {@code ember.python.version} (the driver interpreter's {@code major.minor})
 * @param driverPid   the driver's process id as it reports it (for logs and listings), or 0 when unknown
 */
public record SessionConfig(String appName, int parallelism, String pythonExec, Map<String, String> workerEnv,
        int maxTaskFailures, long workerMemoryLimit, String master, Map<String, String> settings, long driverPid) {

    /** A session without a worker memory limit, master or settings. */
    public SessionConfig(String appName, int parallelism, String pythonExec, Map<String, String> workerEnv,
            int maxTaskFailures) {
        this(appName, parallelism, pythonExec, workerEnv, maxTaskFailures, 0, "", Map.of());
    }

    /** A session whose driver's process id is not known. */
    public SessionConfig(String appName, int parallelism, String pythonExec, Map<String, String> workerEnv,
            int maxTaskFailures, long workerMemoryLimit, String master, Map<String, String> settings) {
        this(appName, parallelism, pythonExec, workerEnv, maxTaskFailures, workerMemoryLimit, master, settings, 0);
    }

    /** The same session settings with another parallelism (an engine that knows its slots better says so). */
    public SessionConfig withParallelism(int slots) {
        return new SessionConfig(appName, slots, pythonExec, workerEnv, maxTaskFailures, workerMemoryLimit, master,
                settings, driverPid);
    }

    public SessionConfig {
        Objects.requireNonNull(appName, "appName");
        Objects.requireNonNull(pythonExec, "pythonExec");
        Objects.requireNonNull(master, "master");
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
        }
        workerEnv = Map.copyOf(workerEnv);
        settings = Map.copyOf(settings);
        if (maxTaskFailures < 1) {
            throw new IllegalArgumentException("maxTaskFailures must be at least 1, got " + maxTaskFailures);
        }
        if (workerMemoryLimit < 0) {
            throw new IllegalArgumentException("workerMemoryLimit must not be negative, got " + workerMemoryLimit);
        }
        if (driverPid < 0) {
            throw new IllegalArgumentException("driverPid must not be negative, got " + driverPid);
        }
    }
}
