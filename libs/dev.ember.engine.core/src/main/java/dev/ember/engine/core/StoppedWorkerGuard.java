package dev.ember.engine.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.ember.engine.core.WorkerPool.PooledWorker;

/**
 * A busy worker whose process is stopped (state {@code T} in {@code /proc/<pid>/stat}: SIGSTOP, a terminal's
 * Ctrl-Z, a debugger) would hold its task, and so its job, for ever: past the configured time it is killed, and the
 * task is retried on another worker like that of any lost worker. A worker that merely waits (for a barrier, in a
 * sleep, for input) is not stopped and is left alone.
 */
public final class StoppedWorkerGuard {

    private StoppedWorkerGuard() {
    }

    public static void check(PooledWorker worker, int timeoutSeconds, long now) {
        if (!stopped(worker.channel.pid())) {
            worker.stoppedSince = 0;
            return;
        }
        if (worker.stoppedSince == 0) {
            worker.stoppedSince = now;
            return;
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(now - worker.stoppedSince);
        if (seconds >= timeoutSeconds && worker.killedAfterStoppedSeconds == 0) {
            worker.killedAfterStoppedSeconds = seconds;
            worker.channel.abort();
        }
    }

    /** Whether a process is stopped or traced-stopped; false where that cannot be read. */
    static boolean stopped(long pid) {
        if (pid <= 0) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // "pid (comm) S ...": the command may hold spaces and parentheses, the state follows the last ')'.
            int end = stat.lastIndexOf(')');
            char state = end >= 0 && end + 2 < stat.length() ? stat.charAt(end + 2) : '?';
            return state == 'T' || state == 't';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
