package dev.ember.engine.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import dev.ember.api.codec.Codec;
import dev.ember.api.codec.FileSplit;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;
import dev.ember.api.worker.WorkerSpec;
import dev.ember.api.worker.WorkerTransport;
import dev.ember.engine.core.AlignedInput;
import dev.ember.engine.core.CodecRegistry;
import dev.ember.engine.core.FileFailure;
import dev.ember.engine.core.FileFrames;
import dev.ember.engine.core.FileInput;
import dev.ember.engine.core.InputLostException;
import dev.ember.engine.core.MemoryBudget;
import dev.ember.engine.core.PartitionedOutput;
import dev.ember.engine.core.SchedulerContext;
import dev.ember.engine.core.SpillRoot;
import dev.ember.engine.core.TaskAttempt;
import dev.ember.engine.core.TransportSlot;
import dev.ember.engine.core.UserCodeException;
import dev.ember.engine.core.WorkerPool;
import dev.ember.engine.core.WorkerPool.PooledWorker;
import dev.ember.security.RefusalLog;

/**
 * What a cluster member does for drivers: runs their tasks on its own Python workers (through its own transports
 * and codecs), keeps the shuffle and cache output those tasks make, and serves it to the members whose tasks read
 * it. Every request arrives as a signed {@link ClusterCall}; see {@link #handle}.
 */
final class MemberRuntime {

    private static final System.Logger LOG = System.getLogger(MemberRuntime.class.getName());
    /** How long a cursor over stored output may stay unread before it is closed. */
    private static final long CURSOR_IDLE_MILLIS = 60_000;

    /** One driver session as a member sees it: its broadcasts, commands and the output its tasks left here. */
    static final class MemberSession {
        final String key;
        final String client;
        final Map<Integer, byte[]> broadcasts = new ConcurrentHashMap<>();
        final Map<String, byte[]> commands = new ConcurrentHashMap<>();
        final Map<String, PartitionedOutput> stored = new ConcurrentHashMap<>();

        MemberSession(String key, String client) {
            this.key = key;
            this.client = client;
        }
    }

    /** A task started here: its result once done, and the worker running it meanwhile. */
    private static final class RunningTask {
        final String session;
        final int job;
        final CompletableFuture<ClusterReply> result = new CompletableFuture<>();
        volatile PooledWorker worker;
        volatile boolean cancelled;

        RunningTask(String session, int job) {
            this.session = session;
            this.job = job;
        }
    }

    /** An open read of one bucket of stored output, fetched in chunks by another member. */
    private record Cursor(Iterator<byte[]> frames, AtomicLong lastRead) {
    }

    private final Signer signer;
    private final MemberComponent.Settings settings;
    private final CodecRegistry codecs;
    private final TransportSlot transport;
    private final ExecutorService threads;
    private final WorkerPool pool = new WorkerPool();
    private final TaskAttempt taskAttempt;
    private final MemoryBudget budget;
    private final SpillRoot spillRoot;
    private final RefusalLog refusals = new RefusalLog("cluster member", 10,
            line -> LOG.log(System.Logger.Level.WARNING, line));
    private final Map<String, MemberSession> sessions = new ConcurrentHashMap<>();
    private final Map<String, RunningTask> tasks = new ConcurrentHashMap<>();
    private final Map<String, Cursor> cursors = new ConcurrentHashMap<>();
    private final String pythonVersion;
    private volatile ClusterNode node;

    MemberRuntime(Signer signer, MemberComponent.Settings settings, CodecRegistry codecs, TransportSlot transport,
            ExecutorService threads, String pythonVersion) {
        this.signer = signer;
        this.settings = settings;
        this.codecs = codecs;
        this.transport = transport;
        this.threads = threads;
        this.taskAttempt = new TaskAttempt(threads);
        this.budget = new MemoryBudget(Math.max(0, settings.shuffleMemoryMB()) * 1024L * 1024L);
        this.spillRoot = new SpillRoot(Path.of(settings.spillDirectory().isBlank()
                ? System.getProperty("java.io.tmpdir") : settings.spillDirectory()));
        this.pythonVersion = pythonVersion;
    }

    /** The Hazelcast side of this member, once it runs. */
    void attach(ClusterNode clusterNode) {
        this.node = clusterNode;
    }

