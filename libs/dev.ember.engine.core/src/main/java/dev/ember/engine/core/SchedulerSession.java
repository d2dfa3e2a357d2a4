package dev.ember.engine.core;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.ember.api.codec.Codec;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.codec.FileSplit;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.SessionInfo;
import dev.ember.api.worker.WorkerSpec;

/**
 * One driver's jobs and what they keep between jobs: datasets, broadcasts, shuffle outputs and cached RDDs, file
 * inputs and outputs. The same for every scheduler: where tasks run is its {@link TaskRunner}'s business.
 */
public final class SchedulerSession implements EngineSession {

    private final SchedulerContext engine;
    private final TaskRunner runner;
    private final String id;
    private final SessionConfig config;
    private final WorkerSpec workerSpec;
    private final Map<Integer, List<List<byte[]>>> datasets = new ConcurrentHashMap<>();
    private final Map<Integer, byte[]> broadcasts = new ConcurrentHashMap<>();
    private final Map<Integer, StoredOutputs> shuffles = new ConcurrentHashMap<>();
    private final Map<Integer, StoredOutputs> caches = new ConcurrentHashMap<>();
    private final Map<Integer, FileInput> fileInputs = new ConcurrentHashMap<>();
    private final Map<Integer, OutputDirectory> outputs = new ConcurrentHashMap<>();
    private final AtomicInteger fileIds = new AtomicInteger();
    private final Set<JobRun> jobs = ConcurrentHashMap.newKeySet();
    private final AtomicInteger datasetIds = new AtomicInteger();
    /** Stage and task attempt ids as TaskContext reports them: unique in the session, in the order they run. */
    private final AtomicInteger stageIds = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong taskAttemptIds = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final java.time.Instant openedAt = java.time.Instant.now();
    private static final System.Logger LOG = System.getLogger(SchedulerSession.class.getName());

    /** @param runner runs this session's task attempts */
    public SchedulerSession(SchedulerContext engine, String id, SessionConfig config, TaskRunner runner) {
        this.runner = runner;
        this.engine = engine;
        this.id = id;
        this.config = config;
        this.workerSpec = new WorkerSpec(config.pythonExec(), config.workerEnv());
        LOG.log(System.Logger.Level.INFO, ServiceLog.session(id, "opened", config));
    }

    /** What the shell shows of this session. */
    public SessionInfo info() {
        return new SessionInfo(id, config.appName(), config.driverPid(), config.master(), openedAt, jobs.size());
    }

