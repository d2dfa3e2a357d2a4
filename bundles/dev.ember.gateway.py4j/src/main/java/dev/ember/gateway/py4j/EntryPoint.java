package dev.ember.gateway.py4j;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.google.gson.JsonObject;

import dev.ember.api.Engine;
import dev.ember.api.SessionConfig;

/**
 * The object Python drivers see as {@code gateway.entry_point}. Public methods here and on {@link DriverSession}
 * are the whole Py4J surface of Ember.
 */
public final class EntryPoint {

    private final Engine engine;
    private final Map<String, DriverSession> sessions = new ConcurrentHashMap<>();
    private volatile int sidePort;

    EntryPoint(Engine engine) {
        this.engine = engine;
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
     * {@code workerEnv} (an object of strings) and optionally {@code maxTaskFailures} (default 4).
     */
    public DriverSession openSession(String confJson) {
        JsonObject conf = Json.parseObject(confJson, "session configuration");
        Json.rejectUnknown(conf, "session configuration",
                List.of("appName", "parallelism", "pythonExec", "workerEnv", "maxTaskFailures"));
        SessionConfig config = new SessionConfig(
                Json.string(conf, "appName", "session configuration"),
                Json.integer(conf, "parallelism", "session configuration"),
                Json.string(conf, "pythonExec", "session configuration"),
                Json.stringMap(conf, "workerEnv", "session configuration"),
                conf.has("maxTaskFailures") ? Json.integer(conf, "maxTaskFailures", "session configuration") : 4);
        DriverSession session = new DriverSession(engine.openSession(config), sessions::remove);
        sessions.put(session.id(), session);
        return session;
    }

    void closeAll() {
        for (DriverSession session : List.copyOf(sessions.values())) {
            session.stop();
        }
    }
}
