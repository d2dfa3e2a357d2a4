package dev.ember.api.engine;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where a job streams its results (see {@link JobHandle#attachResults}). Calls for one position come in order;
 * calls for different positions may interleave and come from different threads, one call at a time per position.
 * A sink does not throw: one whose reader went away drops what it is given (and cancels the job).
 */
@ConsumerType
public interface ResultSink {

    /** One frame of the result at {@code position}: the first {@code length} bytes of {@code bytes}. */
    void frame(int position, byte[] bytes, int length);

    /** The frames of {@code position} given so far are void: its task runs again and gives them from the start. */
    void restart(int position);

    /** The result at {@code position} is complete: every frame of it was given. */
    void end(int position);
}
