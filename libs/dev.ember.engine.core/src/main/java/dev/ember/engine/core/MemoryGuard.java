package dev.ember.engine.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.ember.engine.core.WorkerPool.PooledWorker;

/**
 * Keeps a worker's resident memory under its session's limit ({@code spark.executor.pyspark.memory}): every
 * {@value #PERIOD_MS} ms the engine reads the RSS of each busy worker from {@code /proc/<pid>/status} and stops a
 * worker over the limit, so the task fails with a message naming the limit instead of the machine swapping. The
 * check runs in the JVM, so a worker stuck in native code is stopped as surely as one running Python.
 */
public final class MemoryGuard {

    public static final long PERIOD_MS = 100;

    private MemoryGuard() {
    }

    public static void check(PooledWorker worker, long limit) {
        long rss = residentBytes(worker.channel.pid());
        if (rss > limit && worker.stoppedAtRss == 0) {
            worker.stoppedAtRss = rss;
            worker.channel.abort();
        }
    }

    /** The resident set size of a process, or 0 where it cannot be read (no /proc, or the process is gone). */
    static long residentBytes(long pid) {
        if (pid <= 0) {
            return 0;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone or unreadable: nothing to guard.
        }
        return 0;
    }

    public static String megabytes(long bytes) {
        return (bytes / (1024 * 1024)) + " MiB";
    }
}
