package dev.ember.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.ember.api.codec.Codec;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobFailedException.Kind;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;
import dev.ember.api.worker.WorkerTransport;
import dev.ember.engine.core.AlignedInput;
import dev.ember.engine.core.Attempt;
import dev.ember.engine.core.Attempt.Result;
import dev.ember.engine.core.FileFailure;
import dev.ember.engine.core.FileFrames;
import dev.ember.engine.core.FileInput;
import dev.ember.engine.core.InputLostException;
import dev.ember.engine.core.JobRun;
import dev.ember.engine.core.MemoryGuard;
import dev.ember.engine.core.PartitionedOutput;
import dev.ember.engine.core.SchedulerContext;
import dev.ember.engine.core.SchedulerSession;
import dev.ember.engine.core.StageInputs;
import dev.ember.engine.core.TaskAttempt;
import dev.ember.engine.core.TaskCall;
import dev.ember.engine.core.TaskMetrics;
import dev.ember.engine.core.TaskOutput;
import dev.ember.engine.core.TaskRunner;
import dev.ember.engine.core.UserCodeException;
import dev.ember.engine.core.WorkerPool.PooledWorker;

/**
 * Runs task attempts on this machine's pool of Python workers: a worker of the task's session from the pool
 * (started through the bound transport when none is idle), the task's input read from the session's datasets,
 * stored outputs and files in this JVM, its shuffle or cache output kept here.
 */
final class LocalTaskRunner implements TaskRunner {

    private static final System.Logger LOG = System.getLogger(LocalTaskRunner.class.getName());

    private final LocalEngine engine;
    private final TaskAttempt taskAttempt;
    /** The workers running a task now, by the job they run it for. */
    private final Map<JobRun, Set<PooledWorker>> running = new IdentityHashMap<>();

    LocalTaskRunner(LocalEngine engine) {
        this.engine = engine;
        this.taskAttempt = new TaskAttempt(engine.taskThreads());
    }

    @Override
    public Attempt run(TaskCall call) {
        JobRun job = call.job();
        StagePlan stage = call.stage();
        int partition = call.partition();
        SchedulerSession session = call.session();
        WorkerTransport transport;
        try {
            transport = engine.awaitTransport();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            job.failJob(new JobFailedException(Kind.CANCELLED, "interrupted while waiting for a worker transport"));
            return Attempt.ended(partition);
        }
        if (transport == null) {
            job.failJob(new JobFailedException(Kind.SETUP, "no worker transport is installed (waited "
                    + engine.config().transportWaitSeconds() + " s): start the bundle dev.ember.transport.tcp (or "
                    + "copy another dev.ember.transport.* jar into load/)"));
            return Attempt.ended(partition);
        }
        PooledWorker worker;
        try {
            worker = engine.pool().acquire(session.id(), session.workerSpec(), transport);
        } catch (IOException | RuntimeException e) {
            // A transport that throws anything at all (a bug of its own) must not end this runner: the task would
            // wait for ever. It counts as a worker that could not be started.
            return Attempt.failed(engine.pool().isRetired(transport) ? Result.NOT_COUNTED : Result.WORKER_LOST,
                    partition, "could not start a worker through transport '" + transport.name() + "': "
                            + e.getMessage());
        }
        track(job, worker, true);
        if (job.isFailed()) {
            // Cancelled (or failed) while this task waited for its worker: abortRunning did not see the worker then,
            // so the task must not start, or it would run to its end (a cancelled foreach of sleeps ran its minute).
            // A job is marked failed before its running workers are aborted, so one of the two always sees the other.
            track(job, worker, false);
            engine.pool().release(worker, true);
            return Attempt.ended(partition);
        }
        TaskMetrics metrics = call.metrics();
        if (metrics != null) {
            metrics.started(worker.channel.pid(), worker.transport.name());
        }
        call.started().run();
        TaskAttempt.Identity identity = new TaskAttempt.Identity(call.stageId(), call.taskAttemptId(),
                call.barrier());
        try {
            Iterable<byte[]> input = inputOf(session, stage, partition);
            if (metrics != null) {
                input = metrics.countInput(input, readsShuffle(stage, partition));
            }
            TaskAttempt.Output output = taskAttempt.run(worker, job.jobId(), stage, identity, partition,
                    call.attempt(), input,
                    StageInputs.inputCodecOf(session, stage, partition), session.broadcasts(),
                    () -> newPartitionedOutput(session, stage), call.fileTarget(), call.printed(), call.results());
            track(job, worker, false);
            engine.pool().release(worker, true);
            if (metrics != null) {
                recordOutput(metrics, stage, output, call);
            }
            return Attempt.succeeded(partition, new TaskOutput(output.results(), output.partitioned(),
                    output.accumulatorUpdates(), output.file()));
        } catch (UserCodeException e) {
            // The worker is fine (it reported and read its input to the end); the task may succeed on a retry if
            // the error was not deterministic.
            track(job, worker, false);
            engine.pool().release(worker, true);
            return Attempt.failedInPython(partition, e.getMessage(), e.pickled());
        } catch (FileFailure e) {
            track(job, worker, false);
            worker.channel.abort();
            engine.pool().release(worker, false);
            return endJob(call, new JobFailedException(e.kind, task(call) + " failed: " + e.getMessage()));
        } catch (InputLostException e) {
            // A spill file of an earlier stage's output was deleted or damaged: that output is dropped, so the job
            // makes it again from its lineage and then runs this task again.
            track(job, worker, false);
            worker.channel.abort();
            engine.pool().release(worker, false);
            // Every damaged output at once (a temp cleaner removes all the files), not one per round of stages;
            // one task at a time checks them.
            synchronized (session) {
                session.invalidateOutputs(stored -> stored instanceof PartitionedOutput local
                        && (local.isDamaged() || !local.verifySpillFiles()));
            }
            LOG.log(System.Logger.Level.WARNING, "job {0} stage {1} partition {2}: {3}; the output it came from is "
                    + "made again", job.jobId(), stage.id(), partition, e.getMessage());
            return Attempt.failed(Result.INPUT_LOST, partition, e.getMessage());
        } catch (IOException | RuntimeException e) {
            track(job, worker, false);
            return lost(call, worker, e);
        }
    }

