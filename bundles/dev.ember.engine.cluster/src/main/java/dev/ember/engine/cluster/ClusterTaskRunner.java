package dev.ember.engine.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.hazelcast.cluster.Member;

import dev.ember.api.codec.FileSplit;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.StagePlan;
import dev.ember.engine.core.Attempt;
import dev.ember.engine.core.Attempt.Result;
import dev.ember.engine.core.FileInput;
import dev.ember.engine.core.JobRun;
import dev.ember.engine.core.SchedulerSession;
import dev.ember.engine.core.StageInputs;
import dev.ember.engine.core.StoredOutput;
import dev.ember.engine.core.StoredOutputs;
import dev.ember.engine.core.TaskCall;
import dev.ember.engine.core.TaskOutput;
import dev.ember.engine.core.TaskRunner;

/**
 * Runs a session's task attempts on cluster members: each attempt goes to the member with the most free slots, with
 * what it reads (driver data, where each map output of a shuffle is kept, a file split) and what the member lacks of
 * the stage's command and broadcasts; the driver then waits for its result in short calls. A member that leaves
 * takes its running attempts with it, which are tried again elsewhere without counting.
 */
final class ClusterTaskRunner implements TaskRunner {

    private static final System.Logger LOG = System.getLogger(ClusterTaskRunner.class.getName());
    /** How long one await call waits on the member for the result. */
    private static final long AWAIT_MILLIS = 2000;
    /** How long a task waits for a member to appear when the cluster has none. */
    private static final long NO_MEMBER_SECONDS = 30;

    /** What one member holds of this session already. */
    private static final class Known {
        final Set<String> commands = ConcurrentHashMap.newKeySet();
        final Set<Integer> broadcasts = ConcurrentHashMap.newKeySet();
    }

    private final ClusterConnection connection;
    private final String sessionKey;
    private final ExecutorService background;
    private final Map<String, Known> known = new ConcurrentHashMap<>();
    /** The members running attempts of each job now, for cancelling. */
    private final Map<JobRun, Map<String, Integer>> running = new IdentityHashMap<>();

    ClusterTaskRunner(ClusterConnection connection, String sessionKey, ExecutorService background) {
        this.connection = connection;
        this.sessionKey = sessionKey;
        this.background = background;
    }

    String sessionKey() {
        return sessionKey;
    }

    @Override
    public Attempt run(TaskCall call) {
        int partition = call.partition();
        Member member;
        try {
            member = connection.acquire(NO_MEMBER_SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.job().failJob(new JobFailedException(JobFailedException.Kind.CANCELLED, "interrupted while waiting "
                    + "for a cluster member"));
            return Attempt.ended(partition);
        }
        if (member == null) {
            return endJob(call, JobFailedException.Kind.WORKER_LOST, "the cluster " + connection.description()
                    + " has no members (waited " + NO_MEMBER_SECONDS + " s): start members with bin/ember start "
                    + "--cluster conf/cluster.cfg");
        }
        String memberId = member.getUuid().toString();
        track(call.job(), memberId, true);
        try {
            if (call.job().isFailed()) {
                // Cancelled (or failed) while this task waited for a member: abortRunning did not see it then, so
                // it must not start. A job is marked failed before its members are told, so one of the two always
                // sees the other (as in LocalTaskRunner).
                return Attempt.ended(partition);
            }
            return runOn(call, member, memberId);
        } catch (ClusterNode.MemberGone e) {
            connection.lost(memberId);
            LOG.log(System.Logger.Level.WARNING, "job {0} stage {1} partition {2}: {3}; trying it elsewhere",
                    call.job().jobId(), call.stage().id(), partition, e.getMessage());
            return Attempt.failed(Result.NOT_COUNTED, partition, "its member " + ClusterNode.describe(member)
                    + " left the cluster");
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "job " + call.job().jobId() + ": cluster call failed", e);
            return endJob(call, JobFailedException.Kind.SETUP, "the cluster could not run the task: " + e.getMessage());
        } finally {
            track(call.job(), memberId, false);
            connection.release(member);
        }
    }

