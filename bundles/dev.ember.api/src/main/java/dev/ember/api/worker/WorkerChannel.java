package dev.ember.api.worker;

import dev.ember.api.frames.Frames;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A connected Python worker: a pair of byte streams speaking the worker frame protocol ({@link Frames}).
 * Closing the channel ends the worker process.
 */
@ProviderType
public interface WorkerChannel extends Closeable {

    DataInputStream input();

    DataOutputStream output();

    /** The worker's process id. */
    long pid();

    /** The name of the transport that opened this channel. */
    String transport();

    /** False once the worker process has exited or the channel is closed. */
    boolean isAlive();

    /** The last lines the worker wrote to its standard error, for failure reports. */
    String stderrTail();

    /** Ends the worker gracefully: asks it to exit, then makes sure it did. May take a moment. */
    @Override
    void close();

    /** Kills the worker process at once (a cancelled task); the channel is closed afterwards. */
    void abort();
}