    @Override
    public boolean collectsResults() {
        return true;
    }

    /** Whether the task reads a shuffle's output (its bytes count as shuffle read). */
    private static boolean readsShuffle(StagePlan stage, int partition) {
        if (stage.aligned()) {
            return stage.input().stream().anyMatch(segment -> segment.kind() == InputSegment.Kind.SHUFFLE);
        }
        return StageInputs.locate(stage, partition).segment().kind() == InputSegment.Kind.SHUFFLE;
    }

    private static void recordOutput(TaskMetrics metrics, StagePlan stage, TaskAttempt.Output output,
            TaskCall call) {
        long bytes = 0;
        long spilled = 0;
        if (call.results() != null) {
            bytes = call.results().bytes(); // Streamed frames are not kept.
        } else if (output.results() != null) {
            for (byte[] frame : output.results()) {
                bytes += frame.length;
            }
        } else if (output.partitioned() != null) {
            bytes = output.partitioned().totalBytes();
            spilled = output.partitioned().diskBytes();
        } else if (output.file() != null) {
            try {
                bytes = java.nio.file.Files.size(output.file());
            } catch (IOException e) {
                // Only a metric: the commit reports a file that went missing.
            }
        }
        metrics.produced(bytes, stage.output().kind() == StageOutput.Kind.SHUFFLE, spilled);
    }

    /** A task whose worker stopped answering: over its memory limit, stopped, lost, or an error of the engine. */
    private Attempt lost(TaskCall call, PooledWorker worker, Exception e) {
        int partition = call.partition();
        if (worker.stoppedAtRss > 0) {
            engine.pool().release(worker, false);
            long limit = call.session().config().workerMemoryLimit();
            return endJob(call, new JobFailedException(Kind.WORKER_LOST, task(call) + " used too much memory: its "
                    + "worker (pid " + worker.channel.pid() + ") reached " + MemoryGuard.megabytes(worker.stoppedAtRss)
                    + " resident, over the limit of " + MemoryGuard.megabytes(limit) + " (spark.executor.pyspark.memory)"
                    + ", and was stopped. Raise the limit, or make partitions smaller (more partitions, or functions "
                    + "that stream rather than collect a whole partition)."));
        }
        String tail = outputAfterLoss(worker);
        engine.pool().release(worker, false);
        if (engine.pool().isRetired(worker.transport)) {
            // Its transport was swapped out under it: not the task's fault, so it does not count.
            return Attempt.failed(Result.NOT_COUNTED, partition, "its transport went away");
        }
        if (e instanceof RuntimeException && !(e instanceof java.io.UncheckedIOException)) {
            // Not a worker that went away but the engine itself (a destroyed broadcast, a bug): a retry would meet
            // it again, and calling it a lost worker would send the user looking in vain.
            LOG.log(System.Logger.Level.ERROR, "job " + call.job().jobId() + " stage " + call.stage().id()
                    + " partition " + partition + ": engine error", e);
            return endJob(call, new JobFailedException(Kind.SETUP, task(call) + " failed inside the engine: " + e
                    + " (the JVM's log has the stack trace)", e));
        }
        String failure = worker.killedAfterStoppedSeconds > 0
                ? "worker (pid " + worker.channel.pid() + ") had been stopped (SIGSTOP or a debugger) for "
                        + worker.killedAfterStoppedSeconds + " s and was killed "
                        + "(stoppedWorkerTimeoutSeconds in conf/dev.ember.engine.cfg)"
                : "worker (pid " + worker.channel.pid() + ", transport " + worker.transport.name() + ") was lost: " + e
                        + causeIn(tail, worker.channel.pid()) + (tail.isEmpty() ? "" : "\nits last output:\n" + tail);
        if (call.barrier() == null) {
            // A task of a job that already failed or was cancelled loses its worker on purpose: no warning then.
            LOG.log(call.job().isFailed() ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "job {0} stage {1} partition {2} attempt {3}: {4}",
                    call.job().jobId(), call.stage().id(), partition, call.attempt(), failure);
        }
        return Attempt.failed(Result.WORKER_LOST, partition, failure);
    }

