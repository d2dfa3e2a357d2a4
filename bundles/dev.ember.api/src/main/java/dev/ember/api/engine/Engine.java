package dev.ember.api.engine;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A scheduler. Each connected driver works inside its own {@link EngineSession}. Every engine service carries the
 * {@value #NAME_PROPERTY} property (set it with {@link EmberEngine}); a gateway picks the engine for a session from
 * the driver's master URL ({@code local[...]} is {@code local}, {@code ember-cluster://...} is {@code cluster}).
 */
@ProviderType
public interface Engine {

    /** Service property naming the engine, for example {@code local}. */
    String NAME_PROPERTY = "ember.engine";

    /** Opens a session for one driver: its jobs, datasets and workers' settings. */
    EngineSession openSession(SessionConfig config);

    /** The jobs running now, in all of this engine's sessions. */
    List<JobInfo> jobs();

    /** The sessions open now, for operators' listings. */
    List<SessionInfo> sessions();

    /**
     * Cancels a running job of any of this engine's sessions (an operator's request); its driver sees it fail with
     * the reason.
     *
     * @return whether a job with this id was running
     */
    boolean cancelJob(int jobId, String reason);

    /** The persisted RDDs of every open session, with what of them is stored now. */
    default List<CachedRdd> storage() {
        return List.of();
    }
}
