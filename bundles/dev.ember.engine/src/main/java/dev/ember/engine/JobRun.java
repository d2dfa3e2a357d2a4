package dev.ember.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

import dev.ember.engine.core.WorkerPool;
import dev.ember.engine.core.TaskAttempt;
import dev.ember.engine.core.UserCodeException;
import dev.ember.engine.core.AlignedInput;
import dev.ember.engine.core.MemoryGuard;
import dev.ember.engine.core.PartitionedOutput;
import dev.ember.engine.core.StoredOutputs;
import dev.ember.engine.core.FileFailure;
import dev.ember.engine.core.FileInput;
import dev.ember.engine.core.FileFrames;
import dev.ember.engine.core.OutputDirectory;
import dev.ember.engine.core.BarrierCoordinator;
import dev.ember.api.codec.Codec;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobFailedException.Kind;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;
import dev.ember.api.worker.WorkerTransport;
import dev.ember.engine.core.WorkerPool.PooledWorker;

/**
 * One running job. Its stages run one after another; a stage whose shuffle or cached output is already complete
 * (from an earlier job of the session) is skipped. Within a stage, as many runner threads as the session's
 * parallelism take the next task from a shared queue. Results of the last stage are kept per requested position
 * until the driver reads them.
 */
final class JobRun implements JobHandle {

    private static final System.Logger LOG = System.getLogger(JobRun.class.getName());

    private final LocalEngine engine;
    private final SessionImpl session;
    private final int jobId;
    private final JobPlan plan;
    private final int[] partitions;
    private final JobListener listener;
    private final TaskAttempt taskAttempt;

    private final List<List<byte[]>> results;
    private final boolean[] done;
    private final List<byte[]> accumulatorUpdates = new ArrayList<>();
    private final Set<PooledWorker> running = Collections.newSetFromMap(new IdentityHashMap<>());
    private final OutputDirectory outputDirectory;
    /** Task runners of the current stage still running (they outlive a failure until their task ends). */
    private int activeRunners;
    /** False while a failed job's output directory may still hold files of tasks that are finishing. */
    private boolean outputSettled;
    private JobFailedException failure;
    private boolean finished;

    JobRun(LocalEngine engine, SessionImpl session, int jobId, JobPlan plan, JobListener listener) {
        this.engine = engine;
        this.session = session;
        this.jobId = jobId;
        this.plan = plan;
        this.partitions = plan.partitions();
        this.listener = listener;
        this.taskAttempt = new TaskAttempt(engine.taskThreads());
        this.results = new ArrayList<>(Collections.nCopies(partitions.length, null));
        this.done = new boolean[partitions.length];
        StageOutput output = plan.resultStage().output();
        this.outputDirectory = output.kind() == StageOutput.Kind.FILES ? session.output(output.id()) : null;
        this.outputSettled = outputDirectory == null;
    }

    private volatile int currentStage;
    private volatile int stageTasksTotal;
    private volatile int stageTasksDone;

    String jobGroup() {
        return plan.jobGroup();
    }

    JobInfo info() {
        return new JobInfo(jobId, session.id(), plan.jobGroup(), currentStage, plan.stages().size(), stageTasksDone,
                stageTasksTotal);
    }

    void start() {
        JobFailedException invalid = validate();
        if (invalid != null) {
            fail(invalid);
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "job {0} of session {1} started: {2} stage(s), {3} result partition(s)",
                jobId, session.id(), plan.stages().size(), partitions.length);
        listener.onJobStart(jobId, plan.stages().size());
        engine.taskThreads().execute(this::runStages);
    }

