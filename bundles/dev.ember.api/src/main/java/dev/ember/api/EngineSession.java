package dev.ember.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** One driver's view of the engine. Closing it cancels its jobs and frees its data. */
@ProviderType
public interface EngineSession extends AutoCloseable {

    String id();

    SessionConfig config();

    /**
     * Stores driver-supplied input (for example {@code parallelize} data) as opaque frames, one list of
     * frames per partition, and returns the id a {@link StageInput#dataset(int)} refers to.
     */
    int storeDataset(List<List<byte[]>> partitionFrames);

    /** Frees a dataset stored with {@link #storeDataset(List)}; unknown ids are ignored. */
    void dropDataset(int datasetId);

    /** Keeps a broadcast variable's pickled value; workers whose tasks name it get it once. */
    void storeBroadcast(int broadcastId, byte[] value);

    /** Forgets a broadcast variable; workers drop their copy with their next task. */
    void dropBroadcast(int broadcastId);

    /** Deletes a shuffle's output (memory and spill files); a later job that needs it recomputes it. */
    void dropShuffle(int shuffleId);

    /** Drops the cached partitions of an RDD. */
    void unpersist(int rddId);

    /** Cancels one running job; an unknown or finished job is ignored. */
    void cancelJob(int jobId, String reason);

    /** Cancels the running jobs of a job group (see {@link JobPlan#jobGroup()}). */
    void cancelJobGroup(String jobGroup, String reason);

    /** Cancels every running job of this session. */
    void cancelAllJobs(String reason);

    /** Starts a job and returns at once; results are read through the handle. */
    JobHandle submit(JobPlan plan, JobListener listener);

    /** Cancels running jobs and frees everything this session holds. */
    @Override
    void close();
}
