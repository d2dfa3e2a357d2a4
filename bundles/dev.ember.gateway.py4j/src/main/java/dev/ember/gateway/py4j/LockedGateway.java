package dev.ember.gateway.py4j;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Set;

import java.net.InetAddress;

import py4j.CallbackClient;
import py4j.Gateway;
import py4j.GatewayServer;
import dev.ember.security.RefusalLog;
import dev.ember.security.Secrets;
import py4j.Protocol;
import py4j.Py4JException;
import py4j.ReturnObject;

/**
 * A Py4J gateway that serves Ember's entry point and nothing else: clients may call the public methods that
 * {@link EntryPoint} and {@link DriverSession} declare themselves (not those inherited from {@code Object}, such as
 * {@code getClass}), and may not construct objects. Together with {@link Py4jGateway}'s class loading, which
 * finds no class outside this bundle's gateway package, this keeps the JVM's classes out of reach even of a client
 * that has the secret.
 */
final class LockedGateway extends Gateway {

    private static final Set<Class<?>> SERVED = Set.of(EntryPoint.class, DriverSession.class);

    LockedGateway(Object entryPoint) {
        // Py4J wants a callback client even when no callbacks are made; it connects only on first use.
        super(entryPoint, new CallbackClient(GatewayServer.DEFAULT_PYTHON_PORT, InetAddress.getLoopbackAddress()));
    }

    @Override
    public ReturnObject invoke(String methodName, String targetObjectId, List<Object> args) {
        Object target = getObject(targetObjectId);
        if (target == null || !SERVED.contains(target.getClass()) || !declares(target.getClass(), methodName)) {
            throw withoutStack(new Py4JException("The Ember gateway only serves its entry point: "
                    + (target == null ? "object " + targetObjectId : target.getClass().getSimpleName()) + "."
                    + methodName + " is not available"));
        }
        ReturnObject result;
        try {
            result = super.invoke(methodName, targetObjectId, args);
        } catch (Py4JException e) {
            throw withoutStack(new Py4JException(e.getMessage()));
        }
        if (result.isError() && getObject(result.getName()) instanceof Throwable thrown) {
            // The client reads the error's text (Py4J's exception command); it learns the messages, not the JVM's
            // code. The whole trace stays in the JVM's log at FINE.
            LOG.log(java.util.logging.Level.FINE, "a client's call " + methodName + " failed", thrown);
            for (Throwable t = thrown; t != null; t = t.getCause()) {
                withoutStack(t);
            }
        } else if (result.isReference() && getObject(result.getName()) instanceof DriverSession session) {
            // Py4J would hold the session object for ever if its driver died without releasing it.
            String id = result.getName();
            session.whenStopped(() -> super.deleteObject(id));
        }
        return result;
    }

    private static <T extends Throwable> T withoutStack(T thrown) {
        thrown.setStackTrace(new StackTraceElement[0]);
        for (Throwable suppressed : thrown.getSuppressed()) {
            suppressed.setStackTrace(new StackTraceElement[0]);
        }
        return thrown;
    }

    /** How many objects Py4J holds for clients (the entry point included), for {@link EntryPoint#status()}. */
    int objectCount() {
        return getBindings().size();
    }

    /**
     * Object ids are unguessable: every client of a service holds the same secret, and Py4J's own ids ("o0", "o1",
     * ...) would let one client call methods on another's session. An id is a capability only the client that
     * received it has.
     */
    @Override
    protected String getNextObjectId() {
        return "o" + Secrets.hex(16); // Py4J's object prefix, then 128 random bits
    }

    /**
     * Py4J's memory command ({@code m d <id>}) means to spare the entry point, but compares the id it read with
     * {@code !=}, so any client could delete it and every later client would fail until a restart. The ids a client
     * can know without having been given them (the entry point's, the JVM view's, the server's) are never deleted;
     * every other id is random, so a client can only delete objects it was handed.
     */
    @Override
    public void deleteObject(String objectId) {
        if (RESERVED_IDS.contains(objectId)) {
            refusals.refused("it asked to delete the shared object '" + objectId + "'");
            return;
        }
        super.deleteObject(objectId);
    }

    private static final Set<String> RESERVED_IDS = Set.of(Protocol.ENTRY_POINT_OBJECT_ID,
            Protocol.DEFAULT_JVM_OBJECT_ID, Protocol.GATEWAY_SERVER_ID);
    private static final java.util.logging.Logger LOG =
            java.util.logging.Logger.getLogger(LockedGateway.class.getName());
    private final RefusalLog refusals = new RefusalLog("gateway", 10, LOG::warning);

    @Override
    public ReturnObject invoke(String fqn, List<Object> args) {
        throw withoutStack(new Py4JException("The Ember gateway does not construct objects (" + fqn + ")"));
    }

    private static boolean declares(Class<?> type, String methodName) {
        for (Method method : type.getDeclaredMethods()) {
            if (method.getName().equals(methodName) && Modifier.isPublic(method.getModifiers())) {
                return true;
            }
        }
        return false;
    }
}
