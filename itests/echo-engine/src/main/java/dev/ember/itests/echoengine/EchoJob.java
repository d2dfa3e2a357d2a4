package dev.ember.itests.echoengine;

import java.util.List;

import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.JobPlan;

/** A job of the echo engine: its results are ready once it has been held long enough, unless it fails first. */
final class EchoJob implements JobHandle {

    private final int jobId;
    private final String sessionId;
    private final JobPlan plan;
    private final List<List<byte[]>> results;
    private final long holdMillis;
    private final Runnable onEnd;
    private JobFailedException failure;
    private boolean done;

    EchoJob(int jobId, String sessionId, JobPlan plan, List<List<byte[]>> results, String problem, long holdMillis,
            Runnable onEnd) {
        this.jobId = jobId;
        this.sessionId = sessionId;
        this.plan = plan;
        this.results = results;
        this.holdMillis = holdMillis;
        this.onEnd = onEnd;
        if (problem != null) {
            failure = new JobFailedException(JobFailedException.Kind.SETUP, problem);
        }
    }

    void start() {
        if (failure != null) {
            end();
            return;
        }
        Thread holder = new Thread(() -> {
            try {
                Thread.sleep(holdMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            end();
        }, "echo-job-" + jobId);
        holder.setDaemon(true);
        holder.start();
    }

    private void end() {
        synchronized (this) {
            done = true;
            notifyAll();
        }
        onEnd.run();
    }

    String jobGroup() {
        return plan.jobGroup();
    }

    JobInfo info() {
        return new JobInfo(jobId, sessionId, plan.jobGroup(), 0, 1, 0, plan.partitions().length, plan.callSite());
    }

    @Override
    public void cancel(String reason) {
        synchronized (this) {
            if (done) {
                return;
            }
            failure = new JobFailedException(JobFailedException.Kind.CANCELLED, "job " + jobId + " was cancelled: "
                    + reason);
        }
        end();
    }

    @Override
    public int jobId() {
        return jobId;
    }

    @Override
    public int resultCount() {
        return plan.partitions().length;
    }

    @Override
    public synchronized List<byte[]> awaitResult(int position) throws InterruptedException, JobFailedException {
        while (!done) {
            wait();
        }
        if (failure != null) {
            throw failure;
        }
        return results.get(position);
    }

    @Override
    public synchronized List<byte[]> awaitAccumulatorUpdates() throws InterruptedException, JobFailedException {
        while (!done) {
            wait();
        }
        if (failure != null) {
            throw failure;
        }
        return List.of();
    }

    @Override
    public void releaseResult(int position) {
    }

}
