package dev.ember.api.monitor;

/**
 * How a task attempt ended, with what it moved.
 *
 * @param sessionId         its session
 * @param jobId             its job
 * @param stageId           its stage's id in the session
 * @param partition         the partition it computed
 * @param attempt           the attempt number (0 first)
 * @param workerPid         the process id of the worker that ran it, or 0 when none took it
 * @param status            {@code SUCCESS}, {@code FAILED} (its Python code raised), {@code LOST} (its worker was
 *                          lost) or {@code KILLED} (its job ended while it ran)
 * @param error             why it did not succeed, or null
 * @param launchMillis      when a worker took it (epoch milliseconds)
 * @param durationMillis    how long it ran
 * @param inputBytes        bytes of input sent to the worker (from files, datasets, caches, shuffles)
 * @param shuffleReadBytes  of those, the bytes read from shuffle output
 * @param outputBytes       bytes it produced (results, shuffle or cache output, file records)
 * @param shuffleWriteBytes of those, the bytes written as shuffle output
 * @param spilledBytes      bytes of its output the engine spilled to disk
 */
public record TaskEnded(String sessionId, int jobId, int stageId, int partition, int attempt, long workerPid,
        String status, String error, long launchMillis, long durationMillis, long inputBytes, long shuffleReadBytes,
        long outputBytes, long shuffleWriteBytes, long spilledBytes) {
}