    /** Fails the job for an error no retry would mend; the task ends as failed for the listener first. */
    private static Attempt endJob(TaskCall call, JobFailedException failure) {
        call.job().listener().onTaskEnd(call.job().jobId(), call.stage().id(), call.partition(), false);
        call.job().failJob(failure);
        return Attempt.ended(call.partition());
    }

    private static String task(TaskCall call) {
        return "Task for partition " + call.partition() + " of stage " + call.stage().id() + " (job "
                + call.job().jobId() + ")";
    }

    private PartitionedOutput newPartitionedOutput(SchedulerSession session, StagePlan stage) {
        int buckets = stage.output().kind() == StageOutput.Kind.SHUFFLE ? stage.output().numReducers() : 1;
        return new PartitionedOutput(buckets, engine.memoryBudget(), engine.spillDirectory(session.id()));
    }

    private static Iterable<byte[]> inputOf(SchedulerSession session, StagePlan stage, int partition) {
        if (stage.aligned()) {
            return new AlignedInput(stage.input().size(),
                    part -> segmentInput(session, stage.input().get(part), partition),
                    part -> StageInputs.codecOf(session, stage, stage.input().get(part)));
        }
        StageInputs.Located at = StageInputs.locate(stage, partition);
        return segmentInput(session, at.segment(), at.local());
    }

    /** The frames of partition {@code local} of one input segment. */
    private static Iterable<byte[]> segmentInput(SchedulerSession session, InputSegment segment, int local) {
        return switch (segment.kind()) {
            case EMPTY -> List.of();
            case DATASET -> session.dataset(segment.id()).get(local);
            case SHUFFLE -> session.existingShuffle(segment.id()).bucket(local);
            case CACHE -> session.existingCache(segment.id()).ofTask(local);
            case FILES -> {
                FileInput files = session.fileInput(segment.id());
                Codec codec = session.codec(files.codec);
                if (codec == null) {
                    throw new FileFailure(Kind.SETUP, SchedulerContext.missingCodec(files.codec), null);
                }
                yield new FileFrames(codec, files, local);
            }
        };
    }

    @Override
    public void abortRunning(JobRun job) {
        runningWorkers(job).forEach(worker -> worker.channel.abort());
    }

    /** The workers running this job's tasks now. */
    synchronized List<PooledWorker> runningWorkers(JobRun job) {
        Set<PooledWorker> workers = running.get(job);
        return workers == null ? List.of() : new ArrayList<>(workers);
    }

    /** The workers running tasks now, of every job. */
    synchronized List<PooledWorker> runningWorkers() {
        List<PooledWorker> all = new ArrayList<>();
        running.values().forEach(all::addAll);
        return all;
    }

    private synchronized void track(JobRun job, PooledWorker worker, boolean start) {
        if (start) {
            running.computeIfAbsent(job, key -> Collections.newSetFromMap(new IdentityHashMap<>())).add(worker);
        } else {
            Set<PooledWorker> workers = running.get(job);
            if (workers != null) {
                workers.remove(worker);
                if (workers.isEmpty()) {
                    running.remove(job);
                }
            }
        }
    }

    /**
     * The worker's last output, waiting a moment for the line that says how it ended: that report (from its daemon)
     * races with the broken connection that told us it was gone.
     */
    private static String outputAfterLoss(PooledWorker worker) {
        String tail = worker.channel.stderrTail();
        for (int i = 0; i < 20 && causeIn(tail, worker.channel.pid()).isEmpty(); i++) {
            try {
                Thread.sleep(15);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            tail = worker.channel.stderrTail();
        }
        return tail;
    }

    /** The line of a worker's output that says how it ended (its daemon reports signals and exit codes). */
    private static String causeIn(String output, long pid) {
        String marker = "worker " + pid + " ";
        String cause = "";
        for (String line : output.split("\n")) {
            if (line.contains(marker) && (line.contains("signal") || line.contains("exit"))) {
                cause = line.substring(line.indexOf(marker));
            }
        }
        return cause.isEmpty() ? "" : " (" + cause + ")";
    }
}