    private JobFailedException validate() {
        Set<Integer> shufflesWritten = new HashSet<>();
        Set<Integer> cachesWritten = new HashSet<>();
        for (StagePlan stage : plan.stages()) {
            for (String codecName : List.of(stage.inputCodec(), stage.outputCodec())) {
                if (engine.codec(codecName) == null) {
                    return setup(LocalEngine.missingCodec(codecName));
                }
            }
            for (InputSegment segment : stage.input()) {
                String problem = checkSegment(stage, segment, shufflesWritten, cachesWritten);
                if (problem != null) {
                    return setup("stage " + stage.id() + ": " + problem);
                }
            }
            for (Integer broadcast : stage.broadcasts()) {
                if (!session.broadcasts().containsKey(broadcast)) {
                    return setup("stage " + stage.id() + " uses broadcast " + broadcast
                            + ", which was destroyed or never stored");
                }
            }
            StageOutput output = stage.output();
            if (output.kind() == StageOutput.Kind.FILES) {
                OutputDirectory directory = session.output(output.id());
                if (directory == null || !directory.claim()) {
                    return setup("stage " + stage.id() + " writes output " + output.id()
                            + ", which was not created in this session or was written already");
                }
            }
            if (output.kind() == StageOutput.Kind.SHUFFLE) {
                shufflesWritten.add(output.id());
            } else if (output.kind() == StageOutput.Kind.CACHE) {
                cachesWritten.add(output.id());
            }
        }
        return null;
    }

    private String checkSegment(StagePlan stage, InputSegment segment, Set<Integer> shufflesWritten,
            Set<Integer> cachesWritten) {
        switch (segment.kind()) {
            case EMPTY:
                return null;
            case DATASET: {
                List<List<byte[]>> dataset = session.dataset(segment.id());
                if (dataset == null) {
                    return "dataset " + segment.id() + " is not stored in session " + session.id()
                            + " (was it dropped?)";
                }
                if (dataset.size() != segment.count()) {
                    return "dataset " + segment.id() + " has " + dataset.size() + " partitions but the stage reads "
                            + segment.count();
                }
                return null;
            }
            case SHUFFLE: {
                StoredOutputs existing = session.existingShuffle(segment.id());
                boolean available = shufflesWritten.contains(segment.id())
                        || (existing != null && existing.isComplete());
                if (!available) {
                    return "reads shuffle " + segment.id() + ", which no earlier stage writes";
                }
                return null;
            }
            case FILES: {
                FileInput files = session.fileInput(segment.id());
                if (files == null) {
                    return "file input " + segment.id() + " is not open in session " + session.id();
                }
                if (files.splits.size() != segment.count()) {
                    return "file input " + segment.id() + " has " + files.splits.size() + " splits but the stage reads "
                            + segment.count();
                }
                if (engine.codec(files.codec) == null) {
                    return LocalEngine.missingCodec(files.codec);
                }
                return null;
            }
            case CACHE: {
                StoredOutputs existing = session.existingCache(segment.id());
                if (!cachesWritten.contains(segment.id()) && (existing == null || !existing.isComplete())) {
                    return "reads cached RDD " + segment.id() + ", which no earlier stage writes";
                }
                return null;
            }
            default:
                return "unknown input kind " + segment.kind();
        }
    }

    private static JobFailedException setup(String message) {
        return new JobFailedException(Kind.SETUP, message);
    }

