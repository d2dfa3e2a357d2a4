package dev.ember.engine.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything one stage wrote for later stages: a shuffle (one {@link PartitionedOutput} per map task, bucketed by
 * reduce partition) or a cached RDD (one per partition, a single bucket). Tasks commit their output only when they
 * succeed, so a retried task never counts twice.
 */
public final class StoredOutputs {

    private final int buckets;
    private final PartitionedOutput[] byTask;

    public StoredOutputs(int tasks, int buckets) {
        this.buckets = buckets;
        this.byTask = new PartitionedOutput[tasks];
    }

    public int tasks() {
        return byTask.length;
    }

    public int buckets() {
        return buckets;
    }

    public synchronized void commit(int task, PartitionedOutput output) {
        PartitionedOutput previous = byTask[task];
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

    /** The frames of one bucket across all tasks, in task order. */
    public Iterable<byte[]> bucket(int bucket) {
        PartitionedOutput[] snapshot;
        synchronized (this) {
            snapshot = byTask.clone();
        }
        return Concat.of(snapshot.length, task -> {
            if (snapshot[task] == null) {
                throw new IllegalStateException("output of task " + task + " is missing");
            }
            return snapshot[task].bucket(bucket).iterator();
        });
    }

    /** The frames one task wrote to bucket 0: a cached partition. */
    public Iterable<byte[]> ofTask(int task) {
        PartitionedOutput output;
        synchronized (this) {
            output = byTask[task];
        }
        if (output == null) {
            throw new IllegalStateException("output of task " + task + " is missing");
        }
        return output.bucket(0);
    }

    public synchronized boolean isComplete() {
        for (PartitionedOutput output : byTask) {
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
