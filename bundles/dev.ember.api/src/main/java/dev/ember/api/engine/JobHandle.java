package dev.ember.api.engine;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** A submitted job. Results come back partition by partition, in the order the plan asked for them. */
@ProviderType
public interface JobHandle {

    int jobId();

    /** How many result partitions the job produces (the length of {@link JobPlan#partitions()}). */
    int resultCount();

    /**
     * Waits for the output frames of the {@code position}-th requested partition.
     *
     * @throws JobFailedException if the job failed or was cancelled before that partition was done
     */
    List<byte[]> awaitResult(int position) throws InterruptedException, JobFailedException;

    /**
     * Waits for the job to end and returns the accumulator updates of its successful task attempts (one opaque frame
     * per task that reported any), so each task counts once however often it was retried.
     *
     * @throws JobFailedException if the job failed
     */
    List<byte[]> awaitAccumulatorUpdates() throws InterruptedException, JobFailedException;

    /** Releases the frames of a result already handed to the driver. */
    void releaseResult(int position);

    /**
     * Asks the job to hand its results to {@code sink} as they are made (frames of a running task included) instead
     * of keeping them for {@link #awaitResult}; results already made go to it first. The sink's calls are over when
     * {@link #awaitAccumulatorUpdates} returns or throws.
     *
     * @return false if this job does not stream its results (the default): use {@link #awaitResult} then
     * @throws IllegalStateException if a sink was attached before
     */
    default boolean attachResults(ResultSink sink) {
        return false;
    }

    void cancel(String reason);
}
