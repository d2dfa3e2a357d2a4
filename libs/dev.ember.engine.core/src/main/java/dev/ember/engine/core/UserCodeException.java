package dev.ember.engine.core;

/** A user function raised in the worker; the message is the worker's Python traceback. */
public final class UserCodeException extends Exception {

    private static final long serialVersionUID = 1L;

    private final byte[] pickled;

    UserCodeException(String traceback, byte[] pickled) {
        super(traceback, null, false, false);
        this.pickled = pickled;
    }

    /** The exception as the worker pickled it, or an empty array if it could not. */
    public byte[] pickled() {
        return pickled;
    }
}
