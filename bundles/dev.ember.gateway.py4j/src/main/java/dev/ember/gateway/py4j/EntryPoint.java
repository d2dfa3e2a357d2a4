package dev.ember.gateway.py4j;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.logging.Logger;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import dev.ember.api.engine.Engine;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.worker.WorkerInfo;
import dev.ember.api.worker.WorkerPoolStatus;

/**
 * The object Python drivers see as {@code gateway.entry_point}. Public methods here and on {@link DriverSession}
 * are the whole Py4J surface of Ember.
 */
public final class EntryPoint {

    private static final Logger LOG = Logger.getLogger(EntryPoint.class.getName());

    private final Engines engines;
    private final java.util.function.Supplier<WorkerPoolStatus> workerPool;
    private final Consumer<String> logLevel;
    /** The open sessions by their side-socket token (see {@link DriverSession#token()}). */
    private final Map<String, DriverSession> sessions = new ConcurrentHashMap<>();
    private volatile int sidePort;

    /**
     * @param workerPool this node's worker pool, for {@link #status()}, or null when there is none
     * @param logLevel   sets the distribution's log level (Spark's level names)
     */
    EntryPoint(Engines engines, java.util.function.Supplier<WorkerPoolStatus> workerPool, Consumer<String> logLevel,
            int attachTimeoutSeconds) {
        this.engines = engines;
        this.workerPool = workerPool;
        this.logLevel = logLevel;
        this.attachTimeoutSeconds = attachTimeoutSeconds;
    }

