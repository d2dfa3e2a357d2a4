package dev.ember.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** The scheduler service. Each connected driver works inside its own {@link EngineSession}. */
@ProviderType
public interface Engine {

    /** Opens a session for one driver: its jobs, datasets and workers' settings. */
    EngineSession openSession(SessionConfig config);

    /** The name of the transport new tasks use now, or null if none is bound. */
    String activeTransport();

    /** The workers the engine holds now. */
    List<WorkerInfo> workers();

    /** The jobs running now, in all sessions. */
    List<JobInfo> jobs();
}
