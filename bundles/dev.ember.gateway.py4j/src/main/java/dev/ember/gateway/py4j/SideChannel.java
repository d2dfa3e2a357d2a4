package dev.ember.gateway.py4j;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import com.google.gson.JsonObject;

import dev.ember.api.frames.Frames;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobHandle;
import dev.ember.security.RefusalLog;

/**
 * The socket bulk data takes between drivers and the JVM, so it never rides Py4J. One request per connection:
 * the client sends the secret as a frame (answered by {@code 0}), then a JSON request frame whose {@code session}
 * is the session's token ({@link DriverSession#token()}), not its id:
 * <ul>
 * <li>{@code {"op":"store","session":S,"partitions":N}} followed, per partition, by frames and
 * {@link Frames#END_OF_DATA}; answered by the dataset id.</li>
 * <li>{@code {"op":"blob","session":S}} followed by one frame; answered by the blob id.</li>
 * <li>{@code {"op":"broadcast","session":S,"id":B}} followed by one frame (the pickled value); answered by B.</li>
 * <li>{@code {"op":"attach","session":S}}: answered by {@code 0}; the driver then keeps the connection open for the
 * life of its session. When it closes (the driver stopped, crashed or was killed), the session is closed: its jobs
 * are cancelled and everything it held is freed.</li>
 * <li>{@code {"op":"results","session":S,"job":J}}: answered, per requested partition, by its frames and
 * {@code END_OF_DATA} (for a job submitted with events, preceded by {@link Frames#PROGRESS} event frames as tasks
 * start and end), then the job's accumulator update frames and {@code END_OF_DATA}, then
 * {@link Frames#END_OF_STREAM}; or at any point by {@link Frames#EXCEPTION} and a JSON frame
 * {@code {"kind":…,"message":…}}. With {@code "stream":true}, a job that can (see
 * {@link JobHandle#attachResults}) answers in the streamed form instead: {@link Frames#STREAMED_RESULTS}, then
 * result frames as tasks make them, tagged with their position, in any order ({@link Frames#RESULT_FRAME},
 * {@link Frames#RESULT_RESTART}, {@link Frames#RESULT_END}) with events between them, then the accumulator updates
 * and the end as above. The JVM then keeps no result.</li>
 * </ul>
 */
