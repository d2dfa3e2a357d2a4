package dev.ember.engine.core;

/**
 * What one attempt of a task came to, as a {@link TaskRunner} reports it.
 *
 * @param endedAt when it ended (System.nanoTime()), to order the failures of a barrier stage's tasks
 */
public record Attempt(Result result, TaskOutput output, int partition, String failure, String traceback,
        byte[] pickled, long endedAt) {

    /** The kinds of outcome; each has its own retry budget (see JobRun). */
    public enum Result {
        SUCCEEDED,
        /** The task's Python code raised: counts towards {@code maxTaskFailures}. */
        FAILED_IN_PYTHON,
        /** Its worker (or the node it ran on) was lost: counts towards the worker-loss budget. */
        WORKER_LOST,
        /** Not the task's fault (its transport was swapped out, its node left): tried again without counting. */
        NOT_COUNTED,
        /**
         * Output of an earlier stage that it reads is gone (its node left); the runner has already marked it missing,
         * so the job runs the stages that make it again, then this one.
         */
        INPUT_LOST,
        /** The job ended (failed or cancelled) because of it, or while it ran; nothing more to do. */
        ENDED
    }

    public static Attempt succeeded(int partition, TaskOutput output) {
        return new Attempt(Result.SUCCEEDED, output, partition, null, null, null, System.nanoTime());
    }

    public static Attempt failedInPython(int partition, String traceback, byte[] pickled) {
        return new Attempt(Result.FAILED_IN_PYTHON, null, partition, "failed in Python", traceback, pickled,
                System.nanoTime());
    }

    public static Attempt failed(Result result, int partition, String failure) {
        return new Attempt(result, null, partition, failure, null, null, System.nanoTime());
    }

    public static Attempt ended(int partition) {
        return new Attempt(Result.ENDED, null, partition, "the job ended", null, null, System.nanoTime());
    }
}
