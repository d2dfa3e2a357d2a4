package dev.ember.api;

import org.osgi.annotation.versioning.ProviderType;

/** The scheduler service. Each connected driver works inside its own {@link EngineSession}. */
@ProviderType
public interface Engine {

    /** Opens a session for one driver: its jobs, datasets and workers' settings. */
    EngineSession openSession(SessionConfig config);
}
