package dev.ember.itests.echoengine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import dev.ember.api.engine.EmberEngine;
import dev.ember.api.engine.Engine;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.SessionInfo;

/** The echo scheduler: see the README. */
@Component(immediate = true)
@EmberEngine("cluster")
public final class EchoEngine implements Engine {

    /** How long each job is held before its results are ready. */
    static final long HOLD_MILLIS = 400;

    private final Set<EchoSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger sessionIds = new AtomicInteger();
    private final AtomicInteger jobIds = new AtomicInteger();

    @Activate
    public EchoEngine() {
    }

    @Override
    public EngineSession openSession(SessionConfig config) {
        EchoSession session = new EchoSession("echo" + sessionIds.incrementAndGet(), config, jobIds, sessions::remove);
        sessions.add(session);
        return session;
    }

    @Override
    public List<JobInfo> jobs() {
        List<JobInfo> jobs = new ArrayList<>();
        sessions.forEach(session -> jobs.addAll(session.running()));
        return jobs;
    }

    @Override
    public List<SessionInfo> sessions() {
        return sessions.stream().map(EchoSession::info).toList();
    }

    @Override
    public boolean cancelJob(int jobId, String reason) {
        boolean found = false;
        for (EchoSession session : sessions) {
            found |= session.cancelRunning(jobId, reason);
        }
        return found;
    }

    @Deactivate
    void deactivate() {
        for (EchoSession session : List.copyOf(sessions)) {
            session.closeBecause("the echo engine (bundle dev.ember.itests.echoengine) stopped");
        }
    }
}
