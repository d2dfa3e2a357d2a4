package dev.ember.api.worker;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Starts Python workers and connects to them. Registered with the {@value #NAME_PROPERTY} property naming the
 * transport and a {@code service.ranking}; the engine binds the highest ranked one unless configured otherwise.
 */
@ProviderType
public interface WorkerTransport {

    /** Service property naming the transport, for example {@code tcp}. */
    String NAME_PROPERTY = "ember.transport";

    String name();

    /** Starts one worker for the given spec and returns a channel that is connected and authenticated. */
    WorkerChannel open(WorkerSpec spec) throws IOException;

    /**
     * Gets ready, in the background and without blocking, to open workers of this spec soon: a transport whose
     * workers are forked from a daemon starts the daemon now, so the first task does not wait for an interpreter
     * to start. Doing nothing is correct too.
     */
    default void prepare(WorkerSpec spec) {
    }
}
