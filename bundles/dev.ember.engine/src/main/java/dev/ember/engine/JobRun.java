package dev.ember.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.ember.api.JobFailedException;
import dev.ember.api.JobFailedException.Kind;
import dev.ember.api.JobHandle;
import dev.ember.api.JobListener;
import dev.ember.api.JobPlan;
import dev.ember.api.StageInput;
import dev.ember.api.StagePlan;
import dev.ember.api.WorkerTransport;
import dev.ember.engine.WorkerPool.PooledWorker;

/**
 * One running job: the tasks of its result stage, run by as many runner threads as the session's parallelism, each
 * taking the next partition from a shared queue. Results are kept per requested position until the driver reads them.
 */
final class JobRun implements JobHandle {

    private static final System.Logger LOG = System.getLogger(JobRun.class.getName());

    private final EmberEngine engine;
    private final SessionImpl session;
    private final int jobId;
    private final JobPlan plan;
    private final StagePlan stage;
    private final int[] partitions;
    private final JobListener listener;
    private final TaskAttempt taskAttempt;

    private final List<List<byte[]>> results;
    private final boolean[] done;
    private final ConcurrentLinkedQueue<Integer> pending = new ConcurrentLinkedQueue<>();
    private final Set<PooledWorker> running = Collections.newSetFromMap(new IdentityHashMap<>());
    private int remaining;
    private JobFailedException failure;
    private boolean finished;

    JobRun(EmberEngine engine, SessionImpl session, int jobId, JobPlan plan, JobListener listener) {
        this.engine = engine;
        this.session = session;
        this.jobId = jobId;
        this.plan = plan;
        this.stage = plan.resultStage();
        this.partitions = plan.partitions();
        this.listener = listener;
        this.taskAttempt = new TaskAttempt(engine.taskThreads());
        this.results = new ArrayList<>(Collections.nCopies(partitions.length, null));
        this.done = new boolean[partitions.length];
        this.remaining = partitions.length;
    }

    void start() {
        JobFailedException invalid = validate();
        if (invalid != null) {
            fail(invalid);
            return;
        }
        listener.onStageStart(jobId, stage.id(), partitions.length);
        if (partitions.length == 0) {
            finish();
            return;
        }
        for (int position = 0; position < partitions.length; position++) {
            pending.add(position);
        }
        int runners = Math.min(session.config().parallelism(), partitions.length);
        for (int i = 0; i < runners; i++) {
            engine.taskThreads().execute(this::runTasks);
        }
    }

    private JobFailedException validate() {
        if (plan.stages().size() != 1) {
            return new JobFailedException(Kind.SETUP, "this engine runs single-stage plans only; got "
                    + plan.stages().size() + " stages");
        }
        for (String codecName : List.of(stage.inputCodec(), stage.outputCodec())) {
            if (engine.codec(codecName) == null) {
                return new JobFailedException(Kind.SETUP, "codec '" + codecName + "' is not installed: install the "
                        + "bundle dev.ember.codec." + codecName + " (copy its jar into load/ of the distribution)");
            }
        }
        StageInput input = stage.input();
        if (input.kind() == StageInput.Kind.DATASET) {
            List<List<byte[]>> dataset = session.dataset(input.datasetId());
            if (dataset == null) {
                return new JobFailedException(Kind.SETUP, "dataset " + input.datasetId() + " is not stored in session "
                        + session.id() + " (was it dropped?)");
            }
            if (dataset.size() != stage.numPartitions()) {
                return new JobFailedException(Kind.SETUP, "dataset " + input.datasetId() + " has " + dataset.size()
                        + " partitions but stage " + stage.id() + " declares " + stage.numPartitions());
            }
        }
        return null;
    }

    private void runTasks() {
        Integer position;
        while (!isFinished() && (position = pending.poll()) != null) {
            runTask(position);
        }
    }

