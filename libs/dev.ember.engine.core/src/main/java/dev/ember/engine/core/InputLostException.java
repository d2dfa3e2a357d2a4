package dev.ember.engine.core;

/**
 * A task's input could not be read because the node that kept it is gone (a cluster member left with its shuffle
 * output). Not the task's fault: the stage loop makes the lost output again, then runs the task again.
 */
public final class InputLostException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String node;

    /** @param node the node that kept the input (a cluster member's id) */
    public InputLostException(String node, String message, Throwable cause) {
        super(message, cause);
        this.node = node;
    }

    public String node() {
        return node;
    }
}
