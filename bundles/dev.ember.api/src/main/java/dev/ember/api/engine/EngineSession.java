package dev.ember.api.engine;

import dev.ember.api.codec.FileSplit;
import java.io.IOException;
import java.util.List;
import java.util.Map;

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

    /**
     * Lists the files a path names (comma-separated paths, each a file, a directory's visible files or a glob) and
     * cuts them into splits as Hadoop's FileInputFormat does for local files: about {@code totalSize / minPartitions}
     * bytes each, at most 32 MiB, compressed files and files of an unsplittable codec whole. Returns the id an
     * {@link InputSegment#files} segment refers to; the number of splits is {@link #fileSplits}{@code (id).size()}.
     *
     * @throws java.io.FileNotFoundException when the path names no file
     * @throws IllegalStateException         when the codec is not installed
     */
    int openFiles(String path, int minPartitions, String codec, Map<String, String> options) throws IOException;

    /** The splits of a file input opened with {@link #openFiles}. */
    List<FileSplit> fileSplits(int fileInputId);

    /** How many malformed records the readers of a file input skipped, summed over its splits' latest reads. */
    long skippedRecords(int fileInputId);

    /** Forgets a file input; unknown ids are ignored. */
    void closeFiles(int fileInputId);

    /**
     * Reserves an output directory for a {@link StageOutput#files} stage and returns its id.
     *
     * @param options for the codec's writer (for example {@code compression=gzip})
     * @throws java.nio.file.FileAlreadyExistsException when the directory exists already
     */
    int createOutput(String directory, Map<String, String> options) throws IOException;

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