    /**
     * Cancels this session's running job of this id, if there is one (an operator's request).
     *
     * @return whether there was one
     */
    public boolean cancelRunningJob(int jobId, String reason) {
        boolean found = false;
        for (JobRun job : List.copyOf(jobs)) {
            if (job.jobId() == jobId) {
                job.cancel(reason);
                found = true;
            }
        }
        return found;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public SessionConfig config() {
        return config;
    }

    /** Runs this session's task attempts. */
    public TaskRunner runner() {
        return runner;
    }

    /** The installed codec of this name, or null. */
    public Codec codec(String name) {
        return engine.codec(name);
    }

    public int nextStageId() {
        return stageIds.getAndIncrement();
    }

    public long nextTaskAttemptId() {
        return taskAttemptIds.getAndIncrement();
    }

    public WorkerSpec workerSpec() {
        return workerSpec;
    }

    @Override
    public int storeDataset(List<List<byte[]>> partitionFrames) {
        ensureOpen();
        List<List<byte[]>> copy = new ArrayList<>(partitionFrames.size());
        for (List<byte[]> frames : partitionFrames) {
            copy.add(List.copyOf(frames));
        }
        int datasetId = datasetIds.incrementAndGet();
        datasets.put(datasetId, List.copyOf(copy));
        return datasetId;
    }

    @Override
    public void dropDataset(int datasetId) {
        datasets.remove(datasetId);
    }

    public List<List<byte[]>> dataset(int datasetId) {
        return datasets.get(datasetId);
    }

    @Override
    public int openFiles(String path, int minPartitions, String codecName, Map<String, String> options)
            throws IOException {
        ensureOpen();
        Codec codec = engine.codec(codecName);
        if (codec == null) {
            throw new IllegalStateException(SchedulerContext.missingCodec(codecName));
        }
        List<FileSplit> splits = FileInput.split(FileInput.list(path), minPartitions, codec.splittable());
        int fileInputId = fileIds.incrementAndGet();
        fileInputs.put(fileInputId, new FileInput(codecName, options, splits));
        return fileInputId;
    }

    @Override
    public List<FileSplit> fileSplits(int fileInputId) {
        FileInput input = fileInputs.get(fileInputId);
        if (input == null) {
            throw new IllegalArgumentException("file input " + fileInputId + " is not open in session " + id);
        }
        return input.splits;
    }

    public FileInput fileInput(int fileInputId) {
        return fileInputs.get(fileInputId);
    }

    @Override
    public long skippedRecords(int fileInputId) {
        FileInput input = fileInputs.get(fileInputId);
        return input == null ? 0 : input.skipped();
    }

    @Override
    public void closeFiles(int fileInputId) {
        fileInputs.remove(fileInputId);
    }

    @Override
    public int createOutput(String directory, Map<String, String> options) throws IOException {
        ensureOpen();
        int outputId = fileIds.incrementAndGet();
        outputs.put(outputId, OutputDirectory.create(directory, options));
        return outputId;
    }

    public OutputDirectory output(int outputId) {
        return outputs.get(outputId);
    }

    /** Forgets an output once its job has committed or aborted it. */
    public void outputDone(int outputId) {
        outputs.remove(outputId);
    }

    @Override
    public void storeBroadcast(int broadcastId, byte[] value) {
        ensureOpen();
        broadcasts.put(broadcastId, Objects.requireNonNull(value, "value"));
    }

    @Override
    public void dropBroadcast(int broadcastId) {
        broadcasts.remove(broadcastId);
    }

    public Map<Integer, byte[]> broadcasts() {
        return broadcasts;
    }

    /** The stored output of a shuffle, created empty for {@code tasks} map tasks if it does not exist yet. */
    public StoredOutputs shuffle(int shuffleId, int tasks, int reducers) {
        return shuffles.computeIfAbsent(shuffleId, key -> new StoredOutputs(tasks, reducers));
    }

    public StoredOutputs existingShuffle(int shuffleId) {
        return shuffles.get(shuffleId);
    }

    public StoredOutputs cache(int rddId, int partitions) {
        return caches.computeIfAbsent(rddId, key -> new StoredOutputs(partitions, 1));
    }

    /** The session's persisted RDDs with what of them is stored, by RDD id. */
    public List<dev.ember.api.engine.CachedRdd> cachedRdds() {
        List<dev.ember.api.engine.CachedRdd> cached = new java.util.ArrayList<>();
        caches.forEach((rddId, store) -> {
            StoredOutputs.Usage usage = store.usage();
            cached.add(new dev.ember.api.engine.CachedRdd(id, rddId, store.tasks(), usage.storedTasks(),
                    usage.memoryBytes(), usage.diskBytes()));
        });
        cached.sort(java.util.Comparator.comparingInt(dev.ember.api.engine.CachedRdd::rddId));
        return cached;
    }

    public StoredOutputs existingCache(int rddId) {
        return caches.get(rddId);
    }

    /**
     * Forgets the stored outputs (of shuffles and caches) that match, so their tasks count as missing: for a
     * scheduler whose node that kept them is gone.
     */
    public void invalidateOutputs(java.util.function.Predicate<StoredOutput> lost) {
        shuffles.values().forEach(store -> store.invalidate(lost));
        caches.values().forEach(store -> store.invalidate(lost));
    }

    @Override
    public void dropShuffle(int shuffleId) {
        StoredOutputs outputs = shuffles.remove(shuffleId);
        if (outputs != null) {
            outputs.discard();
        }
    }

    @Override
    public void unpersist(int rddId) {
        StoredOutputs outputs = caches.remove(rddId);
        if (outputs != null) {
            outputs.discard();
        }
    }

    @Override
    public JobHandle submit(JobPlan plan, JobListener listener) {
        ensureOpen();
        JobRun job = new JobRun(engine, this, engine.nextJobId(), plan, listener == null ? JobListener.NONE : listener);
        jobs.add(job);
        job.start();
        return job;
    }

    public void jobFinished(JobRun job) {
        jobs.remove(job);
    }

    @Override
    public void cancelJob(int jobId, String reason) {
        for (JobRun job : List.copyOf(jobs)) {
            if (job.jobId() == jobId) {
                job.cancel(reason);
            }
        }
    }

    @Override
    public void cancelJobGroup(String jobGroup, String reason) {
        for (JobRun job : List.copyOf(jobs)) {
            if (jobGroup.equals(job.jobGroup())) {
                job.cancel(reason);
            }
        }
    }

    @Override
    public void cancelAllJobs(String reason) {
        for (JobRun job : List.copyOf(jobs)) {
            job.cancel(reason);
        }
    }

    public List<JobRun> runningJobs() {
        return List.copyOf(jobs);
    }

    @Override
    public void close() {
        close("the session " + id + " was closed");
    }

    /** Closes the session; its running jobs fail with this reason. */
    public void close(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        cancelAllJobs(reason);
        datasets.clear();
        broadcasts.clear();
        shuffles.values().forEach(StoredOutputs::discard);
        shuffles.clear();
        caches.values().forEach(StoredOutputs::discard);
        caches.clear();
        fileInputs.clear();
        // Outputs no job wrote: remove their empty directories.
        outputs.values().forEach(OutputDirectory::abortJob);
        outputs.clear();
        engine.sessionClosed(this);
        LOG.log(System.Logger.Level.INFO, ServiceLog.session(id, "closed", config));
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("session " + id + " is closed");
        }
    }
}
