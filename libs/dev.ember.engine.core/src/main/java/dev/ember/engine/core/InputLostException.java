package dev.ember.engine.core;

/**
 * A task's input could not be read because what kept it is gone: the node that kept it left (a cluster member with
 * its shuffle output), or a spill file of this JVM was deleted, cut short or overwritten. Not the task's fault: the
 * stage loop makes the lost output again, then runs the task again.
 */
public final class InputLostException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The node of output kept in this JVM (a damaged spill file). */
    public static final String THIS_NODE = "this JVM";

    private final String node;
    private final String key;

    /** @param node the node that kept the input (a cluster member's id) */
    public InputLostException(String node, String message, Throwable cause) {
        this(node, null, message, cause);
    }

    /**
     * @param node the node that kept the input: a cluster member's id, or {@link #THIS_NODE}
     * @param key  the key under which that node kept the lost output, when known (null otherwise)
     */
    public InputLostException(String node, String key, String message, Throwable cause) {
        super(message, cause);
        this.node = node;
        this.key = key;
    }

    public String node() {
        return node;
    }

    /** The key of the lost output on its node, or null. */
    public String key() {
        return key;
    }
}