    Signer signer() {
        return signer;
    }

    WorkerPool pool() {
        return pool;
    }

    void refused(String op) {
        refusals.refused("a call (" + op + ") not signed with this cluster's secret");
    }

    /** Serves one verified request. */
    ClusterReply handle(String op, JsonObject header, List<byte[]> blobs) throws Exception {
        return switch (op) {
            case "hello" -> hello();
            case "start" -> start(header, blobs);
            case "await" -> await(header);
            case "cancel" -> cancel(header);
            case "fetch" -> fetch(header);
            case "drop" -> drop(header);
            case "endSession" -> endSession(header.get("session").getAsString());
            default -> throw new IllegalArgumentException("unknown cluster call '" + op + "'");
        };
    }

    private ClusterReply hello() {
        JsonObject reply = new JsonObject();
        reply.addProperty("python", pythonVersion);
        reply.addProperty("slots", settings.slots());
        reply.addProperty("running", tasks.size());
        return new ClusterReply(reply, List.of());
    }

    // -- tasks ----------------------------------------------------------------------------------------------------

    private ClusterReply start(JsonObject header, List<byte[]> blobs) {
        String sessionKey = header.get("session").getAsString();
        MemberSession session = sessions.computeIfAbsent(sessionKey,
                key -> new MemberSession(key, header.get("client").getAsString()));
        int next = 0;
        String commandId = header.get("commandId").getAsString();
        if (header.get("hasCommand").getAsBoolean()) {
            session.commands.put(commandId, blobs.get(next++));
        }
        for (JsonElement id : header.getAsJsonArray("newBroadcasts")) {
            session.broadcasts.put(id.getAsInt(), blobs.get(next++));
        }
        List<byte[]> data = blobs.subList(next, blobs.size());
        String taskKey = header.get("task").getAsString();
        RunningTask task = new RunningTask(sessionKey, header.get("job").getAsInt());
        tasks.put(taskKey, task);
        threads.execute(() -> task.result.complete(runTask(session, header, data, task)));
        return new ClusterReply(new JsonObject(), List.of());
    }

    /** Waits up to {@code waitMillis} for a task's result; "running" if it has none yet. */
    private ClusterReply await(JsonObject header) throws InterruptedException {
        String taskKey = header.get("task").getAsString();
        RunningTask task = tasks.get(taskKey);
        if (task == null) {
            JsonObject unknown = new JsonObject();
            unknown.addProperty("state", "unknown");
            return new ClusterReply(unknown, List.of());
        }
        try {
            ClusterReply reply = task.result.get(header.get("waitMillis").getAsLong(), TimeUnit.MILLISECONDS);
            tasks.remove(taskKey);
            return reply;
        } catch (TimeoutException e) {
            JsonObject running = new JsonObject();
            running.addProperty("state", "running");
            return new ClusterReply(running, List.of());
        } catch (ExecutionException e) {
            tasks.remove(taskKey);
            return done("WORKER_LOST", "the member failed to run the task: " + e.getCause(), List.of());
        }
    }

    private ClusterReply cancel(JsonObject header) {
        String session = header.get("session").getAsString();
        int job = header.get("job").getAsInt();
        for (RunningTask task : tasks.values()) {
            if (task.session.equals(session) && task.job == job) {
                task.cancelled = true;
                PooledWorker worker = task.worker;
                if (worker != null) {
                    worker.channel.abort();
                }
            }
        }
        return new ClusterReply(new JsonObject(), List.of());
    }

