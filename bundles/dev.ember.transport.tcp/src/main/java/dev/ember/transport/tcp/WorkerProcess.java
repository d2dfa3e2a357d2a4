package dev.ember.transport.tcp;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;

import dev.ember.api.Frames;

/** A started Python worker process and the last lines of its output, kept for failure reports. */
final class WorkerProcess {

    private static final int TAIL_LINES = 40;

    private final Process process;
    private final Deque<String> tail = new ArrayDeque<>();

    WorkerProcess(Process process) {
        this.process = process;
        Thread drain = new Thread(this::drainOutput, "ember-worker-output-" + process.pid());
        drain.setDaemon(true);
        drain.start();
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    void onExit(Runnable action) {
        process.onExit().thenRun(action);
    }

    private void drainOutput() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (tail) {
                    if (tail.size() == TAIL_LINES) {
                        tail.removeFirst();
                    }
                    tail.addLast(line);
                }
                System.err.println("[worker " + process.pid() + "] " + line);
            }
        } catch (IOException e) {
            // The process is gone; what was read so far stays in the tail.
        }
    }

    String outputTail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    /** A sentence fragment saying how the process ended, with its last output, or "" if it still runs. */
    String describeExit() {
        if (process.isAlive()) {
            return "";
        }
        int code = process.exitValue();
        String how = code > 128 ? " (killed by signal " + (code - 128) + ")" : code < 0 ? " (killed by signal " + -code + ")" : "";
        String output = outputTail();
        return ": exit code " + code + how + (output.isEmpty() ? "" : "; its last output:\n" + output);
    }

    /** Asks the worker to exit by ending its stream, then makes sure it does. */
    void stopGracefully(DataOutputStream output, Closeable connection) {
        try {
            output.writeInt(Frames.END_OF_STREAM);
            output.flush();
        } catch (IOException e) {
            // Already disconnected: closing below is all that is left.
        }
        try {
            connection.close();
        } catch (IOException e) {
            // Nothing more to release.
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                destroy();
            }
        } catch (InterruptedException e) {
            destroy();
            Thread.currentThread().interrupt();
        }
    }

    void destroy() {
        process.destroyForcibly();
    }
}
