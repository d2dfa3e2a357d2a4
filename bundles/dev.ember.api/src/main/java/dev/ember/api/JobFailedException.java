package dev.ember.api;

/** A job did not complete. For an error in user code the message carries the worker's Python traceback. */
public class JobFailedException extends Exception {

    private static final long serialVersionUID = 1L;

    /** What went wrong, for drivers that map failures to their own exception types. */
    public enum Kind {
        /** A user function raised; {@link #getMessage()} holds the Python traceback. */
        USER_CODE,
        /** A worker process died or could not be started or reached. */
        WORKER_LOST,
        /** The job was cancelled. */
        CANCELLED,
        /** Something the engine needs is missing (a transport or codec bundle), or the plan is invalid. */
        SETUP
    }

    private final Kind kind;

    public JobFailedException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public JobFailedException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
