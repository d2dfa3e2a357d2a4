package dev.ember.gateway.py4j;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dev.ember.api.engine.Engine;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.security.Secrets;

/** One Python driver's handle on its engine session, as seen through Py4J. */
public final class DriverSession {

    private final Engine engine;
    private final String engineName;
    private final EngineSession session;
    private final Consumer<String> onStop;
    /** Why this session can do nothing more (its engine went away), or null while it can. */
    private volatile String gone;
    /** A job whose results the side socket has not streamed yet, with its events (or null) and partitions. */
    record SubmittedJob(JobHandle handle, ProgressEvents events, int[] partitions) {
    }

    private final Map<Integer, SubmittedJob> jobs = new ConcurrentHashMap<>();
    private final Map<Integer, byte[]> blobs = new ConcurrentHashMap<>();
    private final AtomicInteger blobIds = new AtomicInteger();

    private final Consumer<String> logLevel;
    private volatile Runnable whenStopped;
    /** Whether a driver took the session's lease (see {@link SideChannel}); one that never does is closed. */
    private volatile boolean attached;
    /**
     * This session's capability on the side socket: random, known only to the driver that opened the session (the
     * session id, "s1", "s2", ..., is for display and can be guessed).
     */
    private final String token = Secrets.base64(24);

    DriverSession(Engine engine, String engineName, EngineSession session, Consumer<String> onStop,
            Consumer<String> logLevel) {
        this.engine = engine;
        this.engineName = engineName;
        this.session = session;
        this.onStop = onStop;
        this.logLevel = logLevel;
    }

    /** The token the driver presents on the side socket for this session. */
    public String token() {
        return token;
    }

    /**
     * Sets the distribution's log level ({@code sc.setLogLevel}): for the whole JVM, as in Spark, so in a shared
     * service for every driver.
     *
     * @return "" when set, else why not
     */
    public String setLogLevel(String level) {
        try {
            logLevel.accept(level);
            return "";
        } catch (RuntimeException e) {
            return String.valueOf(e.getMessage());
        }
    }

    public String id() {
        return session.id();
    }

    /** The name of the engine ({@code ember.engine}) this session runs on. */
    public String engineName() {
        return engineName;
    }

    Engine engine() {
        return engine;
    }

    /** Marks the session unusable: its engine went away. Every later call fails with this reason. */
    void engineGone(String reason) {
        gone = reason;
        for (SubmittedJob job : jobs.values()) {
            job.handle().cancel(reason);
        }
    }

    /** The engine session, for a call that needs one. */
    private EngineSession live() {
        String reason = gone;
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        return session;
    }

    public int defaultParallelism() {
        return session.config().parallelism();
    }

    /**
     * Starts the job a JSON plan describes and returns its id; the results (and, {@code withEvents}, the job's
     * progress events) are read from the side socket.
     *
     * @throws IllegalArgumentException if the plan is malformed, with a message naming the field
     */
    public int submitJob(String planJson, boolean withEvents) {
        return submitJob(planJson, withEvents, false);
    }

    /**
     * As {@link #submitJob(String, boolean)}; with {@code withOutput}, what the tasks print comes to the driver as
     * {@code output} events too (for a driver of a service, whose workers' output would otherwise stay in its log).
     */
    public int submitJob(String planJson, boolean withEvents, boolean withOutput) {
        JobPlan plan = PlanParser.parse(planJson, blobs::remove);
        // Events cost a little per task; a driver that does not show or track progress goes without them.
        ProgressEvents events = withEvents || withOutput ? new ProgressEvents(plan.resultStage().id(), withEvents, withOutput)
                : null;
        JobHandle job = live().submit(plan, events == null ? JobListener.NONE : events);
        jobs.put(job.jobId(), new SubmittedJob(job, events, plan.partitions()));
        return job.jobId();
    }

