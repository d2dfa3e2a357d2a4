package dev.ember.gateway.py4j;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.logging.Logger;

import javax.net.ServerSocketFactory;

import dev.ember.security.RefusalLog;
import py4j.Gateway;
import py4j.GatewayConnection;
import py4j.GatewayServer;
import py4j.Protocol;
import py4j.Py4JServerConnection;
import py4j.commands.CallCommand;
import py4j.commands.Command;
import py4j.commands.ExceptionCommand;
import py4j.commands.MemoryCommand;

/**
 * A Py4J server whose connections understand only method calls, reference release and exception details: no JVM
 * view, reflection, constructors, fields, arrays or remote shutdown.
 * <p>
 * Before Py4J sees a connection, the gateway checks its handshake itself ({@code "A\n" + secret + "\n"}, what a Py4J
 * client sends first), reading at most {@link #MAX_HANDSHAKE_BYTES} within {@link #HANDSHAKE_TIMEOUT_MILLIS}, with at
 * most {@link #MAX_UNAUTHENTICATED} such connections at a time: Py4J's own check reads the line unbounded, so an
 * unauthenticated peer could make the JVM buffer as much as it liked. A refused connection is closed unanswered
 * and logged (at most one line per interval).
 */
final class LockedGatewayServer extends GatewayServer {

    static final int MAX_HANDSHAKE_BYTES = 4096;
    static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    static final int MAX_UNAUTHENTICATED = 16;
    private static final Logger LOG = Logger.getLogger(LockedGatewayServer.class.getName());

    private static final Set<Class<? extends Command>> ALLOWED = Set.of(CallCommand.class, MemoryCommand.class,
            ExceptionCommand.class);

    private final String secret;
    private final byte[] expectedHandshake;
    private final Semaphore unauthenticated = new Semaphore(MAX_UNAUTHENTICATED);
    private final ExecutorService handshakes = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "ember-gateway-handshake");
        thread.setDaemon(true);
        return thread;
    });
    private final RefusalLog refusals = new RefusalLog("gateway", 10, LOG::warning);
    /** Connections in their handshake, closed when the server shuts down (a blocked read ignores interrupts). */
    private final Set<Socket> authenticating = java.util.concurrent.ConcurrentHashMap.newKeySet();

    LockedGatewayServer(LockedGateway gateway, InetAddress address, int port, String secret,
            ServerSocketFactory sockets) {
        super(gateway, port, address, 0, 0, null, sockets);
        this.secret = secret;
        this.expectedHandshake = ("A\n" + secret + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Called on the accept thread: the handshake is read on a thread of its own, so slow peers hold up nobody. */
    @Override
    protected void processSocket(Socket socket) {
        if (!unauthenticated.tryAcquire()) {
            refusals.refused("more than " + MAX_UNAUTHENTICATED + " connections are authenticating at once");
            closeQuietly(socket);
            return;
        }
        // Tracked from here, so a shutdown closes it even while its handshake task still waits in the queue.
        authenticating.add(socket);
        try {
            handshakes.execute(() -> {
                try {
                    checkHandshake(socket);
                } finally {
                    authenticating.remove(socket);
                    unauthenticated.release();
                }
            });
        } catch (RejectedExecutionException e) {
            authenticating.remove(socket);
            unauthenticated.release();
            closeQuietly(socket);
        }
    }

    private void checkHandshake(Socket socket) {
        byte[] handshake;
        try {
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            handshake = readHandshake(socket.getInputStream());
        } catch (SocketTimeoutException e) {
            refusals.refused("no handshake within " + HANDSHAKE_TIMEOUT_MILLIS / 1000 + " s");
            closeQuietly(socket);
            return;
        } catch (IOException e) {
            closeQuietly(socket);
            return;
        }
        if (handshake == null || !MessageDigest.isEqual(handshake, expectedHandshake)) {
            refusals.refused(handshake == null ? "a handshake longer than " + MAX_HANDSHAKE_BYTES + " bytes"
                    : "a wrong secret");
            if (handshake != null) {
                // Py4J's own answer, so a client with the wrong secret learns that is what went wrong.
                try {
                    socket.getOutputStream().write(Protocol.getOutputErrorCommand("Authentication error: bad auth "
                            + "token").getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // Closing it below anyway.
                }
            }
            closeQuietly(socket);
            return;
        }
        try {
            super.processSocket(new PrefixedSocket(socket, handshake));
        } catch (IOException e) {
            closeQuietly(socket);
        }
    }

    /** The first two lines, as sent; null when they are longer than the limit. */
    private static byte[] readHandshake(InputStream in) throws IOException {
        byte[] buffer = new byte[MAX_HANDSHAKE_BYTES];
        int length = 0;
        int lines = 0;
        while (lines < 2) {
            if (length == buffer.length) {
                return null;
            }
            int next = in.read();
            if (next < 0) {
                throw new IOException("the connection closed during the handshake");
            }
            buffer[length++] = (byte) next;
            if (next == '\n') {
                lines++;
            }
        }
        return Arrays.copyOf(buffer, length);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Refusing it anyway.
        }
    }

    @Override
    public void shutdown(boolean shutdownCallbackClient) {
        handshakes.shutdownNow();
        authenticating.forEach(LockedGatewayServer::closeQuietly);
        super.shutdown(shutdownCallbackClient);
    }

    @Override
    protected Py4JServerConnection createConnection(Gateway gateway, Socket socket) throws IOException {
        LockedConnection connection = new LockedConnection(gateway, socket, secret, getListeners());
        connection.startConnection();
        return connection;
    }

    private static final class LockedConnection extends GatewayConnection {
        LockedConnection(Gateway gateway, Socket socket, String secret, List<py4j.GatewayServerListener> listeners)
                throws IOException {
            super(gateway, socket, secret, null, listeners);
        }

        @Override
        protected void initCommands(Gateway gateway, List<Class<? extends Command>> commands) {
            List<Class<? extends Command>> allowed = new ArrayList<>();
            for (Class<? extends Command> command : commands) {
                if (ALLOWED.contains(command)) {
                    allowed.add(command);
                }
            }
            super.initCommands(gateway, allowed);
        }
    }
}
