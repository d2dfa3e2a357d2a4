package dev.ember.api.monitor;

/**
 * A task attempt a worker took.
 *
 * @param sessionId  its session
 * @param jobId      its job
 * @param stageId    its stage's id in the session
 * @param partition  the partition it computes
 * @param attempt    the attempt number (0 first)
 * @param workerPid  the process id of the worker running it, or 0 when not known (a cluster member's)
 * @param transport  the transport that reaches that worker, or null
 * @param timeMillis when it started
 */
public record TaskStarted(String sessionId, int jobId, int stageId, int partition, int attempt, long workerPid,
        String transport, long timeMillis) {
}
