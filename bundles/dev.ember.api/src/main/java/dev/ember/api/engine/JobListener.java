package dev.ember.api.engine;

import org.osgi.annotation.versioning.ConsumerType;

/** Observes a job's progress. Called from engine threads; implementations must return quickly. */
@ConsumerType
public interface JobListener {

    JobListener NONE = new JobListener() {
    };

    default void onJobStart(int jobId, int stageCount) {
    }

    default void onStageStart(int jobId, int stageId, int taskCount) {
    }

    default void onTaskStart(int jobId, int stageId, int partition, int attempt) {
    }

    default void onTaskEnd(int jobId, int stageId, int partition, boolean succeeded) {
    }

    default void onStageEnd(int jobId, int stageId, boolean succeeded) {
    }

    default void onJobEnd(int jobId, boolean succeeded) {
    }

    /**
     * Whether this listener wants what tasks print: then workers send their output lines through the engine
     * ({@link #onTaskOutput}) rather than to their own standard error.
     */
    default boolean wantsTaskOutput() {
        return false;
    }

    /** A line a task printed (labelled by the worker with stage and partition), if {@link #wantsTaskOutput}. */
    default void onTaskOutput(int jobId, int stageId, int partition, String line) {
    }
}
