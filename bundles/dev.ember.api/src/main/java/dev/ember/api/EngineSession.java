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

    /** Starts a job and returns at once; results are read through the handle. */
    JobHandle submit(JobPlan plan, JobListener listener);

    /** Cancels running jobs and frees everything this session holds. */
    @Override
    void close();
}
