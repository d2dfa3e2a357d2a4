package dev.ember.api.monitor;

import dev.ember.api.engine.SessionInfo;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Observes every session, job, stage and task of the engines (a whiteboard service: register one and each engine
 * calls it). Called from engine threads while jobs run: implementations must return quickly and never throw. An
 * engine with no monitor registered builds none of these records.
 */
@ConsumerType
public interface EngineMonitor {

    /** A driver's session opened. */
    default void sessionOpened(SessionInfo session) {
    }

    /** A session closed (its driver stopped or went away). */
    default void sessionClosed(String sessionId, long timeMillis) {
    }

    /** A job was submitted. */
    default void jobStarted(JobStarted job) {
    }

    /** A stage of a job started running tasks (a stage whose output was there already is skipped: no event). */
    default void stageStarted(StageStarted stage) {
    }

    /** A task attempt was handed to a worker. */
    default void taskStarted(TaskStarted task) {
    }

    /** A task attempt ended, however it ended. */
    default void taskEnded(TaskEnded task) {
    }

    /** A stage ended. */
    default void stageEnded(String sessionId, int jobId, int stageId, boolean succeeded, long timeMillis) {
    }

    /** A job ended; {@code error} is its failure's message (with the Python traceback), or null. */
    default void jobEnded(String sessionId, int jobId, boolean succeeded, String error, long timeMillis) {
    }
}