    private Attempt runOn(TaskCall call, Member member, String memberId) throws ClusterNode.MemberGone {
        StagePlan stage = call.stage();
        Known holds = known.computeIfAbsent(memberId, key -> new Known());
        List<byte[]> blobs = new ArrayList<>();
        JsonObject header = new JsonObject();
        String taskKey = sessionKey + "/t" + call.taskAttemptId();
        header.addProperty("session", sessionKey);
        header.addProperty("client", connection.node().localId());
        header.addProperty("task", taskKey);
        header.addProperty("job", call.job().jobId());
        header.addProperty("jobStage", stage.id());
        header.addProperty("partition", call.partition());
        header.addProperty("attempt", call.attempt());
        header.addProperty("stageId", call.stageId());
        header.addProperty("taskAttemptId", call.taskAttemptId());
        if (call.barrier() != null) {
            header.add("barrier", call.barrier());
        }
        header.addProperty("commandId", stage.commandId());
        boolean sendCommand = !holds.commands.contains(stage.commandId());
        header.addProperty("hasCommand", sendCommand);
        if (sendCommand) {
            blobs.add(stage.command());
        }
        JsonArray newBroadcasts = new JsonArray();
        JsonArray broadcasts = new JsonArray();
        for (Integer id : stage.broadcasts()) {
            broadcasts.add(id);
            byte[] value = call.session().broadcasts().get(id);
            if (value != null && !holds.broadcasts.contains(id)) {
                newBroadcasts.add(id);
                blobs.add(value);
            }
        }
        header.add("broadcasts", broadcasts);
        header.add("newBroadcasts", newBroadcasts);
        JsonObject output = new JsonObject();
        output.addProperty("kind", stage.output().kind().name());
        output.addProperty("id", stage.output().id());
        output.addProperty("numReducers", stage.output().numReducers());
        header.add("output", output);
        header.addProperty("inputCodec", stage.inputCodec());
        header.addProperty("outputCodec", stage.outputCodec());
        header.addProperty("firstInputCodec", StageInputs.inputCodecOf(call.session(), stage, call.partition()));
        header.addProperty("aligned", stage.aligned());
        header.addProperty("pythonExec", call.session().config().pythonExec());
        JsonObject env = new JsonObject();
        call.session().workerSpec().env().forEach(env::addProperty);
        header.add("env", env);
        List<byte[]> data = new ArrayList<>();
        JsonArray inputs = new JsonArray();
        String lost = describeInputs(call, inputs, data);
        if (lost != null) {
            return Attempt.failed(Result.INPUT_LOST, call.partition(), lost);
        }
        blobs.addAll(data);
        header.add("inputs", inputs);
        if (call.fileTarget() != null) {
            JsonObject file = new JsonObject();
            file.addProperty("path", call.fileTarget().file().toString());
            file.addProperty("codec", call.fileTarget().codec().name());
            JsonObject options = new JsonObject();
            call.fileTarget().options().forEach(options::addProperty);
            file.add("options", options);
            header.add("file", file);
        }
        ClusterNode node = connection.node();
        node.call(member, ClusterNode.TASK_EXECUTOR, "start", header, blobs);
        if (sendCommand) {
            holds.commands.add(stage.commandId());
        }
        newBroadcasts.forEach(id -> holds.broadcasts.add(id.getAsInt()));
        call.started().run();
        JsonObject await = new JsonObject();
        await.addProperty("task", taskKey);
        await.addProperty("waitMillis", AWAIT_MILLIS);
        while (true) {
            ClusterReply reply = node.call(member, ClusterNode.TASK_EXECUTOR, "await", await, List.of());
            JsonObject answer = reply.header();
            String state = answer.get("state").getAsString();
            if (state.equals("running")) {
                continue;
            }
            if (state.equals("unknown")) {
                holds.commands.clear();
                holds.broadcasts.clear();
                return Attempt.failed(Result.WORKER_LOST, call.partition(), "member " + ClusterNode.describe(member)
                        + " lost track of the task (it restarted?)");
            }
            if (connection.departed(memberId)) {
                // Its member was counted out while it ran: the result may already have been made elsewhere.
                return Attempt.failed(Result.NOT_COUNTED, call.partition(), "its member left the cluster meanwhile");
            }
            return outcome(call, member, memberId, answer, reply.frames());
        }
    }

    /**
     * Describes the task's input for the member (and collects driver data to ship); returns why it cannot run
     * because output it reads is gone, or null.
     */
    private String describeInputs(TaskCall call, JsonArray inputs, List<byte[]> data) {
        StagePlan stage = call.stage();
        SchedulerSession session = call.session();
        List<StageInputs.Located> parts = new ArrayList<>();
        if (stage.aligned()) {
            stage.input().forEach(segment -> parts.add(new StageInputs.Located(segment, call.partition())));
        } else {
            parts.add(StageInputs.locate(stage, call.partition()));
        }
        for (StageInputs.Located part : parts) {
            InputSegment segment = part.segment();
            JsonObject input = new JsonObject();
            input.addProperty("kind", segment.kind().name());
            input.addProperty("codec", StageInputs.codecOf(session, stage, segment));
            switch (segment.kind()) {
                case EMPTY -> {
                }
                case DATASET -> {
                    List<byte[]> frames = session.dataset(segment.id()).get(part.local());
                    input.addProperty("first", data.size());
                    input.addProperty("frames", frames.size());
                    data.addAll(frames);
                }
                case FILES -> {
                    FileInput files = session.fileInput(segment.id());
                    FileSplit split = files.splits.get(part.local());
                    input.addProperty("path", split.path());
                    input.addProperty("start", split.start());
                    input.addProperty("length", split.length());
                    JsonObject options = new JsonObject();
                    files.options.forEach(options::addProperty);
                    input.add("options", options);
                }
                case SHUFFLE, CACHE -> {
                    boolean shuffle = segment.kind() == InputSegment.Kind.SHUFFLE;
                    StoredOutputs store = shuffle ? session.existingShuffle(segment.id())
                            : session.existingCache(segment.id());
                    StoredOutput[] outputs = store == null ? new StoredOutput[0] : store.outputs();
                    JsonArray owners = new JsonArray();
                    int from = shuffle ? 0 : part.local();
                    int to = shuffle ? outputs.length : part.local() + 1;
                    if (store == null || to > outputs.length) {
                        return "the output of " + (shuffle ? "shuffle " : "cached RDD ") + segment.id() + " is gone";
                    }
                    for (int task = from; task < to; task++) {
                        if (!(outputs[task] instanceof RemoteOutput remote)) {
                            return "output " + task + " of " + (shuffle ? "shuffle " : "cached RDD ") + segment.id()
                                    + " was lost with its member";
                        }
                        JsonObject owner = new JsonObject();
                        owner.addProperty("member", remote.member());
                        owner.addProperty("key", remote.key());
                        owners.add(owner);
                    }
                    input.add("owners", owners);
                    input.addProperty("bucket", shuffle ? part.local() : 0);
                }
                default -> throw new IllegalStateException("unknown input kind " + segment.kind());
            }
            inputs.add(input);
        }
        return null;
    }

