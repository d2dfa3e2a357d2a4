package dev.ember.api.worker;

/**
 * A Python worker the engine holds, as the shell and status calls show it.
 *
 * @param pid         the worker's process id
 * @param transport   the name of the transport that reaches it
 * @param sessionId   the session it works for
 * @param tasksServed how many tasks it has finished
 * @param busy        whether it is running a task now
 * @param idleMillis  how long it has been idle (0 while busy)
 */
public record WorkerInfo(long pid, String transport, String sessionId, int tasksServed, boolean busy, long idleMillis) {
}
