package dev.ember.transport.common;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import dev.ember.api.frames.Frames;
import dev.ember.api.worker.WorkerChannel;

/** A worker reached through a pair of byte streams, whatever carries them (a socket or the worker's stdio). */
public final class StreamWorkerChannel implements WorkerChannel {

    private final String transport;
    private final long pid;
    /**
     * Looked up once: {@code ProcessHandle.of} reads {@code /proc/<pid>/stat}, and the pool asks about liveness for
     * every task. The handle also remembers the start time, so a reused pid does not pass for the worker.
     */
    private final ProcessHandle process;
    private final DataInputStream input;
    private final DataOutputStream output;
    private final Closeable connection;
    private final Supplier<String> outputTail;
    private volatile boolean closed;
    private volatile Runnable onClose = () -> {
    };

    public StreamWorkerChannel(String transport, long pid, InputStream in, OutputStream out, Closeable connection,
            Supplier<String> outputTail) {
        this.transport = transport;
        this.pid = pid;
        this.process = ProcessHandle.of(pid).orElse(null);
        this.input = new DataInputStream(new BufferedInputStream(in, 1 << 16));
        this.output = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
        this.connection = connection;
        this.outputTail = outputTail;
    }

    /** Runs once the channel is closed or aborted (the transport forgets it). */
    public void onClose(Runnable action) {
        onClose = action;
    }

    @Override
    public DataInputStream input() {
        return input;
    }

    @Override
    public DataOutputStream output() {
        return output;
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public String transport() {
        return transport;
    }

    @Override
    public boolean isAlive() {
        return !closed && process != null && process.isAlive();
    }

    @Override
    public String stderrTail() {
        return outputTail.get();
    }

    /** Asks the worker to exit by ending its stream, waits a moment for it, then kills it if it lingers. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            output.writeInt(Frames.END_OF_STREAM);
            output.flush();
        } catch (IOException e) {
            // Already disconnected: closing below is all that is left.
        }
        closeConnection();
        if (process != null) {
            try {
                process.onExit().get(2, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException e) {
                process.destroyForcibly();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        onClose.run();
    }

    @Override
    public void abort() {
        closed = true;
        ChildProcesses.kill(pid);
        closeConnection();
        onClose.run();
    }

    private void closeConnection() {
        try {
            connection.close();
        } catch (IOException e) {
            // Closing anyway.
        }
    }

    /** Sends the secret as a frame and reads the worker's pid, which the worker sends once it accepted it. */
    public static long handshake(InputStream in, OutputStream out, byte[] secret) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(secret.length);
        data.write(secret);
        data.flush();
        int pid = new DataInputStream(in).readInt();
        if (pid <= 0) {
            throw new IOException("worker handshake failed: got " + pid + " instead of a process id");
        }
        return pid;
    }
}
