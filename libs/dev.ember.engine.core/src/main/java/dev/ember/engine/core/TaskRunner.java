package dev.ember.engine.core;

import java.util.Collections;
import java.util.List;

/**
 * Where a scheduler's tasks run: on this machine's Python workers (the local engine), or on cluster members. The
 * stage loop ({@link JobRun}) is the same for all: it decides what runs when and how often; a runner runs one
 * attempt.
 */
public interface TaskRunner {

    /**
     * Runs one attempt and reports how it went. Never throws: a problem of the runner itself is an {@link Attempt}
     * too (an error no retry mends fails the job through {@link JobRun#failJob} and returns
     * {@link Attempt.Result#ENDED}).
     */
    Attempt run(TaskCall call);

    /** Stops at once the attempts of this job that are running (it was cancelled, or a barrier attempt failed). */
    void abortRunning(JobRun job);

    /**
     * Whether this runner hands a result stage's frames to the call's {@link TaskCall#results()} collector as they
     * come (so they can stream to the driver); if not, the call has none and results come in {@link TaskOutput}.
     */
    default boolean collectsResults() {
        return false;
    }

    /** The address each task of a barrier stage reports for the coordinator at this port. */
    default List<String> barrierAddresses(int port, int tasks) {
        return Collections.nCopies(tasks, "127.0.0.1:" + port);
    }
}
