package dev.ember.ui;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import dev.ember.api.engine.CachedRdd;
import dev.ember.api.monitor.TaskEnded;
import dev.ember.api.worker.WorkerInfo;

/**
 * The JSON API under {@code /api/v1}, shaped like Spark's REST API: an application is a driver's session. Paths are
 * given without the prefix; {@link #get} returns the document, or null for a path it does not know (a 404).
 */
final class Api {

    private final History history;
    private final Supplier<List<CachedRdd>> storage;
    private final Supplier<List<WorkerInfo>> workers;
    private final String version;

    Api(History history, Supplier<List<CachedRdd>> storage, Supplier<List<WorkerInfo>> workers, String version) {
        this.history = history;
        this.storage = storage;
        this.workers = workers;
        this.version = version;
    }

    /** Thrown for a path that names something unknown: the message is the 404's. */
    static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message);
        }
    }

    JsonElement get(String path) {
        String[] parts = path.replaceAll("^/+|/+$", "").split("/");
        if (parts.length == 1 && parts[0].equals("version")) {
            JsonObject body = new JsonObject();
            body.addProperty("ember", version);
            return body;
        }
        if (parts.length == 0 || !parts[0].equals("applications")) {
            return null;
        }
        if (parts.length == 1) {
            JsonArray list = new JsonArray();
            history.apps().forEach(app -> list.add(app(app)));
            return list;
        }
        History.App app = history.app(parts[1]);
        if (app == null) {
            throw new NotFound("no application (session) " + parts[1] + ": GET /api/v1/applications lists them");
        }
        if (parts.length == 2) {
            return app(app);
        }
        String sessionId = app.id;
        return switch (parts[2]) {
            case "jobs" -> parts.length == 3 ? jobs(sessionId) : parts.length == 4 ? job(sessionId, id(parts[3]))
                    : null;
            case "stages" -> stages(sessionId, parts);
            case "storage" -> parts.length == 4 && parts[3].equals("rdd") ? storage(sessionId) : null;
            case "executors" -> parts.length == 3 ? executors(sessionId) : null;
            default -> null;
        };
    }

    private static int id(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new NotFound("'" + text + "' is not an id (a number)");
        }
    }

    private static JsonObject app(History.App app) {
        JsonObject body = new JsonObject();
        body.addProperty("id", app.id);
        body.addProperty("name", app.name);
        body.addProperty("driverPid", app.driverPid);
        body.addProperty("master", app.master);
        body.addProperty("status", app.endTime == 0 ? "RUNNING" : "ENDED");
        JsonObject attempt = new JsonObject();
        attempt.addProperty("startTime", app.startTime);
        attempt.add("endTime", app.endTime == 0 ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(app.endTime));
        attempt.addProperty("duration", (app.endTime == 0 ? System.currentTimeMillis() : app.endTime) - app.startTime);
        attempt.addProperty("completed", app.endTime != 0);
        JsonArray attempts = new JsonArray();
        attempts.add(attempt);
        body.add("attempts", attempts);
        return body;
    }

    private JsonArray jobs(String sessionId) {
        JsonArray list = new JsonArray();
        history.jobs(sessionId).forEach(job -> list.add(job(job)));
        return list;
    }

    private JsonObject job(String sessionId, int jobId) {
        History.JobView job = history.job(sessionId, jobId);
        if (job == null) {
            throw new NotFound("no job " + jobId + " in application " + sessionId
                    + " (finished jobs beyond retainedJobs are forgotten)");
        }
        return job(job);
    }

    private static JsonObject job(History.JobView job) {
        JsonObject body = new JsonObject();
        body.addProperty("jobId", job.jobId());
        body.addProperty("name", job.name());
        body.addProperty("jobGroup", job.jobGroup());
        body.addProperty("submissionTime", job.submissionTime());
        body.add("completionTime", orNull(job.completionTime()));
        body.addProperty("duration", (job.completionTime() == 0 ? System.currentTimeMillis() : job.completionTime())
                - job.submissionTime());
        body.addProperty("status", job.status());
        body.addProperty("errorMessage", job.error());
        JsonArray stageIds = new JsonArray();
        job.stageIds().forEach(stageIds::add);
        body.add("stageIds", stageIds);
        body.addProperty("numTasks", job.numTasks());
        body.addProperty("numActiveTasks", job.activeTasks());
        body.addProperty("numCompletedTasks", job.completedTasks());
        body.addProperty("numFailedTasks", job.failedTasks());
        body.addProperty("numCompletedStages", job.completedStages());
        body.addProperty("numSkippedStages", job.skippedStages());
        body.addProperty("numFailedStages", job.failedStages());
        body.addProperty("numActiveStages", job.activeStages());
        return body;
    }

    private JsonElement stages(String sessionId, String[] parts) {
        if (parts.length == 3) {
            JsonArray list = new JsonArray();
            history.stages(sessionId).forEach(stage -> list.add(stage(stage)));
            return list;
        }
        History.StageView stage = history.stage(sessionId, id(parts[3]));
        if (stage == null) {
            throw new NotFound("no stage " + parts[3] + " in application " + sessionId);
        }
        if (parts.length == 4) {
            // Spark lists a stage's attempts here; a stage Ember runs again gets a new id, so there is one.
            JsonArray attempts = new JsonArray();
            attempts.add(stage(stage));
            return attempts;
        }
        if (id(parts[4]) != 0) {
            throw new NotFound("stage " + parts[3] + " has only attempt 0");
        }
        if (parts.length == 5) {
            return stage(stage);
        }
        if (parts.length == 6 && parts[5].equals("taskList")) {
            JsonArray tasks = new JsonArray();
            stage.tasks().forEach(task -> tasks.add(task(task)));
            return tasks;
        }
        return null;
    }

    private static JsonObject stage(History.StageView stage) {
        int active = 0;
        int complete = 0;
        int failed = 0;
        long runTime = 0;
        long input = 0;
        long output = 0;
        long shuffleRead = 0;
        long shuffleWrite = 0;
        long spilled = 0;
        for (History.TaskView task : stage.tasks()) {
            switch (task.status()) {
                case "RUNNING" -> active++;
                case "SUCCESS" -> complete++;
                case "KILLED" -> {
                }
                default -> failed++;
            }
            TaskEnded end = task.end();
            if (end != null) {
                runTime += end.durationMillis();
                input += end.inputBytes();
                output += end.outputBytes();
                shuffleRead += end.shuffleReadBytes();
                shuffleWrite += end.shuffleWriteBytes();
                spilled += end.spilledBytes();
            }
        }
        JsonObject body = new JsonObject();
        body.addProperty("stageId", stage.stageId());
        body.addProperty("attemptId", 0);
        body.addProperty("jobId", stage.jobId());
        body.addProperty("name", stage.name());
        body.addProperty("kind", stage.kind());
        body.addProperty("status", stage.status());
        body.addProperty("numTasks", stage.numTasks());
        body.addProperty("numActiveTasks", active);
        body.addProperty("numCompleteTasks", complete);
        body.addProperty("numFailedTasks", failed);
        body.addProperty("submissionTime", stage.submissionTime());
        body.add("completionTime", orNull(stage.completionTime()));
        body.addProperty("executorRunTime", runTime);
        body.addProperty("inputBytes", input);
        body.addProperty("outputBytes", output);
        body.addProperty("shuffleReadBytes", shuffleRead);
        body.addProperty("shuffleWriteBytes", shuffleWrite);
        // The engine's shuffle and cache store spills to disk only; what it spilled was in memory first.
        body.addProperty("memoryBytesSpilled", spilled);
        body.addProperty("diskBytesSpilled", spilled);
        return body;
    }

    private static JsonObject task(History.TaskView task) {
        TaskEnded end = task.end();
        JsonObject body = new JsonObject();
        body.addProperty("taskId", task.taskId());
        body.addProperty("index", task.partition());
        body.addProperty("attempt", task.attempt());
        body.addProperty("launchTime", task.launchTime());
        body.add("duration", end == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(end.durationMillis()));
        body.addProperty("executorId", String.valueOf(task.workerPid()));
        body.addProperty("host", "localhost");
        body.addProperty("status", task.status());
        body.addProperty("errorMessage", end == null ? null : end.error());
        JsonObject metrics = new JsonObject();
        metrics.addProperty("executorRunTime", end == null ? 0 : end.durationMillis());
        metrics.add("inputMetrics", one("bytesRead", end == null ? 0 : end.inputBytes()));
        metrics.add("outputMetrics", one("bytesWritten", end == null ? 0 : end.outputBytes()));
        metrics.add("shuffleReadMetrics", one("localBytesRead", end == null ? 0 : end.shuffleReadBytes()));
        metrics.add("shuffleWriteMetrics", one("bytesWritten", end == null ? 0 : end.shuffleWriteBytes()));
        metrics.addProperty("memoryBytesSpilled", end == null ? 0 : end.spilledBytes());
        metrics.addProperty("diskBytesSpilled", end == null ? 0 : end.spilledBytes());
        body.add("taskMetrics", metrics);
        return body;
    }

    private JsonArray storage(String sessionId) {
        JsonArray list = new JsonArray();
        for (CachedRdd rdd : storage.get()) {
            if (!rdd.sessionId().equals(sessionId)) {
                continue;
            }
            JsonObject body = new JsonObject();
            body.addProperty("id", rdd.rddId());
            body.addProperty("name", "RDD " + rdd.rddId());
            body.addProperty("numPartitions", rdd.partitions());
            body.addProperty("numCachedPartitions", rdd.cachedPartitions());
            body.addProperty("storageLevel", rdd.diskBytes() > 0 ? "Memory and disk (spilled), serialized"
                    : "Memory, serialized");
            body.addProperty("memoryUsed", rdd.memoryBytes());
            body.addProperty("diskUsed", rdd.diskBytes());
            list.add(body);
        }
        return list;
    }

    private JsonArray executors(String sessionId) {
        Map<Long, History.WorkerTotals> totals = history.workerTotals(sessionId);
        JsonArray list = new JsonArray();
        for (WorkerInfo worker : workers.get()) {
            if (!worker.sessionId().equals(sessionId)) {
                continue;
            }
            History.WorkerTotals done = totals.getOrDefault(worker.pid(), new History.WorkerTotals(0, 0, 0));
            JsonObject body = new JsonObject();
            body.addProperty("id", String.valueOf(worker.pid()));
            body.addProperty("hostPort", "localhost");
            body.addProperty("transport", worker.transport());
            body.addProperty("isActive", worker.busy());
            body.addProperty("activeTasks", worker.busy() ? 1 : 0);
            body.addProperty("completedTasks", done.completed());
            body.addProperty("failedTasks", done.failed());
            body.addProperty("totalTasks", done.completed() + done.failed() + (worker.busy() ? 1 : 0));
            body.addProperty("totalDuration", done.durationMillis());
            long rss = residentBytes(worker.pid());
            body.add("rssBytes", rss < 0 ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(rss));
            body.addProperty("idleMs", worker.idleMillis());
            list.add(body);
        }
        return list;
    }

    /** A process's resident memory from /proc (Linux), or -1 where that cannot be read. */
    static long residentBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or the worker just ended.
        }
        return -1;
    }

    private static JsonObject one(String key, long value) {
        JsonObject body = new JsonObject();
        body.addProperty(key, value);
        return body;
    }

    private static JsonElement orNull(long time) {
        return time == 0 ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(time);
    }
}
