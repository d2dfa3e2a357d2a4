package dev.ember.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.ember.api.EngineSession;
import dev.ember.api.JobHandle;
import dev.ember.api.JobListener;
import dev.ember.api.JobPlan;
import dev.ember.api.SessionConfig;
import dev.ember.api.WorkerSpec;

/** One driver's jobs and stored datasets. */
final class SessionImpl implements EngineSession {

    private final EmberEngine engine;
    private final String id;
    private final SessionConfig config;
    private final WorkerSpec workerSpec;
    private final Map<Integer, List<List<byte[]>>> datasets = new ConcurrentHashMap<>();
    private final Set<JobRun> jobs = ConcurrentHashMap.newKeySet();
    private final AtomicInteger datasetIds = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    SessionImpl(EmberEngine engine, String id, SessionConfig config) {
        this.engine = engine;
        this.id = id;
        this.config = config;
        this.workerSpec = new WorkerSpec(config.pythonExec(), config.workerEnv());
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public SessionConfig config() {
        return config;
    }

    WorkerSpec workerSpec() {
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

    List<List<byte[]>> dataset(int datasetId) {
        return datasets.get(datasetId);
    }

    @Override
    public JobHandle submit(JobPlan plan, JobListener listener) {
        ensureOpen();
        JobRun job = new JobRun(engine, this, engine.nextJobId(), plan, listener == null ? JobListener.NONE : listener);
        jobs.add(job);
        job.start();
        return job;
    }

    void jobFinished(JobRun job) {
        jobs.remove(job);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (JobRun job : List.copyOf(jobs)) {
            job.cancel("the session " + id + " was closed");
        }
        datasets.clear();
        engine.sessionClosed(this);
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("session " + id + " is closed");
        }
    }
}
