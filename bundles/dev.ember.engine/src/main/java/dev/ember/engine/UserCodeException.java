package dev.ember.engine;

/** A user function raised in the worker; the message is the worker's Python traceback. */
final class UserCodeException extends Exception {

    private static final long serialVersionUID = 1L;

    UserCodeException(String traceback) {
        super(traceback, null, false, false);
    }
}
