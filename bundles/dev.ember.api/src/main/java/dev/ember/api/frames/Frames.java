package dev.ember.api.frames;

/**
 * The frame protocol between the JVM, workers and drivers: each frame is a big-endian {@code int32} length and
 * that many bytes. A negative length is a control code instead of a frame.
 */
public final class Frames {

    /** Ends the frames of one partition or one section. */
    public static final int END_OF_DATA = -1;
    /**
     * Followed by one frame holding a UTF-8 error report (a Python traceback from workers); from a worker, also by a
     * second frame with the exception pickled (empty if it could not be pickled).
     */
    public static final int EXCEPTION = -2;
    /** Followed by one frame holding UTF-8 JSON task statistics. */
    public static final int TIMING = -3;
    /** Ends a whole stream: a worker exits, a result stream is complete. */
    public static final int END_OF_STREAM = -4;
    /** A null value. */
    public static final int NULL = -5;
    /** In a result stream: followed by one UTF-8 JSON frame with a progress event for the driver. */
    public static final int PROGRESS = -6;
    /**
     * From a worker whose task captures output: followed by one UTF-8 frame with a line the task printed. May come
     * between any two frames of the task's output.
     */
    public static final int OUTPUT = -7;

    /**
     * In a task's input stream of an aligned stage only: the next input part follows, preceded by one frame naming
     * its codec (UTF-8).
     */
    public static final int NEXT_INPUT = -8;

    /**
     * First in a result stream whose results come as they are made ({@code "stream": true} in the request): the
     * results then come as {@link #RESULT_FRAME}, {@link #RESULT_RESTART} and {@link #RESULT_END} for any position
     * in any order, followed by the accumulator updates section as usual.
     */
    public static final int STREAMED_RESULTS = -9;
    /** In a streamed result stream: followed by {@code int32 position} and one frame of that result. */
    public static final int RESULT_FRAME = -10;
    /**
     * In a streamed result stream: followed by {@code int32 position}; the frames of that result sent so far are
     * void (its task is run again and sends it from the start).
     */
    public static final int RESULT_RESTART = -11;
    /** In a streamed result stream: followed by {@code int32 position}; that result is complete. */
    public static final int RESULT_END = -12;

    private Frames() {
    }
}
