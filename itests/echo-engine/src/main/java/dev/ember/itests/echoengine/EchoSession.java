package dev.ember.itests.echoengine;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dev.ember.api.codec.FileSplit;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.SessionInfo;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;

/** One driver's session on the echo engine: it keeps driver data and echoes it back as job results. */
final class EchoSession implements EngineSession {

    private final String id;
    private final SessionConfig config;
    private final AtomicInteger jobIds;
    private final Consumer<EchoSession> onClose;
    private final Map<Integer, List<List<byte[]>>> datasets = new ConcurrentHashMap<>();
    private final AtomicInteger datasetIds = new AtomicInteger();
    private final Map<Integer, EchoJob> jobs = new ConcurrentHashMap<>();
    private volatile String closedBecause;
    private final Instant openedAt = Instant.now();

    EchoSession(String id, SessionConfig config, AtomicInteger jobIds, Consumer<EchoSession> onClose) {
        this.id = id;
        this.config = config;
        this.jobIds = jobIds;
        this.onClose = onClose;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public SessionConfig config() {
        return config;
    }

    @Override
    public int storeDataset(List<List<byte[]>> partitionFrames) {
        int datasetId = datasetIds.incrementAndGet();
        datasets.put(datasetId, List.copyOf(partitionFrames));
        return datasetId;
    }

    @Override
    public void dropDataset(int datasetId) {
        datasets.remove(datasetId);
    }

    @Override
    public int openFiles(String path, int minPartitions, String codec, Map<String, String> options) {
        throw new UnsupportedOperationException("the echo engine reads no files");
    }

    @Override
    public List<FileSplit> fileSplits(int fileInputId) {
        throw new IllegalArgumentException("the echo engine has no file input " + fileInputId);
    }

    @Override
    public long skippedRecords(int fileInputId) {
        return 0;
    }

    @Override
    public void closeFiles(int fileInputId) {
    }

    @Override
    public int createOutput(String directory, Map<String, String> options) {
        throw new UnsupportedOperationException("the echo engine writes no files");
    }

    @Override
    public void storeBroadcast(int broadcastId, byte[] value) {
    }

    @Override
    public void dropBroadcast(int broadcastId) {
    }

    @Override
    public void dropShuffle(int shuffleId) {
    }

    @Override
    public void unpersist(int rddId) {
    }

    @Override
    public void cancelJob(int jobId, String reason) {
        EchoJob job = jobs.get(jobId);
        if (job != null) {
            job.cancel(reason);
        }
    }

    @Override
    public void cancelJobGroup(String jobGroup, String reason) {
        jobs.values().stream().filter(job -> jobGroup.equals(job.jobGroup())).forEach(job -> job.cancel(reason));
    }

    @Override
    public void cancelAllJobs(String reason) {
        jobs.values().forEach(job -> job.cancel(reason));
    }

    @Override
    public JobHandle submit(JobPlan plan, JobListener listener) {
        if (closedBecause != null) {
            throw new IllegalStateException(closedBecause);
        }
        int jobId = jobIds.incrementAndGet();
        List<List<byte[]>> results = new ArrayList<>();
        String problem = echoable(plan);
        if (problem == null) {
            List<byte[]>[] byPartition = partitionsOf(plan.resultStage());
            for (int partition : plan.partitions()) {
                results.add(byPartition[partition]);
            }
        }
        EchoJob job = new EchoJob(jobId, id, plan, results, problem, EchoEngine.HOLD_MILLIS,
                () -> jobs.remove(jobId));
        jobs.put(jobId, job);
        job.start();
        return job;
    }

    /** Why a plan cannot be echoed, or null when it can: one stage, results, driver data only. */
    private String echoable(JobPlan plan) {
        StagePlan stage = plan.resultStage();
        if (plan.stages().size() != 1 || stage.output().kind() != StageOutput.Kind.RESULT) {
            return "the echo engine runs only single-stage jobs that return results";
        }
        for (InputSegment segment : stage.input()) {
            if (segment.kind() != InputSegment.Kind.DATASET || !datasets.containsKey(segment.id())) {
                return "the echo engine reads only driver data stored in this session";
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private List<byte[]>[] partitionsOf(StagePlan stage) {
        List<List<byte[]>> all = new ArrayList<>();
        for (InputSegment segment : stage.input()) {
            all.addAll(datasets.get(segment.id()));
        }
        return all.toArray(new List[0]);
    }

    List<JobInfo> running() {
        return jobs.values().stream().map(EchoJob::info).toList();
    }

    SessionInfo info() {
        return new SessionInfo(id, config.appName(), config.driverPid(), config.master(), openedAt, jobs.size());
    }

    /** Cancels this session's job of this id; whether it held one. */
    boolean cancelRunning(int jobId, String reason) {
        EchoJob job = jobs.get(jobId);
        if (job != null) {
            job.cancel(reason);
        }
        return job != null;
    }

    void closeBecause(String reason) {
        closedBecause = reason;
        cancelAllJobs(reason);
        datasets.clear();
        onClose.accept(this);
    }

    @Override
    public void close() {
        closeBecause("the session " + id + " was closed");
    }
}
