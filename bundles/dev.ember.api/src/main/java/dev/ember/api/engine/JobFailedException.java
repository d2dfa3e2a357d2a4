package dev.ember.api.engine;

/** A job did not complete. For an error in user code the message carries the worker's Python traceback. */
public class JobFailedException extends Exception {

    private static final long serialVersionUID = 1L;

    /** What went wrong, for drivers that map failures to their own exception types. */
    public enum Kind {
        /** A user function raised; {@link #getMessage()} holds the Python traceback. */
        USER_CODE,
        /** A worker process died or could not be started or reached. */
        WORKER_LOST,
        /** Input data is not valid for its codec (invalid UTF-8, a malformed JSON line): retrying cannot help. */
        INPUT,
        /** The job was cancelled. */
        CANCELLED,
        /** Something the engine needs is missing (a transport or codec bundle), or the plan is invalid. */
        SETUP
    }

    private final Kind kind;
    private final byte[] detail;

    public JobFailedException(Kind kind, String message) {
        this(kind, message, (byte[]) null);
    }

    /**
     * @param detail an opaque payload for the driver, such as the user's exception pickled by the worker; may be null
     */
    public JobFailedException(Kind kind, String message, byte[] detail) {
        super(message);
        this.kind = kind;
        this.detail = detail == null ? null : detail.clone();
    }

    public JobFailedException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.detail = null;
    }

    public Kind kind() {
        return kind;
    }

    /** The opaque payload that came with the failure (the pickled Python exception), or null. */
    public byte[] detail() {
        return detail == null ? null : detail.clone();
    }
}
