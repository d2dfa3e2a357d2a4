package dev.ember.api.monitor;

/**
 * A submitted job.
 *
 * @param sessionId  the session that submitted it
 * @param jobId      its id
 * @param jobGroup   its job group, or null
 * @param callSite   where the driver's program asked for it ({@code collect at wordcount.py:12}), or null
 * @param stageCount how many stages its plan has (some may be skipped)
 * @param timeMillis when it was submitted (epoch milliseconds)
 */
public record JobStarted(String sessionId, int jobId, String jobGroup, String callSite, int stageCount,
        long timeMillis) {
}
