package dev.ember.engine.core;

/**
 * One task's share of a shuffle or a cached RDD, wherever it is kept: in this JVM ({@link PartitionedOutput}) or on
 * the cluster member that produced it.
 */
public interface StoredOutput {

    /** Frees what it holds (memory, spill files, a remote copy); idempotent. */
    void discard();

    /** Bytes of it held in this JVM's memory (0 when kept elsewhere or not known). */
    default long memoryBytes() {
        return 0;
    }

    /** Bytes of it spilled to disk (0 when kept elsewhere or not known). */
    default long diskBytes() {
        return 0;
    }
}
