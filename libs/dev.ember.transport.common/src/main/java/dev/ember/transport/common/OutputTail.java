package dev.ember.transport.common;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Drains a Python process's output on a daemon thread: each line goes to the JVM's stderr with a prefix and the
 * last lines are kept for failure reports. For a daemon, the first line is its address, to be awaited, not output.
 */
public final class OutputTail {

    private static final int LINES = 40;

    private final Deque<String> tail = new ArrayDeque<>();
    private final CompletableFuture<String> firstLine = new CompletableFuture<>();

    /**
     * How a daemon's address line starts ({@code ember.daemon} prints it so): lines before it (a
     * {@code sitecustomize} or a warning printing first) are output like any other, not taken for the address.
     */
    public static final String ADDRESS_MARK = "EMBER-DAEMON-ADDRESS ";

    /**
     * How a daemon marks the lines of one forked worker ({@code ember.daemon} forwards them so, from a pipe per
     * worker): {@code "ember.worker <pid>: <line>"}. Its own notes about a worker say {@code "worker <pid> "}.
     */
    public static final String WORKER_MARK = "ember.worker ";
    private static final int WORKERS_KEPT = 256;

    /** The last lines of each forked worker (and the daemon's notes about it), by pid, for its failure report. */
    private final Map<Long, Deque<String>> byWorker = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Deque<String>> eldest) {
            return size() > WORKERS_KEPT;
        }
    };

    private final boolean hasAddress;

    /** @param hasAddress whether the process prints an address line (see {@link #ADDRESS_MARK}) */
    public OutputTail(InputStream output, String prefix, String threadName, boolean hasAddress) {
        this.hasAddress = hasAddress;
        Thread drain = new Thread(() -> drain(output, prefix), threadName);
        drain.setDaemon(true);
        drain.start();
    }

    private void drain(InputStream output, String prefix) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(output, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (hasAddress && !firstLine.isDone() && line.startsWith(ADDRESS_MARK)) {
                    firstLine.complete(line.substring(ADDRESS_MARK.length()));
                    continue;
                }
                synchronized (tail) {
                    keep(tail, line);
                    long worker = workerOf(line);
                    if (worker > 0) {
                        keep(byWorker.computeIfAbsent(worker, pid -> new ArrayDeque<>()), line);
                    }
                }
                System.err.println(prefix + line);
            }
        } catch (IOException e) {
            // The process is gone; what was read so far stays in the tail.
        }
        firstLine.complete(null);
    }

    /** The address a daemon printed (after {@link #ADDRESS_MARK}), or null if it ended without printing one. */
    public CompletableFuture<String> firstLine() {
        return firstLine;
    }

    private static void keep(Deque<String> lines, String line) {
        if (lines.size() == LINES) {
            lines.removeFirst();
        }
        lines.addLast(line);
    }

    /** The worker a daemon's line is about: marked as one of its lines, or a note naming it; 0 for neither. */
    static long workerOf(String line) {
        int start;
        if (line.startsWith(WORKER_MARK)) {
            start = WORKER_MARK.length();
        } else if (line.startsWith(DAEMON_NOTE)) {
            start = DAEMON_NOTE.length();
        } else {
            return 0;
        }
        int end = start;
        while (end < line.length() && Character.isDigit(line.charAt(end))) {
            end++;
        }
        try {
            return end > start ? Long.parseLong(line.substring(start, end)) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** How the daemon's own notes about a worker (how it ended) start. */
    private static final String DAEMON_NOTE = "ember.daemon: worker ";

    /** Adds a line of the JVM's own about the process, such as how it ended. */
    public void note(String line) {
        synchronized (tail) {
            keep(tail, line);
        }
    }

    public String lines() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    /** The last lines of one forked worker and the daemon's notes about it; none of another worker's. */
    public String linesOf(long workerPid) {
        synchronized (tail) {
            Deque<String> lines = byWorker.get(workerPid);
            return lines == null ? "" : String.join("\n", lines);
        }
    }
}
