package dev.ember.api.monitor;

/**
 * A stage that started running tasks.
 *
 * @param sessionId  its session
 * @param jobId      its job
 * @param stageId    its id in the session (as {@code TaskContext.stageId()} reports it); a stage run again gets a new
 *                   one
 * @param kind       what its output is: {@code shuffle}, {@code cache}, {@code result} or {@code files}
 * @param taskCount  how many tasks it runs now
 * @param timeMillis when it started
 */
public record StageStarted(String sessionId, int jobId, int stageId, String kind, int taskCount, long timeMillis) {
}
