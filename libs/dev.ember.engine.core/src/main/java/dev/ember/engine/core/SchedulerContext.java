package dev.ember.engine.core;

import java.io.IOException;
import java.util.concurrent.ExecutorService;

import dev.ember.api.codec.Codec;

/** What the stage loop and sessions need of the scheduler component that holds them. */
public interface SchedulerContext {

    /** The installed codec of this name, or null. */
    Codec codec(String name);

    /** Threads for stage loops and their tasks. */
    ExecutorService taskThreads();

    /** A new job id, unique in this scheduler. */
    int nextJobId();

    /** The barrier coordinator, started by the first barrier stage. */
    BarrierCoordinator barriers() throws IOException;

    /** Called once a session has closed and freed what it held. */
    void sessionClosed(SchedulerSession session);

    /**
     * Who observes every job (the registered engine monitors, as one), or null when nobody does: then the stage loop
     * builds no monitoring records at all.
     */
    default dev.ember.api.monitor.EngineMonitor monitor() {
        return null;
    }

    /** What to say when no codec of this name is installed. */
    static String missingCodec(String name) {
        return "codec '" + name + "' is not installed: install the bundle dev.ember.codec." + name
                + " (copy dev.ember.codec." + name + "-*.jar into load/ of the distribution; no restart needed)";
    }
}
