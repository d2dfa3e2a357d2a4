package dev.ember.engine.core;

/**
 * One task's share of a shuffle or a cached RDD, wherever it is kept: in this JVM ({@link PartitionedOutput}) or on
 * the cluster member that produced it.
 */
public interface StoredOutput {

    /** Frees what it holds (memory, spill files, a remote copy); idempotent. */
    void discard();
}
