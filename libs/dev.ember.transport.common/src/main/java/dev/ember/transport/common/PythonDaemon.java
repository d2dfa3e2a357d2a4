package dev.ember.transport.common;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.ember.api.worker.WorkerSpec;

/**
 * A {@code python -m ember.daemon} process: it listens on a socket and forks a worker for each connection, so a new
 * worker costs a fork (milliseconds) instead of an interpreter start. It prints its address on a line of its own
 * that starts with {@link OutputTail#ADDRESS_MARK}.
 * It exits when its stdin closes, which is also what happens when this JVM dies.
 */
public final class PythonDaemon {

    private final Process process;
    private final OutputTail output;
    private final String address;

    private PythonDaemon(Process process, OutputTail output, String address) {
        this.process = process;
        this.output = output;
        this.address = address;
    }

    /** Starts a daemon for {@code transport} ({@code tcp} or {@code uds}) and waits until it is listening. */
    public static PythonDaemon start(WorkerSpec spec, String transport, Map<String, String> env, long timeoutMillis)
            throws IOException {
        Map<String, String> daemonEnv = new HashMap<>(env);
        daemonEnv.put("EMBER_DAEMON_TRANSPORT", transport);
        Process process = ChildProcesses.startPython(spec, "ember.daemon", daemonEnv, true);
        OutputTail output = new OutputTail(process.getInputStream(), "[python " + process.pid() + "] ",
                "ember-daemon-output-" + process.pid(), true);
        String address;
        try {
            address = output.firstLine().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            process.destroyForcibly();
            throw new IOException("the Python daemon did not start listening within " + timeoutMillis + " ms");
        } catch (ExecutionException | InterruptedException e) {
            process.destroyForcibly();
            throw new IOException("waiting for the Python daemon failed: " + e, e);
        }
        if (address == null) {
            waitBriefly(process);
            throw new IOException("the Python daemon exited before it was ready" + describeExit(process, output));
        }
        return new PythonDaemon(process, output, address);
    }

    private static void waitBriefly(Process process) {
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String describeExit(Process process, OutputTail output) {
        return ChildProcesses.describeExit(process.toHandle(), process.isAlive() ? null : process.exitValue(),
                output.lines());
    }

    /** The address the daemon printed: its port (TCP) or its socket's path (Unix socket). */
    public String address() {
        return address;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The last lines of one worker it forked (see {@link OutputTail#linesOf}). */
    public String outputOf(long workerPid) {
        return output.linesOf(workerPid);
    }


    public String describeExit() {
        return describeExit(process, output);
    }

    /** Closes the daemon's stdin, which makes it exit; kills it if it does not. Its workers are not touched. */
    public void stop() {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // It is going away anyway.
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
