package dev.ember.gateway.py4j;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dev.ember.api.EngineSession;
import dev.ember.api.JobHandle;
import dev.ember.api.JobListener;

/** One Python driver's handle on its engine session, as seen through Py4J. */
public final class DriverSession {

    private final EngineSession session;
    private final Consumer<String> onStop;
    private final Map<Integer, JobHandle> jobs = new ConcurrentHashMap<>();
    private final Map<Integer, byte[]> blobs = new ConcurrentHashMap<>();
    private final AtomicInteger blobIds = new AtomicInteger();

    DriverSession(EngineSession session, Consumer<String> onStop) {
        this.session = session;
        this.onStop = onStop;
    }

    public String id() {
        return session.id();
    }

    public int defaultParallelism() {
        return session.config().parallelism();
    }

    /**
     * Starts the job a JSON plan describes and returns its id; the results are read from the side socket.
     *
     * @throws IllegalArgumentException if the plan is malformed, with a message naming the field
     */
    public int submitJob(String planJson) {
        JobHandle job = session.submit(PlanParser.parse(planJson, blobs::remove), JobListener.NONE);
        jobs.put(job.jobId(), job);
        return job.jobId();
    }

    public void cancelJob(int jobId) {
        JobHandle job = jobs.remove(jobId);
        if (job != null) {
            job.cancel("cancelled by the driver");
        }
        session.cancelJob(jobId, "cancelled by the driver");
    }

    public void dropDataset(int datasetId) {
        session.dropDataset(datasetId);
    }

    public void dropBroadcast(int broadcastId) {
        session.dropBroadcast(broadcastId);
    }

    public void dropShuffle(int shuffleId) {
        session.dropShuffle(shuffleId);
    }

    public void unpersist(int rddId) {
        session.unpersist(rddId);
    }

    public void cancelJobGroup(String jobGroup) {
        session.cancelJobGroup(jobGroup, "its job group '" + jobGroup + "' was cancelled");
    }

    public void cancelAllJobs() {
        session.cancelAllJobs("cancelAllJobs() was called");
    }

    public void stop() {
        for (JobHandle job : jobs.values()) {
            job.cancel("the driver stopped its context");
        }
        jobs.clear();
        blobs.clear();
        session.close();
        onStop.accept(session.id());
    }

    EngineSession engineSession() {
        return session;
    }

    /** Keeps a command blob uploaded through the side socket until a plan names it. */
    int storeBlob(byte[] blob) {
        int blobId = blobIds.incrementAndGet();
        blobs.put(blobId, blob);
        return blobId;
    }

    /** Hands a job's results to the side socket once; the job is forgotten after that. */
    JobHandle takeJob(int jobId) {
        return jobs.remove(jobId);
    }
}
