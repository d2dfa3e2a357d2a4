package dev.ember.api.engine;

/**
 * A persisted RDD's stored partitions, as the web UI and status calls show them.
 *
 * @param sessionId        the session that cached it
 * @param rddId            the RDD's id in that session
 * @param partitions       how many partitions it has
 * @param cachedPartitions how many of them are stored now
 * @param memoryBytes      bytes held in memory
 * @param diskBytes        bytes spilled to disk
 */
public record CachedRdd(String sessionId, int rddId, int partitions, int cachedPartitions, long memoryBytes,
        long diskBytes) {
}
