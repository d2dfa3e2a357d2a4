package dev.ember.engine.core;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import dev.ember.security.Secrets;

/**
 * Where the tasks of a barrier stage attempt meet: {@code BarrierTaskContext.barrier()} and {@code allGather()} in
 * a worker connect here (loopback TCP, whatever transport reaches the worker), and each is answered when every task
 * of its attempt has made the same call. The n-th call of each task meets the n-th call of the others.
 * <p>
 * A connection sends {@code int32 length, secret}, {@code int32 length, token} (its stage attempt),
 * {@code int32 partition}, {@code int32 round}, {@code int32 kind} (1 barrier, 2 allGather) and
 * {@code int32 length, message (UTF-8)}; it is answered {@code int32 0}, {@code int32 count} and that many
 * {@code int32 length, message} frames in partition order, or {@code int32 1} and an error message when the attempt
 * was aborted (another of its tasks failed) or the calls did not match. Lengths read before the secret is checked
 * are bounded, and a connection that does not send its request within 10 s is closed.
 * <p>
 * Started on the first barrier stage, so engines that run none pay nothing.
 */
public final class BarrierCoordinator implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BarrierCoordinator.class.getName());
    static final int BARRIER = 1;
    static final int ALL_GATHER = 2;
    private static final int MAX_SHORT_FIELD = 256;
    private static final int MAX_MESSAGE = 16 << 20;
    private static final int REQUEST_TIMEOUT_MILLIS = 10_000;

    private final ServerSocket server;
    private final String secret;
    private final ExecutorService connections = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "ember-barrier");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Group> groups = new ConcurrentHashMap<>();

    public BarrierCoordinator() throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        secret = Secrets.hex(16);
        Thread acceptor = new Thread(this::accept, "ember-barrier-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String secret() {
        return secret;
    }

    /** A new stage attempt whose tasks compute these partitions. */
    public Group open(int[] partitions) {
        Group group = new Group(Secrets.hex(16), partitions);
        groups.put(group.token, group);
        return group;
    }

    /** The tasks of one barrier stage attempt. */
    public final class Group {
        public final String token;
        private final int[] partitions;
        private final Map<Integer, Round> rounds = new HashMap<>();
        private String aborted;

        private Group(String token, int[] partitions) {
            this.token = token;
            this.partitions = partitions.clone();
        }

        /** Fails the calls waiting now and every later one; forgets the attempt. */
        public void abort(String reason) {
            List<Socket> waiting = new ArrayList<>();
            synchronized (this) {
                if (aborted == null) {
                    aborted = reason;
                }
                rounds.values().forEach(round -> waiting.addAll(round.waiting.values()));
                rounds.clear();
            }
            groups.remove(token);
            waiting.forEach(socket -> reply(socket, null, "the barrier stage attempt was aborted: " + reason));
        }

        /** Ends the attempt after its tasks have finished. */
        public void close() {
            abort("the stage attempt ended");
        }

        private void arrive(Socket socket, int partition, int roundNumber, int kind, String message) {
            int position = -1;
            for (int i = 0; i < partitions.length; i++) {
                if (partitions[i] == partition) {
                    position = i;
                }
            }
            Map<Integer, Socket> complete = null;
            String[] messages = null;
            String problem = null;
            synchronized (this) {
                if (aborted != null) {
                    problem = "the barrier stage attempt was aborted: " + aborted;
                } else if (position < 0) {
                    problem = "partition " + partition + " is not a task of this barrier stage";
                } else {
                    Round round = rounds.computeIfAbsent(roundNumber, n -> new Round(kind, partitions.length));
                    if (round.kind != kind) {
                        problem = "tasks of a barrier stage called barrier() and allGather() in the same round ("
                                + roundNumber + "): every task must make the same calls in the same order";
                    } else if (round.waiting.containsKey(position)) {
                        problem = "partition " + partition + " called twice in round " + roundNumber;
                    } else {
                        round.waiting.put(position, socket);
                        round.messages[position] = message;
                        if (round.waiting.size() == partitions.length) {
                            rounds.remove(roundNumber);
                            complete = round.waiting;
                            messages = round.messages;
                        }
                    }
                }
            }
            if (problem != null) {
                reply(socket, null, problem);
                if (aborted == null && position >= 0) {
                    abort(problem);
                }
                return;
            }
            if (complete != null) {
                for (Socket waiting : complete.values()) {
                    reply(waiting, messages, null);
                }
            }
        }
    }

    private static final class Round {
        final int kind;
        final Map<Integer, Socket> waiting = new HashMap<>();
        final String[] messages;

        Round(int kind, int tasks) {
            this.kind = kind;
            this.messages = new String[tasks];
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.execute(() -> serve(socket));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.log(System.Logger.Level.WARNING, "barrier coordinator: accept failed: {0}", e.toString());
                }
            }
        }
    }

    private void serve(Socket socket) {
        try {
            socket.setSoTimeout(REQUEST_TIMEOUT_MILLIS);
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] offered = readField(in, MAX_SHORT_FIELD);
            if (!MessageDigest.isEqual(offered, secret.getBytes(StandardCharsets.US_ASCII))) {
                LOG.log(System.Logger.Level.WARNING, "barrier coordinator: refused a connection with a wrong secret");
                socket.close();
                return;
            }
            String token = new String(readField(in, MAX_SHORT_FIELD), StandardCharsets.US_ASCII);
            int partition = in.readInt();
            int round = in.readInt();
            int kind = in.readInt();
            String message = new String(readField(in, MAX_MESSAGE), StandardCharsets.UTF_8);
            socket.setSoTimeout(0); // Now it waits for the other tasks, as long as they take.
            Group group = groups.get(token);
            if (group == null) {
                reply(socket, null, "no barrier stage attempt is running under this token (it ended or was aborted)");
            } else if (kind != BARRIER && kind != ALL_GATHER) {
                reply(socket, null, "unknown barrier call " + kind);
            } else {
                group.arrive(socket, partition, round, kind, message);
            }
        } catch (IOException e) {
            closeQuietly(socket);
        }
    }

    private static byte[] readField(DataInputStream in, int limit) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > limit) {
            throw new IOException("field of " + length + " bytes (limit " + limit + ")");
        }
        return in.readNBytes(length);
    }

    /** Answers one waiting call with the round's messages, or with an error; then closes its connection. */
    private static void reply(Socket socket, String[] messages, String error) {
        try (socket) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            if (error != null) {
                out.writeInt(1);
                writeField(out, error);
            } else {
                out.writeInt(0);
                out.writeInt(messages.length);
                for (String message : messages) {
                    writeField(out, message);
                }
            }
            out.flush();
        } catch (IOException e) {
            // The task is gone (killed with its stage attempt): nobody to answer.
        }
    }

    private static void writeField(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Closing a connection that failed.
        }
    }

    @Override
    public void close() {
        groups.values().forEach(group -> group.abort("the engine stopped"));
        closeQuietly(server);
        connections.shutdownNow();
    }

    private static void closeQuietly(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Stopping.
        }
    }
}