    /** The coordinator: runs each stage that has work, in order, then finishes the job. */
    private void runStages() {
        try {
            for (StagePlan stage : plan.stages()) {
                if (isFinished()) {
                    return;
                }
                StageOutput output = stage.output();
                StoredOutputs store = switch (output.kind()) {
                    case SHUFFLE -> storeFor(session.shuffle(output.id(), stage.numPartitions(), output.numReducers()),
                            stage, output);
                    case CACHE -> storeFor(session.cache(output.id(), stage.numPartitions()), stage, output);
                    case RESULT, FILES -> null;
                };
                int[] tasks = store == null ? IntStream.range(0, partitions.length).toArray() : store.missingTasks();
                if (tasks.length == 0) {
                    continue;
                }
                currentStage = plan.stages().indexOf(stage);
                stageTasksTotal = tasks.length;
                stageTasksDone = 0;
                listener.onStageStart(jobId, stage.id(), tasks.length);
                new StageRun(stage, tasks, store).runAndWait();
                listener.onStageEnd(jobId, stage.id(), !isFailed());
            }
            finish();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(new JobFailedException(Kind.CANCELLED, "job " + jobId + " was interrupted"));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "job " + jobId + " failed inside the engine", e);
            fail(new JobFailedException(Kind.SETUP, "internal engine error in job " + jobId + ": " + e, e));
        }
    }

    /** A store whose shape no longer matches the plan (the driver reused an id) is replaced. */
    private StoredOutputs storeFor(StoredOutputs store, StagePlan stage, StageOutput output) {
        int buckets = output.kind() == StageOutput.Kind.SHUFFLE ? output.numReducers() : 1;
        if (store.tasks() == stage.numPartitions() && store.buckets() == buckets) {
            return store;
        }
        if (output.kind() == StageOutput.Kind.SHUFFLE) {
            session.dropShuffle(output.id());
            return session.shuffle(output.id(), stage.numPartitions(), buckets);
        }
        session.unpersist(output.id());
        return session.cache(output.id(), stage.numPartitions());
    }

    /** How many times a task is tried when its worker is lost, at least (a lost worker is not the code's fault). */
    static final int WORKER_LOSS_ATTEMPTS = 4;

    /** What one attempt of a task came to. */
    private enum Result {
        SUCCEEDED,
        FAILED_IN_PYTHON,
        WORKER_LOST,
        /** Its transport went away under it: tried again without counting. */
        NOT_COUNTED,
        /** The job ended (failed or cancelled) because of it, or while it ran; nothing more to do. */
        ENDED
    }

    /** The outcome of one attempt; {@code endedAt} orders failures (System.nanoTime()). */
    private record Attempt(Result result, TaskAttempt.Output output, int partition, String failure, String traceback,
            byte[] pickled, long endedAt) {

        static Attempt ended(int partition) {
            return new Attempt(Result.ENDED, null, partition, "the job ended", null, null, System.nanoTime());
        }

        static Attempt failed(Result result, int partition, String failure) {
            return new Attempt(result, null, partition, failure, null, null, System.nanoTime());
        }
    }

    /** The tasks of one stage. For the result stage a task index is a position in the requested partitions. */
    private final class StageRun {
        private final StagePlan stage;
        private final int[] tasks;
        private final StoredOutputs store;
        private final ConcurrentLinkedQueue<Integer> pending = new ConcurrentLinkedQueue<>();
        /** The stage's id in the session, as TaskContext.stageId() reports it. */
        private final int stageId;
        private int remaining;

        StageRun(StagePlan stage, int[] tasks, StoredOutputs store) {
            this.stage = stage;
            this.tasks = tasks;
            this.store = store;
            this.stageId = session.nextStageId();
            this.remaining = tasks.length;
            for (int i = 0; i < tasks.length; i++) {
                pending.add(i);
            }
        }

        void runAndWait() throws InterruptedException {
            if (stage.barrier()) {
                runBarrierStage();
                synchronized (JobRun.this) {
                    while (remaining > 0 && !finished) {
                        JobRun.this.wait();
                    }
                }
                return;
            }
            int runners = Math.min(session.config().parallelism(), tasks.length);
            synchronized (JobRun.this) {
                activeRunners += runners;
            }
            for (int i = 0; i < runners; i++) {
                engine.taskThreads().execute(this::runTasks);
            }
            synchronized (JobRun.this) {
                while (remaining > 0 && !finished) {
                    JobRun.this.wait();
                }
            }
        }

        private void runTasks() {
            try {
                Integer index;
                while (!isFinished() && (index = pending.poll()) != null) {
                    runTask(index);
                }
            } finally {
                boolean last;
                synchronized (JobRun.this) {
                    last = --activeRunners == 0;
                }
                if (last && isFailed()) {
                    // Tasks still running when the job failed may have left files; now none runs. Only then does
                    // the driver hear of the failure, so it never sees a half-removed output.
                    abortOutput();
                    synchronized (JobRun.this) {
                        outputSettled = true;
                        JobRun.this.notifyAll();
                    }
                }
            }
        }

        /** The partition the task at {@code index} computes. */
        private int partitionOf(int index) {
            return store == null ? partitions[tasks[index]] : tasks[index];
        }

        /**
         * Runs a task until an attempt succeeds. Its Python code may fail {@code maxTaskFailures} times (1 on a
         * plain {@code local[N]}, as in Spark); a lost worker is not the code's fault, so losses have a budget of
         * their own, at least {@link #WORKER_LOSS_ATTEMPTS}.
         */
        private void runTask(int index) {
            int partition = partitionOf(index);
            int userAttempts = session.config().maxTaskFailures();
            int lossAttempts = Math.max(userAttempts, WORKER_LOSS_ATTEMPTS);
            Attempt last = null;
            int failedInPython = 0;
            int lost = 0;
            for (int attempt = 0; failedInPython < userAttempts && lost < lossAttempts && !isFinished(); attempt++) {
                Attempt outcome = attemptOnce(partition, attempt, null);
                switch (outcome.result()) {
                    case SUCCEEDED -> {
                        succeeded(index, partition, outcome.output());
                        return;
                    }
                    case ENDED -> {
                        return;
                    }
                    case NOT_COUNTED -> {
                    }
                    case FAILED_IN_PYTHON -> {
                        failedInPython++;
                        last = outcome;
                    }
                    case WORKER_LOST -> {
                        lost++;
                        last = outcome;
                    }
                }
            }
            if (!isFinished() && last != null) {
                failTask(partition, last, last.result() == Result.FAILED_IN_PYTHON ? failedInPython : lost);
            }
        }

        /** Fails the job for a task whose attempts ran out, with the last attempt's failure. */
        private void failTask(int partition, Attempt last, int attempts) {
            listener.onTaskEnd(jobId, stage.id(), partition, false);
            String task = "Task for partition " + partition + " of stage " + stage.id() + " (job " + jobId + ")";
            if (last.result() == Result.FAILED_IN_PYTHON) {
                String times = attempts == 1 ? "" : " (failed " + attempts + " times)";
                fail(new JobFailedException(Kind.USER_CODE, task + times + " failed in Python:\n" + last.traceback(),
                        last.pickled()));
            } else {
                fail(new JobFailedException(Kind.WORKER_LOST, task + " failed " + attempts + " times; last failure: "
                        + last.failure()));
            }
        }

        /**
         * Runs a barrier stage: its tasks all at once, each on a worker of its own, meeting at the barrier
         * coordinator. When one fails, the others are stopped and the whole stage is tried again (all its tasks,
         * with the next attempt number), up to {@code maxTaskFailures} times for failures of the code; only an
         * attempt in which every task succeeded counts.
         */
        private void runBarrierStage() throws InterruptedException {
            int slots = session.config().parallelism();
            if (tasks.length > slots) {
                fail(setup("barrier stage " + stage.id() + " (job " + jobId + ") has " + tasks.length + " tasks, which "
                        + "must all run at once, but this context has " + slots + " task slot(s): use a master with "
                        + "at least " + tasks.length + " slots (local[" + tasks.length + "]) or repartition the RDD "
                        + "before barrier() to at most " + slots + " partition(s)"));
                return;
            }
            int[] stagePartitions = new int[tasks.length];
            for (int i = 0; i < tasks.length; i++) {
                stagePartitions[i] = partitionOf(i);
            }
            BarrierCoordinator coordinator;
            try {
                coordinator = engine.barriers();
            } catch (IOException e) {
                fail(setup("barrier stage " + stage.id() + " could not start the barrier coordinator: " + e));
                return;
            }
            int userAttempts = session.config().maxTaskFailures();
            int lossAttempts = Math.max(userAttempts, WORKER_LOSS_ATTEMPTS);
            int failedInPython = 0;
            int lost = 0;
            for (int attempt = 0; !isFinished(); attempt++) {
                BarrierCoordinator.Group group = coordinator.open(stagePartitions);
                com.google.gson.JsonObject barrier = new com.google.gson.JsonObject();
                barrier.addProperty("port", coordinator.port());
                barrier.addProperty("secret", coordinator.secret());
                barrier.addProperty("token", group.token);
                barrier.add("addresses", addresses(coordinator.port()));
                Attempt[] outcomes = runTogether(group, attempt, barrier);
                group.close();
                Attempt failed = firstFailure(outcomes);
                if (failed == null) {
                    for (int i = 0; i < tasks.length; i++) {
                        succeeded(i, stagePartitions[i], outcomes[i].output());
                    }
                    return;
                }
                discardOutputs(outcomes);
                if (failed.result() == Result.ENDED || isFinished()) {
                    return;
                }
                if (failed.result() == Result.FAILED_IN_PYTHON && ++failedInPython >= userAttempts) {
                    failTask(failed.partition(), failed, failedInPython);
                    return;
                }
                if (failed.result() == Result.WORKER_LOST && ++lost >= lossAttempts) {
                    failTask(failed.partition(), failed, lost);
                    return;
                }
                LOG.log(System.Logger.Level.INFO, "job {0}: barrier stage {1} attempt {2} failed ({3}); retrying all "
                        + "its tasks", jobId, stage.id(), attempt, failed.failure());
            }
        }

        /** One attempt of every task of a barrier stage, on threads of their own; stops the rest when one fails. */
        private Attempt[] runTogether(BarrierCoordinator.Group group, int attempt, com.google.gson.JsonObject barrier)
                throws InterruptedException {
            Attempt[] outcomes = new Attempt[tasks.length];
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(tasks.length);
            java.util.concurrent.atomic.AtomicBoolean aborted = new java.util.concurrent.atomic.AtomicBoolean();
            for (int i = 0; i < tasks.length; i++) {
                int index = i;
                engine.taskThreads().execute(() -> {
                    try {
                        Attempt outcome = attemptOnce(partitionOf(index), attempt, barrier);
                        outcomes[index] = outcome;
                        if (outcome.result() != Result.SUCCEEDED && aborted.compareAndSet(false, true)) {
                            // The others may be waiting at a barrier for this one: end them and their round.
                            group.abort("partition " + outcome.partition() + " failed");
                            runningWorkers().forEach(worker -> worker.channel.abort());
                        }
                    } finally {
                        done.countDown();
                    }
                });
            }
            done.await();
            return outcomes;
        }

        /**
         * The failure that ended a barrier stage attempt, or null if every task succeeded: the earliest, since the
         * tasks stopped because of it fail after it.
         */
        private Attempt firstFailure(Attempt[] outcomes) {
            Attempt first = null;
            for (Attempt outcome : outcomes) {
                if (outcome.result() == Result.ENDED) {
                    return outcome;
                }
                if (outcome.result() != Result.SUCCEEDED && (first == null || outcome.endedAt() < first.endedAt())) {
                    first = outcome;
                }
            }
            return first;
        }

        private void discardOutputs(Attempt[] outcomes) {
            for (Attempt outcome : outcomes) {
                if (outcome.output() != null && outcome.output().partitioned() != null) {
                    outcome.output().partitioned().discard();
                }
            }
        }

        /** Every task of a barrier stage reports the same address, as tasks of one local executor do in Spark. */
        private com.google.gson.JsonArray addresses(int port) {
            com.google.gson.JsonArray addresses = new com.google.gson.JsonArray();
            Collections.nCopies(tasks.length, "127.0.0.1:" + port).forEach(addresses::add);
            return addresses;
        }

        /** One attempt of a task; its output is the caller's to commit. */
        private Attempt attemptOnce(int partition, int attempt, com.google.gson.JsonObject barrier) {
            WorkerTransport transport;
            try {
                transport = engine.awaitTransport();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(new JobFailedException(Kind.CANCELLED, "interrupted while waiting for a worker transport"));
                return Attempt.ended(partition);
            }
            if (transport == null) {
                fail(setup("no worker transport is installed (waited " + engine.config().transportWaitSeconds()
                        + " s): start the bundle dev.ember.transport.tcp (or copy another "
                        + "dev.ember.transport.* jar into load/)"));
                return Attempt.ended(partition);
            }
            PooledWorker worker;
            try {
                worker = engine.pool().acquire(session.id(), session.workerSpec(), transport);
            } catch (IOException | RuntimeException e) {
                // A transport that throws anything at all (a bug of its own) must not end this runner: the task
                // would wait for ever. It counts as a worker that could not be started.
                return Attempt.failed(engine.pool().isRetired(transport) ? Result.NOT_COUNTED : Result.WORKER_LOST,
                        partition, "could not start a worker through transport '" + transport.name() + "': "
                                + e.getMessage());
            }
            track(worker, true);
            listener.onTaskStart(jobId, stage.id(), partition, attempt);
            TaskAttempt.Identity identity = new TaskAttempt.Identity(stageId, session.nextTaskAttemptId(), barrier);
            try {
                TaskAttempt.Output output = taskAttempt.run(worker, jobId, stage, identity, partition, attempt,
                        inputOf(stage, partition), inputCodecOf(stage, partition), session.broadcasts(),
                        this::newPartitionedOutput, fileTarget(partition, attempt), printedBy(partition));
                track(worker, false);
                engine.pool().release(worker, true);
                return new Attempt(Result.SUCCEEDED, output, partition, null, null, null, System.nanoTime());
            } catch (UserCodeException e) {
                // The worker is fine (it reported and read its input to the end); the task may succeed on a
                // retry if the error was not deterministic.
                track(worker, false);
                engine.pool().release(worker, true);
                return new Attempt(Result.FAILED_IN_PYTHON, null, partition, "failed in Python", e.getMessage(),
                        e.pickled(), System.nanoTime());
            } catch (FileFailure e) {
                track(worker, false);
                worker.channel.abort();
                engine.pool().release(worker, false);
                listener.onTaskEnd(jobId, stage.id(), partition, false);
                fail(new JobFailedException(e.kind, "Task for partition " + partition + " of stage " + stage.id()
                        + " (job " + jobId + ") failed: " + e.getMessage()));
                return Attempt.ended(partition);
            } catch (IOException | RuntimeException e) {
                track(worker, false);
                if (worker.stoppedAtRss > 0) {
                    engine.pool().release(worker, false);
                    listener.onTaskEnd(jobId, stage.id(), partition, false);
                    long limit = session.config().workerMemoryLimit();
                    fail(new JobFailedException(Kind.WORKER_LOST, "Task for partition " + partition + " of stage "
                            + stage.id() + " (job " + jobId + ") used too much memory: its worker (pid "
                            + worker.channel.pid() + ") reached " + MemoryGuard.megabytes(worker.stoppedAtRss)
                            + " resident, over the limit of " + MemoryGuard.megabytes(limit)
                            + " (spark.executor.pyspark.memory), and was stopped. Raise the limit, or make "
                            + "partitions smaller (more partitions, or functions that stream rather than "
                            + "collect a whole partition)."));
                    return Attempt.ended(partition);
                }
                String tail = outputAfterLoss(worker);
                engine.pool().release(worker, false);
                if (engine.pool().isRetired(worker.transport)) {
                    // Its transport was swapped out under it: not the task's fault, so it does not count.
                    return Attempt.failed(Result.NOT_COUNTED, partition, "its transport went away");
                }
                if (e instanceof RuntimeException && !(e instanceof java.io.UncheckedIOException)) {
                    // Not a worker that went away but the engine itself (a destroyed broadcast, a bug): a retry
                    // would meet it again, and calling it a lost worker would send the user looking in vain.
                    LOG.log(System.Logger.Level.ERROR, "job " + jobId + " stage " + stage.id() + " partition "
                            + partition + ": engine error", e);
                    listener.onTaskEnd(jobId, stage.id(), partition, false);
                    fail(new JobFailedException(Kind.SETUP, "Task for partition " + partition + " of stage "
                            + stage.id() + " (job " + jobId + ") failed inside the engine: " + e
                            + " (the JVM's log has the stack trace)", e));
                    return Attempt.ended(partition);
                }
                String failure = worker.killedAfterStoppedSeconds > 0
                        ? "worker (pid " + worker.channel.pid() + ") had been stopped (SIGSTOP or a debugger) for "
                                + worker.killedAfterStoppedSeconds + " s and was killed "
                                + "(stoppedWorkerTimeoutSeconds in conf/dev.ember.engine.cfg)"
                        : "worker (pid " + worker.channel.pid() + ", transport " + worker.transport.name()
                        + ") was lost: " + e + causeIn(tail, worker.channel.pid())
                        + (tail.isEmpty() ? "" : "\nits last output:\n" + tail);
                if (barrier == null) {
                    LOG.log(System.Logger.Level.WARNING, "job {0} stage {1} partition {2} attempt {3}: {4}", jobId,
                            stage.id(), partition, attempt, failure);
                }
                return Attempt.failed(Result.WORKER_LOST, partition, failure);
            }
        }

        /** Where the task's printed lines go when the job's listener wants them, else null (the worker's stderr). */
        private java.util.function.Consumer<String> printedBy(int partition) {
            if (!listener.wantsTaskOutput()) {
                return null;
            }
            return line -> listener.onTaskOutput(jobId, stage.id(), partition, line);
        }

        /** A new file for this attempt when the stage writes files, else null. */
        private TaskAttempt.FileTarget fileTarget(int partition, int attempt) {
            if (stage.output().kind() != StageOutput.Kind.FILES) {
                return null;
            }
            OutputDirectory directory = outputDirectory;
            Codec codec = engine.codec(stage.outputCodec());
            if (directory == null || codec == null) {
                throw new FileFailure(Kind.SETUP, directory == null ? "the output directory was closed"
                        : LocalEngine.missingCodec(stage.outputCodec()), null);
            }
            try {
                return new TaskAttempt.FileTarget(codec, directory.options,
                        directory.attemptFile(jobId, partition, attempt, codec.fileSuffix(directory.options)));
            } catch (IOException e) {
                throw FileFailure.writing(directory.directory.toString(), e);
            }
        }

        private PartitionedOutput newPartitionedOutput() {
            int buckets = stage.output().kind() == StageOutput.Kind.SHUFFLE ? stage.output().numReducers() : 1;
            return new PartitionedOutput(buckets, engine.memoryBudget(), session.spillDirectory());
        }

        private void succeeded(int index, int partition, TaskAttempt.Output output) {
            synchronized (JobRun.this) {
                if (finished) {
                    if (output.partitioned() != null) {
                        output.partitioned().discard();
                    }
                    return;
                }
                if (store == null) {
                    if (output.file() != null) {
                        outputDirectory.commitTask(partition, output.file());
                    }
                    results.set(index, output.results() == null ? List.of() : output.results());
                    done[index] = true;
                } else {
                    store.commit(partition, output.partitioned());
                }
                if (output.accumulatorUpdates() != null) {
                    accumulatorUpdates.add(output.accumulatorUpdates());
                }
                stageTasksDone++;
                JobRun.this.notifyAll();
            }
            // Before the task counts towards the end of its stage, so listeners see it end before the stage does.
            listener.onTaskEnd(jobId, stage.id(), partition, true);
            synchronized (JobRun.this) {
                remaining--;
                JobRun.this.notifyAll();
            }
        }
    }

    /**
     * The worker's last output, waiting a moment for the line that says how it ended: that report (from its
     * daemon) races with the broken connection that told us it was gone.
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

    /** The segment a partition of a stage reads, and the partition's index within it. */
    private record Located(InputSegment segment, int local) {
    }

    private static Located locate(StagePlan stage, int partition) {
        int offset = 0;
        for (InputSegment segment : stage.input()) {
            if (partition < offset + segment.count()) {
                return new Located(segment, partition - offset);
            }
            offset += segment.count();
        }
        throw new IllegalStateException("partition " + partition + " is outside stage " + stage.id());
    }

    private Iterable<byte[]> inputOf(StagePlan stage, int partition) {
        if (stage.aligned()) {
            return new AlignedInput(stage.input().size(), part -> segmentInput(stage.input().get(part), partition),
                    part -> codecOf(stage, stage.input().get(part)));
        }
        Located at = locate(stage, partition);
        return segmentInput(at.segment(), at.local());
    }

    /** The frames of partition {@code local} of one input segment. */
    private Iterable<byte[]> segmentInput(InputSegment segment, int local) {
        return switch (segment.kind()) {
            case EMPTY -> List.of();
            case DATASET -> session.dataset(segment.id()).get(local);
            case SHUFFLE -> session.existingShuffle(segment.id()).bucket(local);
            case CACHE -> session.existingCache(segment.id()).ofTask(local);
            case FILES -> {
                FileInput files = session.fileInput(segment.id());
                Codec codec = engine.codec(files.codec);
                if (codec == null) {
                    throw new FileFailure(Kind.SETUP, LocalEngine.missingCodec(files.codec), null);
                }
                yield new FileFrames(codec, files, local);
            }
        };
    }

    /** The codec of a task's (first) input: file segments carry their own; every other input is the stage's. */
    private String inputCodecOf(StagePlan stage, int partition) {
        return codecOf(stage, stage.aligned() ? stage.input().get(0) : locate(stage, partition).segment());
    }

    private String codecOf(StagePlan stage, InputSegment segment) {
        return segment.kind() == InputSegment.Kind.FILES ? session.fileInput(segment.id()).codec : stage.inputCodec();
    }

    /** The workers running this job's tasks now. */
    synchronized List<PooledWorker> runningWorkers() {
        return new ArrayList<>(running);
    }

    private synchronized void track(PooledWorker worker, boolean start) {
        if (start) {
            running.add(worker);
        } else {
            running.remove(worker);
        }
    }

    private void finish() {
        OutputDirectory files = outputDirectory();
        if (files != null && !isFinished()) {
            try {
                files.commitJob();
            } catch (IOException e) {
                fail(new JobFailedException(Kind.SETUP, "job " + jobId + " could not commit its output in "
                        + files.directory + ": " + e));
                return;
            } finally {
                session.outputDone(plan.resultStage().output().id());
            }
        }
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            notifyAll();
        }
        session.jobFinished(this);
        LOG.log(System.Logger.Level.DEBUG, "job {0} of session {1} succeeded", jobId, session.id());
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
        // Killing the worker of a cancelled task makes its runner fail fast; the pool replaces the worker.
        interrupted.forEach(worker -> worker.channel.abort());
        abortOutput();
        synchronized (this) {
            if (activeRunners == 0) {
                outputSettled = true;
            }
            notifyAll();
        }
        session.jobFinished(this);
        LOG.log(System.Logger.Level.DEBUG, "job {0} of session {1} failed ({2})", jobId, session.id(), cause.kind());
        listener.onJobEnd(jobId, false);
    }

    /** The directory the last stage writes, or null when it returns results. */
    private OutputDirectory outputDirectory() {
        return outputDirectory;
    }

    /** Removes what a failed job wrote; safe to repeat, as tasks of a failed job may still be finishing. */
    private void abortOutput() {
        if (outputDirectory != null) {
            outputDirectory.abortJob();
            session.outputDone(plan.resultStage().output().id());
        }
    }

    private synchronized boolean isFinished() {
        return finished;
    }

    private synchronized boolean isFailed() {
        return failure != null;
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
            while (!done[position] && (failure == null || !outputSettled)) {
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
    public synchronized List<byte[]> awaitAccumulatorUpdates() throws InterruptedException, JobFailedException {
        while (!finished || (failure != null && !outputSettled)) {
            wait();
        }
        if (failure != null) {
            throw failure;
        }
        return List.copyOf(accumulatorUpdates);
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