    /** Runs one task on a local worker and says how it went (never throws). */
    private ClusterReply runTask(MemberSession session, JsonObject header, List<byte[]> data, RunningTask task) {
        String commandId = header.get("commandId").getAsString();
        byte[] command = session.commands.get(commandId);
        if (command == null) {
            return done("WORKER_LOST", "the member does not hold command " + commandId + " of this session", List.of());
        }
        JsonObject output = header.getAsJsonObject("output");
        StageOutput.Kind outputKind = StageOutput.Kind.valueOf(output.get("kind").getAsString());
        int buckets = outputKind == StageOutput.Kind.SHUFFLE ? output.get("numReducers").getAsInt() : 1;
        StagePlan stage = stageOf(header, command, output, outputKind);
        WorkerTransport current;
        try {
            current = transport.await(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return done("WORKER_LOST", "interrupted", List.of());
        }
        if (current == null) {
            return failJob(JobFailedException.Kind.SETUP, "the cluster member has no worker transport installed (start "
                    + "the bundle dev.ember.transport.tcp there)");
        }
        PooledWorker worker;
        try {
            worker = pool.acquire(session.key, workerSpec(header), current);
        } catch (IOException | RuntimeException e) {
            return done("WORKER_LOST", "the member could not start a worker: " + e.getMessage(), List.of());
        }
        task.worker = worker;
        if (task.cancelled) {
            worker.channel.abort();
        }
        JsonObject barrier = header.has("barrier") ? header.getAsJsonObject("barrier") : null;
        TaskAttempt.Identity identity = new TaskAttempt.Identity(header.get("stageId").getAsInt(),
                header.get("taskAttemptId").getAsLong(), barrier);
        try {
            TaskAttempt.Output out = taskAttempt.run(worker, header.get("job").getAsInt(), stage, identity,
                    header.get("partition").getAsInt(), header.get("attempt").getAsInt(),
                    inputOf(session, header, data), header.get("firstInputCodec").getAsString(), session.broadcasts,
                    () -> new PartitionedOutput(buckets, budget, () -> spillRoot.session(session.key)),
                    fileTarget(header), null);
            task.worker = null;
            pool.release(worker, true);
            List<byte[]> frames = new ArrayList<>();
            JsonObject reply = new JsonObject();
            reply.addProperty("state", "done");
            reply.addProperty("result", "SUCCEEDED");
            if (out.results() != null) {
                frames.addAll(out.results());
                reply.addProperty("results", out.results().size());
            }
            if (out.partitioned() != null) {
                String key = header.get("task").getAsString();
                session.stored.put(key, out.partitioned());
                reply.addProperty("stored", key);
            }
            if (out.file() != null) {
                reply.addProperty("file", out.file().toString());
            }
            if (out.accumulatorUpdates() != null) {
                frames.add(out.accumulatorUpdates());
                reply.addProperty("accumulators", true);
            }
            return new ClusterReply(reply, frames);
        } catch (UserCodeException e) {
            task.worker = null;
            pool.release(worker, true);
            JsonObject reply = new JsonObject();
            reply.addProperty("state", "done");
            reply.addProperty("result", "USER_CODE");
            reply.addProperty("traceback", e.getMessage());
            return new ClusterReply(reply, e.pickled() == null ? List.of() : List.of(e.pickled()));
        } catch (InputLostException e) {
            task.worker = null;
            pool.release(worker, false);
            JsonObject reply = new JsonObject();
            reply.addProperty("state", "done");
            reply.addProperty("result", "INPUT_LOST");
            // A spill file of this member's own store was damaged: that output is dropped, and the reply says which.
            boolean damagedHere = InputLostException.THIS_NODE.equals(e.node());
            String key = damagedHere ? dropDamaged(session) : e.key();
            reply.addProperty("node", damagedHere ? node.localId() : e.node());
            if (key != null) {
                reply.addProperty("key", key);
            }
            reply.addProperty("failure", e.getMessage());
            return new ClusterReply(reply, List.of());
        } catch (FileFailure e) {
            task.worker = null;
            worker.channel.abort();
            pool.release(worker, false);
            boolean missing = e.getCause() instanceof java.nio.file.NoSuchFileException
                    || e.getCause() instanceof java.io.FileNotFoundException;
            // The driver listed the files on its own machine: a path it sees may not exist here.
            return failJob(e.kind, e.getMessage() + (missing ? " (on a cluster, input and output paths must be "
                    + "visible at the same place on every node: a shared mount)" : ""));
        } catch (IOException | RuntimeException e) {
            task.worker = null;
            String tail = worker.channel.stderrTail();
            pool.release(worker, false);
            if (task.cancelled) {
                return done("WORKER_LOST", "the task was cancelled", List.of());
            }
            return done("WORKER_LOST", "worker (pid " + worker.channel.pid() + ") on member " + describeSelf()
                    + " was lost: " + e + (tail.isEmpty() ? "" : "\nits last output:\n" + tail), List.of());
        }
    }

    /** The stage as the wire protocol needs it; its input is read here, so its segments are placeholders. */
    private static StagePlan stageOf(JsonObject header, byte[] command, JsonObject output, StageOutput.Kind kind) {
        StageOutput stageOutput = new StageOutput(kind, output.get("id").getAsInt(), output.get("numReducers").getAsInt());
        List<Integer> broadcasts = new ArrayList<>();
        header.getAsJsonArray("broadcasts").forEach(id -> broadcasts.add(id.getAsInt()));
        int parts = header.getAsJsonArray("inputs").size();
        boolean aligned = header.get("aligned").getAsBoolean();
        List<InputSegment> placeholders = Collections.nCopies(aligned ? parts : 1, InputSegment.empty(1));
        return new StagePlan(header.get("jobStage").getAsInt(), header.get("commandId").getAsString(), command,
                placeholders, stageOutput, broadcasts, header.get("inputCodec").getAsString(),
                header.get("outputCodec").getAsString(), header.has("barrier"), aligned);
    }

    private WorkerSpec workerSpec(JsonObject header) {
        Map<String, String> env = new java.util.HashMap<>();
        header.getAsJsonObject("env").entrySet().forEach(entry -> env.put(entry.getKey(),
                entry.getValue().getAsString()));
        String python = settings.python().isBlank() ? header.get("pythonExec").getAsString() : settings.python();
        return new WorkerSpec(python, env);
    }

    private TaskAttempt.FileTarget fileTarget(JsonObject header) {
        if (!header.has("file")) {
            return null;
        }
        JsonObject file = header.getAsJsonObject("file");
        String codecName = file.get("codec").getAsString();
        Codec codec = codecs.codec(codecName);
        if (codec == null) {
            throw new FileFailure(JobFailedException.Kind.SETUP, SchedulerContext.missingCodec(codecName)
                    + " on cluster member " + describeSelf(), null);
        }
        return new TaskAttempt.FileTarget(codec, strings(file.getAsJsonObject("options")),
                Path.of(file.get("path").getAsString()));
    }

    private Iterable<byte[]> inputOf(MemberSession session, JsonObject header, List<byte[]> data) {
        JsonArray inputs = header.getAsJsonArray("inputs");
        if (header.get("aligned").getAsBoolean()) {
            return new AlignedInput(inputs.size(), part -> partInput(session, inputs.get(part).getAsJsonObject(), data),
                    part -> inputs.get(part).getAsJsonObject().get("codec").getAsString());
        }
        return partInput(session, inputs.get(0).getAsJsonObject(), data);
    }

    /** The frames of one input part: shipped with the task, read from a file, or fetched from their keepers. */
    private Iterable<byte[]> partInput(MemberSession session, JsonObject input, List<byte[]> data) {
        switch (InputSegment.Kind.valueOf(input.get("kind").getAsString())) {
            case EMPTY:
                return List.of();
            case DATASET: {
                int first = input.get("first").getAsInt();
                return data.subList(first, first + input.get("frames").getAsInt());
            }
            case FILES: {
                String codecName = input.get("codec").getAsString();
                Codec codec = codecs.codec(codecName);
                if (codec == null) {
                    throw new FileFailure(JobFailedException.Kind.SETUP, SchedulerContext.missingCodec(codecName)
                            + " on cluster member " + describeSelf(), null);
                }
                FileSplit split = new FileSplit(input.get("path").getAsString(), input.get("start").getAsLong(),
                        input.get("length").getAsLong());
                return new FileFrames(codec, new FileInput(codecName, strings(input.getAsJsonObject("options")),
                        List.of(split)), 0);
            }
            case SHUFFLE:
            case CACHE: {
                List<StoredBlock> blocks = new ArrayList<>();
                for (JsonElement owner : input.getAsJsonArray("owners")) {
                    JsonObject o = owner.getAsJsonObject();
                    blocks.add(new StoredBlock(o.get("member").getAsString(), o.get("key").getAsString()));
                }
                int bucket = input.get("bucket").getAsInt();
                return () -> new BlockReader(session, blocks, bucket);
            }
            default:
                throw new IllegalArgumentException("unknown input kind " + input.get("kind"));
        }
    }

    /** One map task's stored output, kept by a member. */
    record StoredBlock(String member, String key) {
    }

    /**
     * Reads one bucket of several stored outputs, in map order: from this member's store directly, from another's
     * in chunks of at most {@code fetchChunkBytes}, one chunk ahead of the reader.
     */
    private final class BlockReader implements Iterator<byte[]>, AutoCloseable {
        private final MemberSession session;
        private final List<StoredBlock> blocks;
        private final int bucket;
        private int nextBlock;
        private Iterator<byte[]> current = Collections.emptyIterator();
        /** For a remote block: the member's cursor, null once its last chunk came. */
        private String cursor;
        private StoredBlock remote;

        BlockReader(MemberSession session, List<StoredBlock> blocks, int bucket) {
            this.session = session;
            this.blocks = blocks;
            this.bucket = bucket;
        }

        @Override
        public boolean hasNext() {
            while (!current.hasNext()) {
                if (remote != null && cursor != null) {
                    current = fetchChunk(remote, null).iterator();
                    continue;
                }
                if (nextBlock >= blocks.size()) {
                    return false;
                }
                StoredBlock block = blocks.get(nextBlock++);
                remote = null;
                if (block.member().equals(node.localId())) {
                    PartitionedOutput local = session.stored.get(block.key());
                    if (local == null) {
                        throw new InputLostException(block.member(), block.key(), "stored output " + block.key()
                                + " is no longer on this member", null);
                    }
                    current = local.bucket(bucket).iterator();
                } else {
                    remote = block;
                    current = fetchChunk(block, block.key()).iterator();
                }
            }
            return true;
        }

        /** One chunk of a remote block: the first (opening a cursor) when {@code key} is given, else the next. */
        private List<byte[]> fetchChunk(StoredBlock block, String key) {
            JsonObject request = new JsonObject();
            request.addProperty("session", session.key);
            if (key != null) {
                request.addProperty("key", key);
                request.addProperty("bucket", bucket);
            } else {
                request.addProperty("cursor", cursor);
            }
            request.addProperty("maxBytes", settings.fetchChunkBytes());
            ClusterReply reply;
            try {
                reply = node.call(block.member(), ClusterNode.FETCH_EXECUTOR, "fetch", request, List.of());
            } catch (ClusterNode.MemberGone e) {
                throw new InputLostException(block.member(), "the member keeping " + block.key() + " is gone: "
                        + e.getMessage(), e);
            }
            JsonObject header = reply.header();
            if (header.has("missing")) {
                throw new InputLostException(block.member(), block.key(), "stored output " + block.key()
                        + " is no longer on member " + block.member(), null);
            }
            cursor = header.has("cursor") ? header.get("cursor").getAsString() : null;
            return reply.frames();
        }

        @Override
        public byte[] next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return current.next();
        }

        @Override
        public void close() {
            if (current instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    // Releasing a spill reader; the task's outcome is decided elsewhere.
                }
            }
        }
    }

    /** Forgets the stored outputs of a session whose spill files turned out damaged; returns the key of one. */
    private static String dropDamaged(MemberSession session) {
        String dropped = null;
        for (Map.Entry<String, PartitionedOutput> entry : session.stored.entrySet()) {
            if (entry.getValue().isDamaged() && session.stored.remove(entry.getKey(), entry.getValue())) {
                entry.getValue().discard();
                dropped = entry.getKey();
            }
        }
        return dropped;
    }

    /** A chunk of stored output for another member's task: up to {@code maxBytes} (at least one frame). */
    private ClusterReply fetch(JsonObject header) {
        String cursorId;
        Cursor cursor;
        if (header.has("key")) {
            MemberSession session = sessions.get(header.get("session").getAsString());
            PartitionedOutput output = session == null ? null : session.stored.get(header.get("key").getAsString());
            if (output == null) {
                JsonObject missing = new JsonObject();
                missing.addProperty("missing", true);
                return new ClusterReply(missing, List.of());
            }
            cursorId = dev.ember.security.Secrets.hex(12);
            cursor = new Cursor(output.bucket(header.get("bucket").getAsInt()).iterator(),
                    new AtomicLong(System.currentTimeMillis()));
        } else {
            cursorId = header.get("cursor").getAsString();
            cursor = cursors.remove(cursorId);
            if (cursor == null) {
                JsonObject missing = new JsonObject();
                missing.addProperty("missing", true);
                return new ClusterReply(missing, List.of());
            }
        }
        long maxBytes = header.get("maxBytes").getAsLong();
        List<byte[]> frames = new ArrayList<>();
        long bytes = 0;
        try {
            while (cursor.frames().hasNext() && (frames.isEmpty() || bytes < maxBytes)) {
                byte[] frame = cursor.frames().next();
                frames.add(frame);
                bytes += frame.length;
            }
        } catch (InputLostException e) {
            // A damaged spill file: the output is dropped here, and the reader is told it is missing.
            closeQuietly(cursor.frames());
            sessions.values().forEach(MemberRuntime::dropDamaged);
            JsonObject missing = new JsonObject();
            missing.addProperty("missing", true);
            return new ClusterReply(missing, List.of());
        }
        JsonObject reply = new JsonObject();
        if (cursor.frames().hasNext()) {
            cursor.lastRead().set(System.currentTimeMillis());
            cursors.put(cursorId, cursor);
            reply.addProperty("cursor", cursorId);
        } else {
            closeQuietly(cursor.frames());
        }
        return new ClusterReply(reply, frames);
    }

    /** Closes the cursors nobody read for a minute (their reader's member died, say). */
    void closeIdleCursors() {
        long now = System.currentTimeMillis();
        cursors.entrySet().removeIf(entry -> {
            boolean idle = now - entry.getValue().lastRead().get() > CURSOR_IDLE_MILLIS;
            if (idle) {
                closeQuietly(entry.getValue().frames());
            }
            return idle;
        });
    }

    private static void closeQuietly(Iterator<byte[]> frames) {
        if (frames instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // Nothing more to release.
            }
        }
    }

    private ClusterReply drop(JsonObject header) {
        MemberSession session = sessions.get(header.get("session").getAsString());
        if (session != null) {
            for (JsonElement key : header.getAsJsonArray("keys")) {
                PartitionedOutput output = session.stored.remove(key.getAsString());
                if (output != null) {
                    output.discard();
                }
            }
        }
        return new ClusterReply(new JsonObject(), List.of());
    }

    /** Frees everything of a session: its driver stopped, or went away. */
    ClusterReply endSession(String sessionKey) {
        MemberSession session = sessions.remove(sessionKey);
        if (session != null) {
            session.stored.values().forEach(PartitionedOutput::discard);
            session.stored.clear();
            pool.retireSession(sessionKey);
            spillRoot.deleteSession(sessionKey);
        }
        return new ClusterReply(new JsonObject(), List.of());
    }

    /** Frees the sessions of a driver that left the cluster. */
    void clientGone(String client) {
        for (MemberSession session : List.copyOf(sessions.values())) {
            if (session.client.equals(client)) {
                LOG.log(System.Logger.Level.INFO, "driver {0} left: freeing its session {1}", client, session.key);
                endSession(session.key);
            }
        }
    }

    /** How many tasks run here now. */
    int runningTasks() {
        return tasks.size();
    }

    void close() {
        for (String key : List.copyOf(sessions.keySet())) {
            endSession(key);
        }
        cursors.values().forEach(cursor -> closeQuietly(cursor.frames()));
        cursors.clear();
        pool.closeAll();
        spillRoot.delete();
    }

    private String describeSelf() {
        ClusterNode current = node;
        return current == null ? "?" : current.describeSelf();
    }

    private static ClusterReply done(String result, String failure, List<byte[]> frames) {
        JsonObject reply = new JsonObject();
        reply.addProperty("state", "done");
        reply.addProperty("result", result);
        reply.addProperty("failure", failure);
        return new ClusterReply(reply, frames);
    }

    private static ClusterReply failJob(JobFailedException.Kind kind, String message) {
        JsonObject reply = new JsonObject();
        reply.addProperty("state", "done");
        reply.addProperty("result", "FAILED");
        reply.addProperty("kind", kind.name());
        reply.addProperty("failure", message);
        return new ClusterReply(reply, List.of());
    }

    static Map<String, String> strings(JsonObject object) {
        Map<String, String> values = new java.util.HashMap<>();
        if (object != null) {
            object.entrySet().forEach(entry -> values.put(entry.getKey(), entry.getValue().getAsString()));
        }
        return values;
    }
}
