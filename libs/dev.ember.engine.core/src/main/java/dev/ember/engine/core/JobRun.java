package dev.ember.engine.core;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

import dev.ember.api.codec.Codec;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobFailedException.Kind;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.ResultSink;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;
import dev.ember.api.monitor.EngineMonitor;
import dev.ember.api.monitor.JobStarted;
import dev.ember.api.monitor.StageStarted;
import dev.ember.api.monitor.TaskEnded;
import dev.ember.api.monitor.TaskStarted;
import dev.ember.engine.core.Attempt.Result;

/**
 * One running job: the stage loop every scheduler shares. Its stages run one after another; a stage whose shuffle or
 * cached output is already complete (from an earlier job of the session) is skipped. Within a stage, as many runner
 * threads as the session's parallelism take the next task from a shared queue and hand each attempt to the
 * scheduler's {@link TaskRunner}. Results of the last stage are kept per requested position until the driver reads
 * them. When a task finds output of an earlier stage gone (its node left), the stages are gone through again: those
 * with missing output run the missing tasks only, then the interrupted stage goes on.
 */
public final class JobRun implements JobHandle {

    private static final System.Logger LOG = System.getLogger(JobRun.class.getName());

    private final SchedulerContext engine;
    private final SchedulerSession session;
    private final int jobId;
    private final JobPlan plan;
    private final int[] partitions;
    private final JobListener listener;
    /** The engine's monitors as one, or null when none is registered (then no monitoring record is built). */
    private final EngineMonitor monitor;
    private final TaskRunner runner;

    private final List<List<byte[]>> results;
    private final boolean[] done;
    /** Where results go as they are made, once the driver asked for that (see {@link #attachResults}); else null. */
    private ResultSink sink;
    /** By position: the collector of the attempt running for it now, while one does. */
    private final ResultCollector[] collectors;
    /** By position: whether its result went (or is going) to the sink. */
    private final boolean[] delivered;
    /**
     * The accumulator updates of each task this job counts, by stage and partition: a task run again (its output
     * was lost with a node) replaces its earlier update, so each counts once.
     */
    private final Map<Long, byte[]> accumulatorUpdates = new LinkedHashMap<>();
    /**
     * For each stage (by index in the plan), the tasks whose updates this job counts: those missing when the job
     * first came to the stage. A task of output that was complete then (an earlier job made and counted it) and is
     * made again after a loss does not count again.
     */
    private final Map<Integer, Set<Integer>> countedTasks = new HashMap<>();
    private final OutputDirectory outputDirectory;
    /** Task runners of the current stage still running (they outlive a failure until their task ends). */
    private int activeRunners;
    /**
     * False while tasks of a failed job may still be running: they are being stopped, and their spill readers and
     * files (an output directory's attempt files, say) are let go only when they end. The driver hears of the
     * failure once this is true, so it never sees a half-removed output or files still open.
     */
    private boolean outputSettled;
    private JobFailedException failure;
    private boolean finished;
    /** When the job was submitted, for the duration its end line in the log shows. */
    private final long submittedNanos = System.nanoTime();

    JobRun(SchedulerContext engine, SchedulerSession session, int jobId, JobPlan plan, JobListener listener) {
        this.engine = engine;
        this.session = session;
        this.jobId = jobId;
        this.plan = plan;
        this.partitions = plan.partitions();
        this.listener = listener;
        this.monitor = engine.monitor();
        this.runner = session.runner();
        this.results = new ArrayList<>(Collections.nCopies(partitions.length, null));
        this.done = new boolean[partitions.length];
        this.collectors = new ResultCollector[partitions.length];
        this.delivered = new boolean[partitions.length];
        StageOutput output = plan.resultStage().output();
        this.outputDirectory = output.kind() == StageOutput.Kind.FILES ? session.output(output.id()) : null;
        this.outputSettled = false;
    }

    private volatile int currentStage;
    private volatile int stageTasksTotal;
    private volatile int stageTasksDone;

    /** Who hears of this job's progress. */
    public JobListener listener() {
        return listener;
    }

