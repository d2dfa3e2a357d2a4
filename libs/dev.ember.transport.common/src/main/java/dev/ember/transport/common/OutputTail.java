package dev.ember.transport.common;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
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
                    if (tail.size() == LINES) {
                        tail.removeFirst();
                    }
                    tail.addLast(line);
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

    /** Adds a line of the JVM's own about the process, such as how it ended. */
    public void note(String line) {
        synchronized (tail) {
            if (tail.size() == LINES) {
                tail.removeFirst();
            }
            tail.addLast(line);
        }
    }

    public String lines() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }
}