final class SideChannel implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SideChannel.class.getName());
    private static final int MAX_REQUEST_BYTES = 1 << 20;
    private static final int MAX_SECRET_BYTES = 4096;
    private static final int MAX_UNAUTHENTICATED = 16;
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;

    private final ServerSocket server;
    private final byte[] secret;
    private final Map<String, DriverSession> sessions;
    private final ExecutorService handlers;
    /** Connections that have not presented the secret yet, at most {@link #MAX_UNAUTHENTICATED} at a time. */
    private final Semaphore unauthenticated = new Semaphore(MAX_UNAUTHENTICATED);
    private final RefusalLog refusals = new RefusalLog("side socket", 10, LOG::warning);

    SideChannel(InetAddress address, String secret, Map<String, DriverSession> sessions) throws IOException {
        this.server = new ServerSocket(0, 50, address);
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.sessions = sessions;
        AtomicInteger count = new AtomicInteger();
        this.handlers = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "ember-side-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        Thread acceptor = new Thread(this::acceptLoop, "ember-side-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                if (!unauthenticated.tryAcquire()) {
                    refusals.refused("more than " + MAX_UNAUTHENTICATED + " connections are authenticating at once");
                    socket.close();
                    continue;
                }
                handlers.execute(() -> serve(socket));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.warning("side socket accept failed: " + e);
                }
            }
        }
    }

    private void serve(Socket socket) {
        boolean authenticated = false;
        try (socket) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            byte[] offered = readFrame(in, MAX_SECRET_BYTES);
            if (!MessageDigest.isEqual(secret, offered)) {
                refusals.refused("a wrong secret");
                sendError(out, "SETUP", "authentication failed: wrong secret for the Ember gateway side socket");
                return;
            }
            authenticated = true;
            unauthenticated.release();
            out.writeInt(0);
            out.flush();
            socket.setSoTimeout(0);
            JsonObject request = Json.parseObject(new String(readFrame(in, MAX_REQUEST_BYTES), StandardCharsets.UTF_8),
                    "side socket request");
            try {
                handle(request, in, out);
            } catch (IllegalArgumentException | IllegalStateException e) {
                // A request the engine refuses (a closed session, a bad argument): the driver hears why, instead of
                // a dropped connection it would take for a gateway restart.
                sendError(out, "SETUP", e.getMessage() == null ? e.toString() : e.getMessage());
            }
            out.flush();
        } catch (IllegalArgumentException e) {
            LOG.warning("side socket: bad request: " + e.getMessage());
        } catch (SocketTimeoutException e) {
            if (!authenticated) {
                refusals.refused("no secret within " + HANDSHAKE_TIMEOUT_MILLIS / 1000 + " s");
            }
        } catch (SocketException e) {
            // The driver went away mid-transfer; nothing to answer.
        } catch (IOException e) {
            if (!authenticated) {
                refusals.refused(e.getMessage());
            }
            LOG.fine("side socket: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!authenticated) {
                unauthenticated.release();
            }
        }
    }

    private void handle(JsonObject request, DataInputStream in, DataOutputStream out)
            throws IOException, InterruptedException {
        String op = Json.string(request, "op", "side socket request");
        DriverSession session = sessions.get(Json.string(request, "session", "side socket request"));
        if (session == null) {
            // The request names its session by the token only its driver was given: an unknown one is not echoed.
            sendError(out, "SETUP", "unknown or closed session (no session has the token this request gave)");
            return;
        }
        switch (op) {
            case "store" -> {
                int partitions = Json.integer(request, "partitions", "store request");
                List<List<byte[]>> data = new ArrayList<>(partitions);
                for (int i = 0; i < partitions; i++) {
                    data.add(readSection(in));
                }
                out.writeInt(session.engineSession().storeDataset(data));
            }
            case "blob" -> out.writeInt(session.storeBlob(readFrame(in, Integer.MAX_VALUE)));
            case "broadcast" -> {
                int broadcastId = Json.integer(request, "id", "broadcast request");
                session.engineSession().storeBroadcast(broadcastId, readFrame(in, Integer.MAX_VALUE));
                out.writeInt(broadcastId);
            }
            case "results" -> streamResults(session, Json.integer(request, "job", "results request"),
                    request.has("stream") && request.get("stream").getAsBoolean(), out);
            case "attach" -> {
                session.attached();
                out.writeInt(0);
                out.flush();
                // Nothing more is sent on this connection; its end is the signal.
                while (in.read() >= 0) {
                    // Ignore anything the driver sends.
                }
                if (sessions.containsKey(session.token())) {
                    LOG.info("driver of session " + session.id() + " disconnected; closing its session");
                    session.stop();
                }
            }
            default -> sendError(out, "SETUP", "unknown side socket operation '" + op + "'");
        }
    }

    private void streamResults(DriverSession session, int jobId, boolean streamed, DataOutputStream out)
            throws IOException, InterruptedException {
        DriverSession.SubmittedJob submitted = session.takeJob(jobId);
        if (submitted == null) {
            sendError(out, "SETUP", "job " + jobId + " is unknown or its results were already read");
            return;
        }
        JobHandle job = submitted.handle();
        ProgressEvents events = submitted.events();
        if (events != null && !events.engineReports()) {
            events = null; // Its results come all the same; no progress or output events will.
        }
        if (streamed) {
            StreamedResults sink = new StreamedResults(out, job, handlers);
            if (job.attachResults(sink)) {
                sendStreamed(job, events, sink);
                return;
            }
        }
        boolean sentJobEnd = false;
        int[] partitions = submitted.partitions();
        try {
            for (int position = 0; position < job.resultCount(); position++) {
                // Until this partition is done, pass the job's events on as they come (every task end is one).
                while (events != null && !events.isResultReady(partitions[position]) && !events.hasEnded()) {
                    JsonObject event = events.poll();
                    if (event == null) {
                        out.flush(); // Only before waiting: a burst of events goes out in one write.
                        event = events.take();
                    }
                    sentJobEnd |= sendEvent(out, event);
                }
                sentJobEnd |= sendPendingEvents(out, events);
                List<byte[]> frames = job.awaitResult(position);
                for (byte[] frame : frames) {
                    out.writeInt(frame.length);
                    out.write(frame);
                }
                out.writeInt(Frames.END_OF_DATA);
                job.releaseResult(position);
            }
            List<byte[]> updates = job.awaitAccumulatorUpdates();
            // The job's last events may still be on their way; its end event is always the last one.
            while (events != null && !sentJobEnd) {
                sentJobEnd = sendEvent(out, events.take());
            }
            for (byte[] update : updates) {
                out.writeInt(update.length);
                out.write(update);
            }
            out.writeInt(Frames.END_OF_DATA);
            out.writeInt(Frames.END_OF_STREAM);
        } catch (JobFailedException e) {
            sendError(out, e.kind().name(), e.getMessage(), e.detail());
        } catch (IOException e) {
            // The driver stopped reading (for example take() got enough): the job's remaining work is not needed.
            job.cancel("the driver closed the result stream");
            throw e;
        }
    }

    /** The rest of a streamed result stream: the job's events until it ends, then its end. */
    private static void sendStreamed(JobHandle job, ProgressEvents events, StreamedResults sink)
            throws IOException, InterruptedException {
        sink.begin();
        try {
            boolean sentJobEnd = false;
            while (events != null && !sentJobEnd) {
                JsonObject event = events.poll();
                if (event == null) {
                    sink.flush(); // Only before waiting: a burst of events goes out in one write.
                    event = events.take();
                }
                sentJobEnd = sink.event(event);
            }
            sink.finish(job.awaitAccumulatorUpdates());
        } catch (JobFailedException e) {
            sink.fail(e);
        }
    }

    /** Sends the events queued now; true if the job's end was among them. */
    private static boolean sendPendingEvents(DataOutputStream out, ProgressEvents events) throws IOException {
        boolean jobEnd = false;
        if (events != null) {
            for (JsonObject event = events.poll(); event != null; event = events.poll()) {
                jobEnd |= sendEvent(out, event);
            }
        }
        return jobEnd;
    }

    /** Sends one event; true if it was the job's end. */
    private static boolean sendEvent(DataOutputStream out, JsonObject event) throws IOException {
        if (event == ProgressEvents.WAKE) {
            return false;
        }
        byte[] bytes = event.toString().getBytes(StandardCharsets.UTF_8);
        out.writeInt(Frames.PROGRESS);
        out.writeInt(bytes.length);
        out.write(bytes);
        return ProgressEvents.isJobEnd(event);
    }

    private static List<byte[]> readSection(DataInputStream in) throws IOException {
        List<byte[]> frames = new ArrayList<>();
        while (true) {
            int length = in.readInt();
            if (length == Frames.END_OF_DATA) {
                return frames;
            }
            if (length < 0) {
                throw new IOException("unexpected control code " + length + " in uploaded data");
            }
            byte[] frame = new byte[length];
            in.readFully(frame);
            frames.add(frame);
        }
    }

    private static byte[] readFrame(DataInputStream in, int limit) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > limit) {
            throw new IOException("bad frame length " + length);
        }
        byte[] frame = new byte[length];
        in.readFully(frame);
        return frame;
    }

    private static void sendError(DataOutputStream out, String kind, String message) throws IOException {
        sendError(out, kind, message, null);
    }

    /** {@code detail} (the pickled Python exception, opaque here) travels base64-encoded for the driver to rebuild. */
    static void sendError(DataOutputStream out, String kind, String message, byte[] detail)
            throws IOException {
        JsonObject error = new JsonObject();
        error.addProperty("kind", kind);
        error.addProperty("message", message);
        if (detail != null && detail.length > 0) {
            error.addProperty("detail", Base64.getEncoder().encodeToString(detail));
        }
        byte[] bytes = error.toString().getBytes(StandardCharsets.UTF_8);
        out.writeInt(Frames.EXCEPTION);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // Closing anyway.
        }
        handlers.shutdownNow();
    }
}