    private void runTask(int position) {
        int partition = partitions[position];
        List<byte[]> input = inputOf(partition);
        int maxAttempts = Math.max(1, engine.config().maxTaskAttempts());
        String lastFailure = "";
        for (int attempt = 0; attempt < maxAttempts && !isFinished(); attempt++) {
            WorkerTransport transport;
            try {
                transport = engine.awaitTransport();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(new JobFailedException(Kind.CANCELLED, "interrupted while waiting for a worker transport"));
                return;
            }
            if (transport == null) {
                fail(new JobFailedException(Kind.SETUP, "no worker transport is installed (waited "
                        + engine.config().transportWaitSeconds() + " s): start the bundle dev.ember.transport.tcp "
                        + "(or copy another dev.ember.transport.* jar into load/)"));
                return;
            }
            PooledWorker worker;
            try {
                worker = engine.pool().acquire(session.workerSpec(), transport);
            } catch (IOException e) {
                lastFailure = "could not start a worker through transport '" + transport.name() + "': " + e.getMessage();
                continue;
            }
            track(worker, true);
            try {
                List<byte[]> output = taskAttempt.run(worker, jobId, stage, partition, attempt, input);
                track(worker, false);
                engine.pool().release(worker, true);
                complete(position, output);
                return;
            } catch (UserCodeException e) {
                track(worker, false);
                engine.pool().release(worker, true);
                listener.onTaskEnd(jobId, stage.id(), partition, false);
                fail(new JobFailedException(Kind.USER_CODE, "Task for partition " + partition + " of stage "
                        + stage.id() + " (job " + jobId + ", attempt " + attempt + ") failed in Python:\n"
                        + e.getMessage()));
                return;
            } catch (IOException | RuntimeException e) {
                track(worker, false);
                String tail = worker.channel.stderrTail();
                engine.pool().release(worker, false);
                lastFailure = "worker (pid " + worker.channel.pid() + ", transport " + worker.transport.name()
                        + ") was lost: " + e + (tail.isEmpty() ? "" : "\nits last output:\n" + tail);
                LOG.log(System.Logger.Level.WARNING, "job {0} partition {1} attempt {2}: {3}", jobId, partition,
                        attempt, lastFailure);
            }
        }
        if (!isFinished()) {
            listener.onTaskEnd(jobId, stage.id(), partition, false);
            fail(new JobFailedException(Kind.WORKER_LOST, "Task for partition " + partition + " of stage " + stage.id()
                    + " (job " + jobId + ") failed " + maxAttempts + " times; last failure: " + lastFailure));
        }
    }

    private List<byte[]> inputOf(int partition) {
        StageInput input = stage.input();
        return switch (input.kind()) {
            case EMPTY -> List.of();
            case DATASET -> session.dataset(input.datasetId()).get(partition);
        };
    }

    private synchronized void track(PooledWorker worker, boolean start) {
        if (start) {
            running.add(worker);
        } else {
            running.remove(worker);
        }
    }

    private void complete(int position, List<byte[]> output) {
        boolean last;
        synchronized (this) {
            if (finished) {
                return;
            }
            results.set(position, output);
            done[position] = true;
            remaining--;
            last = remaining == 0;
            notifyAll();
        }
        listener.onTaskEnd(jobId, stage.id(), partitions[position], true);
        if (last) {
            finish();
        }
    }

    private void finish() {
        synchronized (this) {
            finished = true;
            notifyAll();
        }
        session.jobFinished(this);
        listener.onJobEnd(jobId, true);
    }

    private void fail(JobFailedException cause) {
        List<PooledWorker> interrupted;
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            failure = cause;
            interrupted = cause.kind() == Kind.CANCELLED ? new ArrayList<>(running) : List.of();
            notifyAll();
        }
        // Closing the channel of a cancelled task makes its runner fail fast; the pool replaces the worker.
        interrupted.forEach(worker -> worker.channel.close());
        session.jobFinished(this);
        listener.onJobEnd(jobId, false);
    }

    private synchronized boolean isFinished() {
        return finished;
    }

    @Override
    public int jobId() {
        return jobId;
    }

    @Override
    public int resultCount() {
        return partitions.length;
    }

    @Override
    public List<byte[]> awaitResult(int position) throws InterruptedException, JobFailedException {
        if (position < 0 || position >= partitions.length) {
            throw new IndexOutOfBoundsException("result position " + position + " of " + partitions.length);
        }
        synchronized (this) {
            while (!done[position] && failure == null) {
                wait();
            }
            if (done[position]) {
                List<byte[]> output = results.get(position);
                if (output == null) {
                    throw new IllegalStateException("result " + position + " of job " + jobId + " was already released");
                }
                return output;
            }
            throw failure;
        }
    }

    @Override
    public synchronized void releaseResult(int position) {
        results.set(position, null);
    }

    @Override
    public void cancel(String reason) {
        fail(new JobFailedException(Kind.CANCELLED, "job " + jobId + " was cancelled: " + reason));
    }
}
