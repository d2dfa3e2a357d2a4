package dev.ember.engine.core;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import dev.ember.api.engine.SessionInfo;
import dev.ember.api.monitor.EngineMonitor;
import dev.ember.api.monitor.JobStarted;
import dev.ember.api.monitor.StageStarted;
import dev.ember.api.monitor.TaskEnded;
import dev.ember.api.monitor.TaskStarted;

/**
 * The engine monitors bound now, as one: each event goes to each of them, and one that throws is logged and does not
 * keep the others (or the job) from going on. {@link #orNull()} is null while none is bound, so the stage loop then
 * builds no records.
 */
public final class Monitors implements EngineMonitor {

    private static final System.Logger LOG = System.getLogger(Monitors.class.getName());

    private final List<EngineMonitor> bound = new CopyOnWriteArrayList<>();

    public void add(EngineMonitor monitor) {
        bound.add(monitor);
    }

    public void remove(EngineMonitor monitor) {
        bound.remove(monitor);
    }

    /** This, or null while no monitor is bound. */
    public EngineMonitor orNull() {
        return bound.isEmpty() ? null : this;
    }

    private void each(Consumer<EngineMonitor> event) {
        for (EngineMonitor monitor : bound) {
            try {
                event.accept(monitor);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "engine monitor " + monitor.getClass().getName() + " failed", e);
            }
        }
    }

    @Override
    public void sessionOpened(SessionInfo session) {
        each(monitor -> monitor.sessionOpened(session));
    }

    @Override
    public void sessionClosed(String sessionId, long timeMillis) {
        each(monitor -> monitor.sessionClosed(sessionId, timeMillis));
    }

    @Override
    public void jobStarted(JobStarted job) {
        each(monitor -> monitor.jobStarted(job));
    }

    @Override
    public void stageStarted(StageStarted stage) {
        each(monitor -> monitor.stageStarted(stage));
    }

    @Override
    public void taskStarted(TaskStarted task) {
        each(monitor -> monitor.taskStarted(task));
    }

    @Override
    public void taskEnded(TaskEnded task) {
        each(monitor -> monitor.taskEnded(task));
    }

    @Override
    public void stageEnded(String sessionId, int jobId, int stageId, boolean succeeded, long timeMillis) {
        each(monitor -> monitor.stageEnded(sessionId, jobId, stageId, succeeded, timeMillis));
    }

    @Override
    public void jobEnded(String sessionId, int jobId, boolean succeeded, String error, long timeMillis) {
        each(monitor -> monitor.jobEnded(sessionId, jobId, succeeded, error, timeMillis));
    }
}