    private Attempt outcome(TaskCall call, Member member, String memberId, JsonObject answer, List<byte[]> frames) {
        int partition = call.partition();
        String result = answer.get("result").getAsString();
        switch (result) {
            case "SUCCEEDED": {
                int count = answer.has("results") ? answer.get("results").getAsInt() : 0;
                List<byte[]> results = answer.has("results") ? new ArrayList<>(frames.subList(0, count)) : null;
                byte[] accumulators = answer.has("accumulators") ? frames.get(frames.size() - 1) : null;
                StoredOutput stored = answer.has("stored")
                        ? new RemoteOutput(connection, sessionKey, memberId, answer.get("stored").getAsString()) : null;
                Path file = answer.has("file") ? Path.of(answer.get("file").getAsString()) : null;
                return Attempt.succeeded(partition, new TaskOutput(results, stored, accumulators, file));
            }
            case "USER_CODE":
                return Attempt.failedInPython(partition, answer.get("traceback").getAsString(),
                        frames.isEmpty() ? null : frames.get(0));
            case "INPUT_LOST": {
                String node = answer.get("node").getAsString();
                boolean alive = connection.node().member(node) != null;
                if (alive && answer.has("key")) {
                    // One output the member still running could not read back (a damaged spill file): only that
                    // output is made again.
                    String key = answer.get("key").getAsString();
                    call.session().invalidateOutputs(stored -> stored instanceof RemoteOutput remote
                            && remote.member().equals(node) && remote.key().equals(key));
                } else if (!alive || node.equals(memberId)) {
                    connection.lost(node);
                }
                return Attempt.failed(Result.INPUT_LOST, partition, answer.get("failure").getAsString());
            }
            case "FAILED":
                return endJob(call, JobFailedException.Kind.valueOf(answer.get("kind").getAsString()),
                        answer.get("failure").getAsString() + " (on member " + ClusterNode.describe(member) + ")");
            default: {
                String failure = answer.get("failure").getAsString();
                if (failure.contains("does not hold command")) {
                    known.remove(memberId);
                }
                return Attempt.failed(Result.WORKER_LOST, partition, failure);
            }
        }
    }

    private static Attempt endJob(TaskCall call, JobFailedException.Kind kind, String message) {
        call.job().listener().onTaskEnd(call.job().jobId(), call.stage().id(), call.partition(), false);
        call.job().failJob(new JobFailedException(kind, "Task for partition " + call.partition() + " of stage "
                + call.stage().id() + " (job " + call.job().jobId() + ") failed: " + message));
        return Attempt.ended(call.partition());
    }

    private synchronized void track(JobRun job, String member, boolean start) {
        Map<String, Integer> members = running.computeIfAbsent(job, key -> new ConcurrentHashMap<>());
        if (start) {
            members.merge(member, 1, Integer::sum);
        } else {
            members.computeIfPresent(member, (key, count) -> count <= 1 ? null : count - 1);
            if (members.isEmpty()) {
                running.remove(job);
            }
        }
    }

    @Override
    public void abortRunning(JobRun job) {
        List<String> members;
        synchronized (this) {
            Map<String, Integer> current = running.get(job);
            members = current == null ? List.of() : List.copyOf(current.keySet());
        }
        for (String member : members) {
            background.execute(() -> {
                JsonObject header = new JsonObject();
                header.addProperty("session", sessionKey);
                header.addProperty("job", job.jobId());
                try {
                    connection.node().call(member, ClusterNode.FETCH_EXECUTOR, "cancel", header, List.of());
                } catch (ClusterNode.MemberGone | RuntimeException e) {
                    // Its tasks went with it.
                }
            });
        }
    }
}
