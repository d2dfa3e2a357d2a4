package dev.ember.api;

import org.osgi.annotation.versioning.ConsumerType;

/** Observes a job's progress. Called from engine threads; implementations must return quickly. */
@ConsumerType
public interface JobListener {

    JobListener NONE = new JobListener() {
    };

    default void onStageStart(int jobId, int stageId, int taskCount) {
    }

    default void onTaskEnd(int jobId, int stageId, int partition, boolean succeeded) {
    }

    default void onJobEnd(int jobId, boolean succeeded) {
    }
}
