package dev.ember.gateway.py4j;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import dev.ember.api.Engine;
import dev.ember.api.JobInfo;
import dev.ember.api.SessionConfig;
import dev.ember.api.WorkerInfo;

/**
 * The object Python drivers see as {@code gateway.entry_point}. Public methods here and on {@link DriverSession}
 * are the whole Py4J surface of Ember.
 */
public final class EntryPoint {

    private final Engine engine;
    private final Consumer<String> logLevel;
    /** The open sessions by their side-socket token (see {@link DriverSession#token()}). */
    private final Map<String, DriverSession> sessions = new ConcurrentHashMap<>();
    private volatile int sidePort;

    /** @param logLevel sets the distribution's log level (Spark's level names) */
    EntryPoint(Engine engine, Consumer<String> logLevel) {
        this.engine = engine;
        this.logLevel = logLevel;
    }

    void setSidePort(int port) {
        sidePort = port;
    }

    Map<String, DriverSession> sessions() {
        return sessions;
    }

    /** The port of the side socket for bulk data; it takes the same secret as the gateway. */
    public int sidePort() {
        return sidePort;
    }

    /**
     * Opens a session. {@code confJson} holds {@code appName}, {@code parallelism}, {@code pythonExec},
     * {@code workerEnv} (an object of strings) and optionally {@code maxTaskFailures} (default 4) and
     * {@code workerMemoryLimit} (bytes, default 0: none).
     */
    public DriverSession openSession(String confJson) {
        JsonObject conf = Json.parseObject(confJson, "session configuration");
        Json.rejectUnknown(conf, "session configuration",
                List.of("appName", "parallelism", "pythonExec", "workerEnv", "maxTaskFailures", "workerMemoryLimit"));
        SessionConfig config = new SessionConfig(
                Json.string(conf, "appName", "session configuration"),
                Json.integer(conf, "parallelism", "session configuration"),
                Json.string(conf, "pythonExec", "session configuration"),
                Json.stringMap(conf, "workerEnv", "session configuration"),
                conf.has("maxTaskFailures") ? Json.integer(conf, "maxTaskFailures", "session configuration") : 4,
                conf.has("workerMemoryLimit") ? Json.longInteger(conf, "workerMemoryLimit", "session configuration")
                        : 0);
        DriverSession session = new DriverSession(engine.openSession(config), sessions::remove, logLevel);
        sessions.put(session.token(), session);
        return session;
    }

    /**
     * What the engine is doing, as JSON: the active transport, the number of open sessions, the workers and the
     * running jobs. For tools that watch a running service.
     */
    public String status() {
        JsonObject status = new JsonObject();
        status.addProperty("transport", engine.activeTransport());
        status.addProperty("sessions", sessions.size());
        JsonArray workers = new JsonArray();
        for (WorkerInfo info : engine.workers()) {
            JsonObject worker = new JsonObject();
            worker.addProperty("pid", info.pid());
            worker.addProperty("transport", info.transport());
            worker.addProperty("session", info.sessionId());
            worker.addProperty("tasks", info.tasksServed());
            worker.addProperty("busy", info.busy());
            workers.add(worker);
        }
        status.add("workers", workers);
        JsonArray jobs = new JsonArray();
        for (JobInfo info : engine.jobs()) {
            JsonObject job = new JsonObject();
            job.addProperty("job", info.jobId());
            job.addProperty("session", info.sessionId());
            job.addProperty("stage", info.stage());
            job.addProperty("stages", info.stageCount());
            job.addProperty("tasksDone", info.tasksDone());
            job.addProperty("tasks", info.tasksTotal());
            jobs.add(job);
        }
        status.add("jobs", jobs);
        return status.toString();
    }

    void closeAll() {
        for (DriverSession session : List.copyOf(sessions.values())) {
            session.stop();
        }
    }
}
