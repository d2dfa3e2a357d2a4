package dev.ember.gateway.py4j;

import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

import com.google.gson.JsonObject;

import dev.ember.api.engine.JobListener;

/**
 * A job's events, queued for the side socket that streams the job's results: the driver gets progress pushed to
 * it while it waits, and the stream knows which partitions are finished without asking the engine.
 */
final class ProgressEvents implements JobListener {

    private final BlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
    private final Set<Integer> finishedPartitions = ConcurrentHashMap.newKeySet();
    /**
     * Queued, never sent: wakes the stream when a result partition is done, for a driver that tracks no progress
     * (building, sending and parsing a task-end event cost ~25 µs a task, a sixth of W4's per-task time).
     */
    static final JsonObject WAKE = new JsonObject();

    private final int resultStageId;
    /** Whether the driver shows or tracks progress: without, only what the stream needs is queued. */
    private final boolean withProgress;
    private final boolean withOutput;
    private volatile boolean ended;

    /**
     * @param withProgress whether every stage and task start and end is an event; without, only the job's start and
     *        end are, and the result stage's task ends just wake the stream ({@link #WAKE})
     * @param withOutput whether what tasks print comes to the driver too (as {@code output} events)
     */
    ProgressEvents(int resultStageId, boolean withProgress, boolean withOutput) {
        this.resultStageId = resultStageId;
        this.withProgress = withProgress;
        this.withOutput = withOutput;
    }

    @Override
    public boolean wantsTaskOutput() {
        return withOutput;
    }

    @Override
    public void onTaskOutput(int jobId, int stageId, int partition, String line) {
        events.add(event("output", jobId, stageId).apply(e -> {
            e.addProperty("partition", partition);
            e.addProperty("line", line);
        }));
    }

    @Override
    public void onJobStart(int jobId, int stageCount) {
        events.add(event("jobStart", jobId, -1).apply(e -> e.addProperty("stages", stageCount)));
    }

    @Override
    public void onStageStart(int jobId, int stageId, int taskCount) {
        if (!withProgress) {
            return;
        }
        events.add(event("stageStart", jobId, stageId).apply(e -> e.addProperty("tasks", taskCount)));
    }

    @Override
    public void onTaskStart(int jobId, int stageId, int partition, int attempt) {
        if (!withProgress) {
            return;
        }
        events.add(event("taskStart", jobId, stageId).apply(e -> e.addProperty("partition", partition)));
    }

    @Override
    public void onTaskEnd(int jobId, int stageId, int partition, boolean succeeded) {
        if (!withProgress) {
            if (stageId == resultStageId) {
                events.add(WAKE);
                if (succeeded) {
                    finishedPartitions.add(partition);
                }
            }
            return;
        }
        // The event is queued before the partition counts as finished, so whoever sees it finished finds its event.
        events.add(event("taskEnd", jobId, stageId).apply(e -> {
            e.addProperty("partition", partition);
            e.addProperty("succeeded", succeeded);
        }));
        if (succeeded && stageId == resultStageId) {
            finishedPartitions.add(partition);
        }
    }

    @Override
    public void onStageEnd(int jobId, int stageId, boolean succeeded) {
        if (!withProgress) {
            return;
        }
        events.add(event("stageEnd", jobId, stageId).apply(e -> e.addProperty("succeeded", succeeded)));
    }

    @Override
    public void onJobEnd(int jobId, boolean succeeded) {
        ended = true;
        events.add(event("jobEnd", jobId, -1).apply(e -> e.addProperty("succeeded", succeeded)));
    }

    /** Whether a partition of the result stage finished, so its result can be read without blocking. */
    boolean isResultReady(int partition) {
        return finishedPartitions.contains(partition);
    }

    /**
     * Whether the engine reports this job's progress at all. Ember's engines queue the job's start (or, for a plan
     * they refuse, its end) before {@code submit} returns, so a stream that finds nothing queued when it starts
     * reading is one of an engine that calls no listener (the API does not oblige it to): waiting for its events
     * would wait for ever.
     */
    boolean engineReports() {
        return ended || !events.isEmpty();
    }

    boolean hasEnded() {
        return ended;
    }

    /** Whether an event is the job's last one. */
    static boolean isJobEnd(JsonObject event) {
        return "jobEnd".equals(event.get("event").getAsString());
    }

    /** The next event, waiting for one; every task end and the job's end are events, so this never waits long. */
    JsonObject take() throws InterruptedException {
        return events.take();
    }

    JsonObject poll() {
        return events.poll();
    }

    private static Event event(String type, int jobId, int stageId) {
        JsonObject event = new JsonObject();
        event.addProperty("event", type);
        event.addProperty("job", jobId);
        if (stageId >= 0) {
            event.addProperty("stage", stageId);
        }
        return new Event(event);
    }

    private record Event(JsonObject json) {
        JsonObject apply(java.util.function.Consumer<JsonObject> fill) {
            fill.accept(json);
            return json;
        }
    }
}