    public String jobGroup() {
        return plan.jobGroup();
    }

    public JobInfo info() {
        return new JobInfo(jobId, session.id(), plan.jobGroup(), currentStage, plan.stages().size(), stageTasksDone,
                stageTasksTotal, plan.callSite());
    }

    void start() {
        if (monitor != null) {
            // Before validating: a monitor sees the job that fails at once, too.
            monitor.jobStarted(new JobStarted(session.id(), jobId, plan.jobGroup(), plan.callSite(),
                    plan.stages().size(), System.currentTimeMillis()));
        }
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
                    return setup(SchedulerContext.missingCodec(codecName));
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
                    return SchedulerContext.missingCodec(files.codec);
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

    /**
     * How many times the stages are gone through again because output they read was lost, before the job fails
     * (Spark's {@code spark.stage.maxConsecutiveAttempts}).
     */
    static final int INPUT_LOSS_ROUNDS = 4;
    /** Why input was last found lost, for the message of a job that gives up. */
    private volatile String lastInputLoss;

    /** The coordinator: runs each stage that has work, in order, then finishes the job. */
    private void runStages() {
        try {
            for (int round = 0; !runStagesOnce(); round++) {
                if (round + 1 >= INPUT_LOSS_ROUNDS) {
                    fail(new JobFailedException(Kind.WORKER_LOST, "job " + jobId + ": output of earlier stages was lost "
                            + INPUT_LOSS_ROUNDS + " times while later stages read it (nodes left the cluster, or spill "
                            + "files were removed); giving up. The last loss: " + lastInputLoss));
                    return;
                }
                LOG.log(System.Logger.Level.INFO, "job {0}: output of an earlier stage was lost; running the stages "
                        + "that make it again", jobId);
            }
            if (!isFinished()) {
                finish();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(new JobFailedException(Kind.CANCELLED, "job " + jobId + " was interrupted"));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "job " + jobId + " failed inside the engine", e);
            fail(new JobFailedException(Kind.SETUP, "internal engine error in job " + jobId + ": " + e, e));
        }
    }

    /**
     * Runs each stage that has work, in order. Returns false when a stage stopped because input it reads was lost
     * (then its finished tasks are kept and the caller goes through the stages again), true otherwise.
     */
    private boolean runStagesOnce() throws InterruptedException {
        for (int stageIndex = 0; stageIndex < plan.stages().size(); stageIndex++) {
            StagePlan stage = plan.stages().get(stageIndex);
            if (isFinished()) {
                return true;
            }
            StageOutput output = stage.output();
            StoredOutputs store = switch (output.kind()) {
                case SHUFFLE -> storeFor(session.shuffle(output.id(), stage.numPartitions(), output.numReducers()),
                        stage, output);
                case CACHE -> storeFor(session.cache(output.id(), stage.numPartitions()), stage, output);
                case RESULT, FILES -> null;
            };
            int[] tasks = store == null ? pendingResults() : store.missingTasks();
            synchronized (this) {
                countedTasks.computeIfAbsent(stageIndex, key -> {
                    Set<Integer> counted = new HashSet<>();
                    for (int task : tasks) {
                        counted.add(store == null ? partitions[task] : task);
                    }
                    return counted;
                });
            }
            if (tasks.length == 0) {
                continue;
            }
            currentStage = stageIndex;
            stageTasksTotal = tasks.length;
            stageTasksDone = 0;
            listener.onStageStart(jobId, stage.id(), tasks.length);
            StageRun run = new StageRun(stageIndex, stage, tasks, store);
            if (monitor != null) {
                monitor.stageStarted(new StageStarted(session.id(), jobId, run.stageId,
                        output.kind().name().toLowerCase(java.util.Locale.ROOT), tasks.length,
                        System.currentTimeMillis()));
            }
            run.runAndWait();
            listener.onStageEnd(jobId, stage.id(), !isFailed() && !run.inputLost);
            if (monitor != null) {
                monitor.stageEnded(session.id(), jobId, run.stageId, !isFailed() && !run.inputLost,
                        System.currentTimeMillis());
            }
            if (run.inputLost && !isFinished()) {
                return false;
            }
        }
        return true;
    }

    /** The result positions not computed yet (all of them, unless an earlier round was cut short). */
    private synchronized int[] pendingResults() {
        return IntStream.range(0, partitions.length).filter(position -> !done[position]).toArray();
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

    /** The tasks of one stage. For the result stage a task index is a position in the requested partitions. */
    private final class StageRun {
        /** The stage's position in the plan. */
        private final int stageIndex;
        private final StagePlan stage;
        private final int[] tasks;
        private final StoredOutputs store;
        private final ConcurrentLinkedQueue<Integer> pending = new ConcurrentLinkedQueue<>();
        /** The stage's id in the session, as TaskContext.stageId() reports it. */
        private final int stageId;
        private int remaining;
        /** Set when a task found input of an earlier stage gone: the stage stops taking tasks. */
        private volatile boolean inputLost;

        StageRun(int stageIndex, StagePlan stage, int[] tasks, StoredOutputs store) {
            this.stageIndex = stageIndex;
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
                while (remaining > 0 && !finished && !(inputLost && activeRunners == 0)) {
                    JobRun.this.wait();
                }
            }
        }

        private void runTasks() {
            try {
                Integer index;
                while (!isFinished() && !inputLost && (index = pending.poll()) != null) {
                    runTask(index);
                }
            } finally {
                boolean last;
                synchronized (JobRun.this) {
                    last = --activeRunners == 0;
                    JobRun.this.notifyAll();
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
                Attempt outcome = attemptOnce(partition, attempt, null, resultPosition(index));
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
                    case INPUT_LOST -> {
                        // Not this task's fault: it runs again once what it reads has been made again.
                        lastInputLoss = outcome.failure();
                        inputLost = true;
                        synchronized (JobRun.this) {
                            JobRun.this.notifyAll();
                        }
                        return;
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
                if (failed.result() == Result.INPUT_LOST) {
                    lastInputLoss = failed.failure();
                    inputLost = true;
                    return;
                }
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
                        // No streaming: a barrier stage's tasks count only once all of them succeeded.
                        Attempt outcome = attemptOnce(partitionOf(index), attempt, barrier, -1);
                        outcomes[index] = outcome;
                        if (outcome.result() != Result.SUCCEEDED && aborted.compareAndSet(false, true)) {
                            // The others may be waiting at a barrier for this one: end them and their round.
                            group.abort("partition " + outcome.partition() + " failed");
                            runner.abortRunning(JobRun.this);
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
                if (outcome.output() != null && outcome.output().stored() != null) {
                    outcome.output().stored().discard();
                }
            }
        }

        /** The coordinator's address as each task of a barrier stage reports it (the runner knows the network). */
        private com.google.gson.JsonArray addresses(int port) {
            com.google.gson.JsonArray addresses = new com.google.gson.JsonArray();
            runner.barrierAddresses(port, tasks.length).forEach(addresses::add);
            return addresses;
        }

        /**
         * The position of the task at {@code index} among the job's results, or -1 if its stage returns none or its
         * runner keeps them (then they go to the sink once the task succeeded).
         */
        private int resultPosition(int index) {
            return store == null && stage.output().kind() == StageOutput.Kind.RESULT && runner.collectsResults()
                    ? tasks[index] : -1;
        }

        /**
         * One attempt of a task, by the scheduler's runner; its output is the caller's to commit. A task of the result
         * stage ({@code position} not -1) gets a collector, through which its frames may stream to the driver.
         */
        private Attempt attemptOnce(int partition, int attempt, com.google.gson.JsonObject barrier, int position) {
            TaskAttempt.FileTarget file;
            try {
                file = fileTarget(partition, attempt);
            } catch (FileFailure e) {
                listener.onTaskEnd(jobId, stage.id(), partition, false);
                fail(new JobFailedException(e.kind, "Task for partition " + partition + " of stage " + stage.id()
                        + " (job " + jobId + ") failed: " + e.getMessage()));
                return Attempt.ended(partition);
            }
            TaskMetrics metrics = monitor == null ? null : new TaskMetrics();
            ResultCollector collector = position < 0 ? null : newCollector(position);
            TaskCall call = new TaskCall(JobRun.this, session, stage, stageId, partition, attempt,
                    session.nextTaskAttemptId(), barrier, file, printedBy(partition), collector,
                    metrics == null ? () -> listener.onTaskStart(jobId, stage.id(), partition, attempt) : () -> {
                        listener.onTaskStart(jobId, stage.id(), partition, attempt);
                        monitor.taskStarted(new TaskStarted(session.id(), jobId, stageId, partition, attempt,
                                metrics.workerPid, metrics.transport, metrics.launchMillis));
                    }, metrics);
            Attempt outcome = runner.run(call);
            if (collector != null && outcome.result() != Result.SUCCEEDED) {
                dropCollector(collector);
            }
            if (metrics != null) {
                monitor.taskEnded(taskEnded(partition, attempt, outcome, metrics));
            }
            return outcome;
        }

        private TaskEnded taskEnded(int partition, int attempt, Attempt outcome, TaskMetrics metrics) {
            String status = switch (outcome.result()) {
                case SUCCEEDED -> "SUCCESS";
                case FAILED_IN_PYTHON, INPUT_LOST -> "FAILED";
                case WORKER_LOST, NOT_COUNTED -> "LOST";
                case ENDED -> "KILLED";
            };
            String error = outcome.traceback() != null ? outcome.traceback() : outcome.failure();
            long launched = metrics.launchMillis;
            long duration = launched == 0 ? 0 : (System.nanoTime() - metrics.launchNanos) / 1_000_000;
            return new TaskEnded(session.id(), jobId, stageId, partition, attempt, metrics.workerPid, status,
                    outcome.result() == Result.SUCCEEDED ? null : error,
                    launched == 0 ? System.currentTimeMillis() : launched, duration, metrics.inputBytes,
                    metrics.inputIsShuffle ? metrics.inputBytes : 0, metrics.outputBytes,
                    metrics.outputIsShuffle ? metrics.outputBytes : 0, metrics.spilledBytes);
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
                        : SchedulerContext.missingCodec(stage.outputCodec()), null);
            }
            try {
                return new TaskAttempt.FileTarget(codec, directory.options,
                        directory.attemptFile(jobId, partition, attempt, codec.fileSuffix(directory.options)));
            } catch (IOException e) {
                throw FileFailure.writing(directory.directory.toString(), e);
            }
        }

        private void succeeded(int index, int partition, TaskOutput output) {
            int deliver = -1;
            synchronized (JobRun.this) {
                if (finished) {
                    if (output.stored() != null) {
                        output.stored().discard();
                    }
                    ResultCollector late = store == null ? collectors[tasks[index]] : null;
                    if (late != null) {
                        collectors[tasks[index]] = null;
                        late.discard();
                    }
                    return;
                }
                if (store == null) {
                    if (output.file() != null) {
                        outputDirectory.commitTask(partition, output.file());
                    }
                    // The index is this stage run's; a later round runs only the positions still pending.
                    int position = tasks[index];
                    results.set(position, output.results() == null ? List.of() : output.results());
                    done[position] = true;
                    if (sink != null && !delivered[position]) {
                        delivered[position] = true;
                        deliver = position;
                    }
                } else {
                    store.commit(partition, output.stored());
                }
                if (output.accumulatorUpdates() != null
                        && countedTasks.getOrDefault(stageIndex, Set.of()).contains(partition)) {
                    accumulatorUpdates.put(((long) stageIndex << 32) | partition, output.accumulatorUpdates());
                }
                stageTasksDone++;
                JobRun.this.notifyAll();
            }
            if (deliver >= 0) {
                // Before the task counts towards the end of the job: the sink hears of every result before its end.
                deliver(deliver);
            }
            // Before the task counts towards the end of its stage, so listeners see it end before the stage does.
            listener.onTaskEnd(jobId, stage.id(), partition, true);
            synchronized (JobRun.this) {
                remaining--;
                JobRun.this.notifyAll();
            }
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
        if (LOG.isLoggable(System.Logger.Level.INFO)) {
            LOG.log(System.Logger.Level.INFO, ServiceLog.succeeded(jobId, plan.callSite(),
                    System.nanoTime() - submittedNanos));
        }
        listener.onJobEnd(jobId, true);
        if (monitor != null) {
            monitor.jobEnded(session.id(), jobId, true, null, System.currentTimeMillis());
        }
    }

    /**
     * Fails the job with this cause unless it has ended already; for a {@link TaskRunner} meeting an error that no
     * retry would mend.
     */
    public void failJob(JobFailedException cause) {
        fail(cause);
    }

    private void fail(JobFailedException cause) {
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            failure = cause;
            notifyAll();
        }
        // The job's other running attempts cannot count any more (as Spark kills a failed job's tasks): stopping
        // them at once makes their runner threads end fast.
        runner.abortRunning(this);
        abortOutput();
        synchronized (this) {
            if (activeRunners == 0) {
                outputSettled = true;
            }
            notifyAll();
        }
        session.jobFinished(this);
        LOG.log(System.Logger.Level.DEBUG, "job {0} of session {1} failed ({2})", jobId, session.id(), cause.kind());
        if (LOG.isLoggable(System.Logger.Level.INFO)) {
            LOG.log(System.Logger.Level.INFO, ServiceLog.failed(jobId, plan.callSite(), cause.getMessage()));
        }
        listener.onJobEnd(jobId, false);
        if (monitor != null) {
            monitor.jobEnded(session.id(), jobId, false, cause.getMessage(), System.currentTimeMillis());
        }
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

    /** Whether the job failed or was cancelled: its other tasks' workers are then stopped on purpose. */
    public synchronized boolean isFailed() {
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

    /** A collector for an attempt at the result at {@code position}; it streams from the start if it can. */
    private ResultCollector newCollector(int position) {
        ResultCollector collector = new ResultCollector(position);
        ResultSink target;
        synchronized (this) {
            collectors[position] = collector;
            target = sink;
        }
        if (target != null) {
            collector.attach(target);
        }
        return collector;
    }

    /** An attempt that did not count: its collector is let go, withdrawing what it streamed. */
    private void dropCollector(ResultCollector collector) {
        synchronized (this) {
            if (collectors[collector.position()] == collector) {
                collectors[collector.position()] = null;
            }
        }
        collector.discard();
    }

    /** Hands a finished result to the sink; the caller claimed it (set {@code delivered}) under the lock. */
    private void deliver(int position) {
        ResultCollector collector;
        List<byte[]> frames;
        ResultSink target;
        synchronized (this) {
            collector = collectors[position];
            frames = results.get(position);
            target = sink;
        }
        if (collector != null) {
            collector.attach(target); // Sends what it kept, if the sink came while its task ran.
        } else if (frames != null) {
            for (byte[] frame : frames) {
                target.frame(position, frame, frame.length);
            }
        }
        target.end(position);
        synchronized (this) {
            collectors[position] = null;
            results.set(position, List.of());
        }
    }

    @Override
    public boolean attachResults(ResultSink target) {
        List<ResultCollector> running = new ArrayList<>();
        List<Integer> ready = new ArrayList<>();
        synchronized (this) {
            if (sink != null) {
                throw new IllegalStateException("the results of job " + jobId + " are already being streamed");
            }
            sink = target;
            for (int position = 0; position < partitions.length; position++) {
                if (done[position]) {
                    if (!delivered[position]) {
                        delivered[position] = true;
                        ready.add(position);
                    }
                } else if (collectors[position] != null) {
                    running.add(collectors[position]);
                }
            }
        }
        running.forEach(collector -> collector.attach(target));
        ready.forEach(this::deliver);
        return true;
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
        return List.copyOf(accumulatorUpdates.values());
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