    private final int attachTimeoutSeconds;
    /** Closes sessions that no driver attached to (a client that opened one and went away, or never meant to). */
    private final ScheduledExecutorService attachChecks = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "ember-session-attach-check");
        thread.setDaemon(true);
        return thread;
    });
    private volatile IntSupplier objectCount = () -> -1;

    void setObjectCount(IntSupplier objectCount) {
        this.objectCount = objectCount;
    }

    /** Fails the sessions opened on an engine that went away; the others carry on. */
    void engineRemoved(Engine engine, String reason) {
        for (DriverSession session : sessions.values()) {
            if (session.engine() == engine) {
                session.engineGone(reason);
            }
        }
    }

    void setSidePort(int port) {
        sidePort = port;
    }

    /** Where the web UI is, waiting a moment for one that is starting; null when there is none. */
    private volatile java.util.function.Supplier<String> webUiUrl = () -> null;

    void setWebUiUrl(java.util.function.Supplier<String> lookup) {
        webUiUrl = lookup;
    }

    /**
     * The web UI's URL ({@code sc.uiWebUrl}), or null when the UI bundle does not run. A driver-launched JVM starts
     * the UI just after the gateway; this waits for it (a few hundred milliseconds at most) if it is starting.
     */
    public String uiWebUrl() {
        return webUiUrl.get();
    }

    Map<String, DriverSession> sessions() {
        return sessions;
    }

    /**
     * The gateway bundle's version (its {@code Bundle-Version}, for example {@code 0.1.0.202612051221} for a
     * snapshot build), so a driver can tell which distribution it talks to; "unknown" outside a framework.
     */
    public String version() {
        org.osgi.framework.Bundle bundle = org.osgi.framework.FrameworkUtil.getBundle(EntryPoint.class);
        return bundle == null ? "unknown" : bundle.getVersion().toString();
    }

    /** The port of the side socket for bulk data; it takes the same secret as the gateway. */
    public int sidePort() {
        return sidePort;
    }

    /**
     * Opens a session. {@code confJson} holds {@code appName}, {@code parallelism}, {@code pythonExec},
     * {@code workerEnv} (an object of strings) and optionally {@code maxTaskFailures} (default 4),
     * {@code workerMemoryLimit} (bytes, default 0: none), {@code master} (the driver's master URL, which selects
     * the engine, see {@link Engines#nameFor}), {@code engine} (an engine name that overrides the master's),
     * {@code settings} (an object of strings for the engine, see {@link SessionConfig#settings()}) and
     * {@code driverPid} (the driver's process id, for the log and the shell).
     *
     * @throws IllegalStateException when the engine the session asks for is not installed, naming its bundle
     */
    public DriverSession openSession(String confJson) {
        JsonObject conf = Json.parseObject(confJson, "session configuration");
        Json.rejectUnknown(conf, "session configuration", List.of("appName", "parallelism", "pythonExec",
                "workerEnv", "maxTaskFailures", "workerMemoryLimit", "master", "engine", "settings", "driverPid"));
        String master = conf.has("master") ? Json.string(conf, "master", "session configuration") : null;
        String engineName = Engines.nameFor(master,
                conf.has("engine") ? Json.string(conf, "engine", "session configuration") : null);
        Engine engine = engines.select(engineName);
        if (engine == null) {
            throw new IllegalStateException(engines.missing(engineName, master));
        }
        SessionConfig config = new SessionConfig(
                Json.string(conf, "appName", "session configuration"),
                Json.integer(conf, "parallelism", "session configuration"),
                Json.string(conf, "pythonExec", "session configuration"),
                Json.stringMap(conf, "workerEnv", "session configuration"),
                conf.has("maxTaskFailures") ? Json.integer(conf, "maxTaskFailures", "session configuration") : 4,
                conf.has("workerMemoryLimit") ? Json.longInteger(conf, "workerMemoryLimit", "session configuration")
                        : 0,
                master == null ? "" : master,
                conf.has("settings") ? Json.stringMap(conf, "settings", "session configuration") : Map.of(),
                conf.has("driverPid") ? Json.longInteger(conf, "driverPid", "session configuration") : 0);
        DriverSession session = new DriverSession(engine, engineName, engine.openSession(config), sessions::remove,
                logLevel);
        sessions.put(session.token(), session);
        attachChecks.schedule(() -> {
            if (!session.isAttached() && sessions.containsKey(session.token())) {
                LOG.warning("session " + session.id() + " was not attached by its driver within "
                        + attachTimeoutSeconds + " s of opening; closing it (sessionAttachTimeoutSeconds in "
                        + "conf/dev.ember.gateway.py4j.cfg)");
                session.stop();
            }
        }, attachTimeoutSeconds, TimeUnit.SECONDS);
        return session;
    }

    /**
     * What the service is doing, as JSON: the installed engines, the number of open sessions and of objects Py4J
     * holds for clients ({@code gatewayObjects}), this node's active transport and workers, and the running jobs of
     * every engine. For tools that watch a running service.
     */
    public String status() {
        JsonObject status = new JsonObject();
        JsonArray engineNames = new JsonArray();
        engines.all().stream().map(Engines.Bound::name).distinct().forEach(engineNames::add);
        status.add("engines", engineNames);
        WorkerPoolStatus pool = workerPool.get();
        status.addProperty("transport", pool == null ? null : pool.activeTransport());
        status.addProperty("sessions", sessions.size());
        status.addProperty("gatewayObjects", objectCount.getAsInt());
        JsonArray workers = new JsonArray();
        for (WorkerInfo info : pool == null ? List.<WorkerInfo>of() : pool.workers()) {
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
        for (Engines.Bound bound : engines.all()) {
            for (JobInfo info : bound.engine().jobs()) {
                jobs.add(job(bound.name(), info));
            }
        }
        status.add("jobs", jobs);
        return status.toString();
    }

    private static JsonObject job(String engineName, JobInfo info) {
        JsonObject job = new JsonObject();
        job.addProperty("engine", engineName);
        job.addProperty("job", info.jobId());
        job.addProperty("session", info.sessionId());
        job.addProperty("stage", info.stage());
        job.addProperty("stages", info.stageCount());
        job.addProperty("tasksDone", info.tasksDone());
        job.addProperty("tasks", info.tasksTotal());
        return job;
    }

    void closeAll() {
        attachChecks.shutdownNow();
        for (DriverSession session : List.copyOf(sessions.values())) {
            session.stop();
        }
    }
}