    /**
     * Lists and splits the files a path names, to be read by the JVM through a codec.
     *
     * @param optionsJson a JSON object of string options for the codec's reader
     * @return {@code {"id": fileInputId, "splits": count}}, or {@code {"error": kind, "message": text}} where kind is
     *         {@code notFound}, {@code codec} or {@code io}; as JSON, so the driver needs no call into the
     *         exception (the locked gateway serves none)
     */
    public String openFiles(String path, int minPartitions, String codec, String optionsJson) {
        try {
            int id = live().openFiles(path, minPartitions, codec, options(optionsJson, "file options"));
            return "{\"id\":" + id + ",\"splits\":" + live().fileSplits(id).size() + "}";
        } catch (FileNotFoundException | NoSuchFileException e) {
            return error("notFound", e.getMessage());
        } catch (IllegalStateException e) {
            return error("codec", e.getMessage());
        } catch (IOException | IllegalArgumentException e) {
            return error("io", describe(e));
        }
    }

    /** A plain IOException's message says it all; a subclass's name says what went wrong (AccessDenied...). */
    private static String describe(Exception e) {
        return e.getClass() == IOException.class ? e.getMessage() : e.toString();
    }

    public long skippedRecords(int fileInputId) {
        return live().skippedRecords(fileInputId);
    }

    public void closeFiles(int fileInputId) {
        live().closeFiles(fileInputId);
    }

    /**
     * Reserves an output directory for a job whose last stage writes files.
     *
     * @return {@code {"id": outputId}}, or {@code {"error": "exists" | "io", "message": text}}, as JSON
     */
    public String createOutput(String directory, String optionsJson) {
        try {
            return "{\"id\":" + live().createOutput(directory, options(optionsJson, "output options")) + "}";
        } catch (FileAlreadyExistsException e) {
            return error("exists", e.getFile());
        } catch (IOException | IllegalArgumentException e) {
            return error("io", describe(e));
        }
    }

    private static String error(String kind, String message) {
        com.google.gson.JsonObject error = new com.google.gson.JsonObject();
        error.addProperty("error", kind);
        error.addProperty("message", String.valueOf(message));
        return error.toString();
    }

    private static Map<String, String> options(String json, String what) {
        com.google.gson.JsonObject wrapper = new com.google.gson.JsonObject();
        wrapper.add("options", Json.parseObject(json, what));
        return Json.stringMap(wrapper, "options", what);
    }

    public void cancelJob(int jobId) {
        SubmittedJob job = jobs.remove(jobId);
        if (job != null) {
            job.handle().cancel("cancelled by the driver");
        }
        live().cancelJob(jobId, "cancelled by the driver");
    }

    public void dropDataset(int datasetId) {
        live().dropDataset(datasetId);
    }

    public void dropBroadcast(int broadcastId) {
        live().dropBroadcast(broadcastId);
    }

    public void dropShuffle(int shuffleId) {
        live().dropShuffle(shuffleId);
    }

    public void unpersist(int rddId) {
        live().unpersist(rddId);
    }

    public void cancelJobGroup(String jobGroup) {
        live().cancelJobGroup(jobGroup, "its job group '" + jobGroup + "' was cancelled");
    }

    public void cancelAllJobs() {
        live().cancelAllJobs("cancelAllJobs() was called");
    }

    public void stop() {
        for (SubmittedJob job : jobs.values()) {
            job.handle().cancel("the driver stopped its context");
        }
        jobs.clear();
        blobs.clear();
        session.close();
        onStop.accept(token);
        Runnable release = whenStopped;
        whenStopped = null;
        if (release != null) {
            release.run();
        }
    }

    /** Runs once the session stops (the gateway forgets the Py4J object that stands for it). */
    void whenStopped(Runnable action) {
        whenStopped = action;
    }

    /** Called when a driver takes this session's lease on the side socket. */
    void attached() {
        attached = true;
    }

    boolean isAttached() {
        return attached;
    }

    /** The engine session, for the side socket; fails once the engine went away. */
    EngineSession engineSession() {
        return live();
    }

    /** Keeps a command blob uploaded through the side socket until a plan names it. */
    int storeBlob(byte[] blob) {
        int blobId = blobIds.incrementAndGet();
        blobs.put(blobId, blob);
        return blobId;
    }

    /** Hands a job's results to the side socket once; the job is forgotten after that. */
    SubmittedJob takeJob(int jobId) {
        return jobs.remove(jobId);
    }
}
