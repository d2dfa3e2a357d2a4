package dev.ember.engine.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything one stage wrote for later stages: a shuffle (one {@link StoredOutput} per map task, bucketed by reduce
 * partition) or a cached RDD (one per partition, a single bucket). Tasks commit their output only when they succeed,
 * so a retried task never counts twice. Outputs kept in this JVM ({@link PartitionedOutput}) can be read here; those
 * a cluster member keeps are read there.
 */
public final class StoredOutputs {

    private final int buckets;
    private final StoredOutput[] byTask;

    public StoredOutputs(int tasks, int buckets) {
        this.buckets = buckets;
        this.byTask = new StoredOutput[tasks];
    }

    public int tasks() {
        return byTask.length;
    }

    public int buckets() {
        return buckets;
    }

    public synchronized void commit(int task, StoredOutput output) {
        StoredOutput previous = byTask[task];
        byTask[task] = output;
        if (previous != null) {
            previous.discard();
        }
    }

    public synchronized int[] missingTasks() {
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < byTask.length; i++) {
            if (byTask[i] == null) {
                missing.add(i);
            }
        }
        return missing.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The frames of one bucket across all tasks, in task order; the outputs must be kept in this JVM. */
    public Iterable<byte[]> bucket(int bucket) {
        StoredOutput[] snapshot;
        synchronized (this) {
            snapshot = byTask.clone();
        }
        return Concat.of(snapshot.length, task -> local(snapshot[task], task).bucket(bucket).iterator());
    }

    /** The frames one task wrote to bucket 0: a cached partition kept in this JVM. */
    public Iterable<byte[]> ofTask(int task) {
        StoredOutput output;
        synchronized (this) {
            output = byTask[task];
        }
        return local(output, task).bucket(0);
    }

    private static PartitionedOutput local(StoredOutput output, int task) {
        if (output == null) {
            // Dropped since the stage made it (found damaged while another task read it): to be made again.
            throw new InputLostException(InputLostException.THIS_NODE, "output of task " + task + " is missing",
                    null);
        }
        if (!(output instanceof PartitionedOutput local)) {
            throw new IllegalStateException("output of task " + task + " is kept on another node");
        }
        return local;
    }

    /** The output of each task (null where missing), for a scheduler that reads them elsewhere. */
    public synchronized StoredOutput[] outputs() {
        return byTask.clone();
    }

    /**
     * Forgets the outputs that match (kept by a node that left, say), so their tasks count as missing again; returns
     * how many were dropped.
     */
    public synchronized int invalidate(java.util.function.Predicate<StoredOutput> lost) {
        int dropped = 0;
        for (int i = 0; i < byTask.length; i++) {
            if (byTask[i] != null && lost.test(byTask[i])) {
                byTask[i].discard();
                byTask[i] = null;
                dropped++;
            }
        }
        return dropped;
    }

    /** How many tasks' outputs are stored, and their bytes in memory and on disk. */
    public synchronized Usage usage() {
        int stored = 0;
        long memory = 0;
        long disk = 0;
        for (StoredOutput output : byTask) {
            if (output != null) {
                stored++;
                memory += output.memoryBytes();
                disk += output.diskBytes();
            }
        }
        return new Usage(stored, memory, disk);
    }

    /** What {@link #usage()} reports. */
    public record Usage(int storedTasks, long memoryBytes, long diskBytes) {
    }

    public synchronized boolean isComplete() {
        for (StoredOutput output : byTask) {
            if (output == null) {
                return false;
            }
        }
        return true;
    }

    /** Frees memory and deletes spill files. */
    public synchronized void discard() {
        for (int i = 0; i < byTask.length; i++) {
            if (byTask[i] != null) {
                byTask[i].discard();
                byTask[i] = null;
            }
        }
    }
}
