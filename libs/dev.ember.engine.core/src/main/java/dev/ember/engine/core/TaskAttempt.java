package dev.ember.engine.core;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import dev.ember.api.codec.Codec;
import dev.ember.api.codec.FrameWriter;
import dev.ember.api.frames.Frames;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;
import dev.ember.engine.core.WorkerPool.PooledWorker;

/**
 * Runs one task on one worker.
 * <p>
 * To the worker: a JSON header frame; the command frame unless the worker has it; for each broadcast the worker
 * lacks, {@code int32 id} and the value frame; the input frames and {@link Frames#END_OF_DATA}.
 * <p>
 * From the worker: output frames (for a shuffle, each preceded by {@code int32 reduce partition}) and
 * {@code END_OF_DATA}, then either {@link Frames#NULL} or one frame of accumulator updates. Or, if the user's code
 * raised, {@link Frames#EXCEPTION} and a traceback frame (after the worker has read the rest of its input).
 * <p>
 * Input is written from a second thread when it is not small, because the worker streams output while it still
 * reads input: if both sides blocked on a full socket buffer, neither would move.
 */
public final class TaskAttempt {

    private static final int INLINE_INPUT_BYTES = 64 * 1024;
    /** In an input, by identity: write {@link Frames#NEXT_INPUT} here instead of a frame (see AlignedInput). */
    static final byte[] NEXT_INPUT = new byte[0];

    /** What a successful task produced; {@code file} is the attempt's file of a {@code FILES} stage. */
    public record Output(List<byte[]> results, PartitionedOutput partitioned, byte[] accumulatorUpdates, Path file) {
    }

    /**
     * What the task's TaskContext reports: the stage's id in the session, the attempt's id in the session, and for
     * a task of a barrier stage how to reach the barrier coordinator, else null.
     */
    public record Identity(int stageId, long taskAttemptId, JsonObject barrier) {
    }

    /** Where a {@code FILES} stage's task writes: a new file, through the stage's output codec. */
    public record FileTarget(Codec codec, Map<String, String> options, Path file) {
    }

    private final ExecutorService writers;

    public TaskAttempt(ExecutorService writers) {
        this.writers = writers;
    }

    /**
     * @param inputCodec the codec of this task's input frames (a stage reading a union may mix them)
     * @param fileTarget where a {@code FILES} stage's output goes, else null
     */
    public Output run(PooledWorker worker, int jobId, StagePlan stage, Identity identity, int partition, int attempt,
            Iterable<byte[]> input,
            String inputCodec, Map<Integer, byte[]> broadcasts, Supplier<PartitionedOutput> partitionedOutput,
            FileTarget fileTarget, Consumer<String> printed) throws IOException, UserCodeException {
        return run(worker, jobId, stage, identity, partition, attempt, input, inputCodec, broadcasts,
                partitionedOutput, fileTarget, printed, null);
    }

    /**
     * @param collector where a result stage's frames go (kept, or streamed to the driver); null to keep them in
     *                  {@link Output#results()}
     */
    public Output run(PooledWorker worker, int jobId, StagePlan stage, Identity identity, int partition, int attempt,
            Iterable<byte[]> input,
            String inputCodec, Map<Integer, byte[]> broadcasts, Supplier<PartitionedOutput> partitionedOutput,
            FileTarget fileTarget, Consumer<String> printed, ResultCollector collector)
            throws IOException, UserCodeException {
        DataOutputStream out = worker.channel.output();
        DataInputStream in = worker.channel.input();
        boolean sendCommand = worker.needsCommand(stage.commandId());
        List<Integer> newBroadcasts = new ArrayList<>();
        for (Integer id : stage.broadcasts()) {
            if (!worker.knownBroadcasts.contains(id)) {
                newBroadcasts.add(id);
            }
        }
        List<Integer> forget = worker.knownBroadcasts.stream().filter(id -> !broadcasts.containsKey(id)).toList();
        StageOutput output = stage.output();
        try {
            JsonObject header = new JsonObject();
            header.addProperty("job", jobId);
            header.addProperty("stage", stage.id());
            header.addProperty("stageId", identity.stageId());
            header.addProperty("taskAttemptId", identity.taskAttemptId());
            if (identity.barrier() != null) {
                header.add("barrier", identity.barrier());
            }
            if (stage.aligned()) {
                header.addProperty("aligned", true);
            }
            header.addProperty("partition", partition);
            header.addProperty("attempt", attempt);
            header.addProperty("commandId", stage.commandId());
            header.addProperty("hasCommand", sendCommand);
            header.addProperty("output", output.kind().name().toLowerCase(java.util.Locale.ROOT));
            header.addProperty("numReducers", output.numReducers());
            header.add("newBroadcasts", integers(newBroadcasts));
            header.add("forgetBroadcasts", integers(forget));
            header.addProperty("inputCodec", inputCodec);
            header.addProperty("outputCodec", stage.outputCodec());
            header.addProperty("captureOutput", printed != null);
            writeFrame(out, header.toString().getBytes(StandardCharsets.UTF_8));
            if (sendCommand) {
                writeFrame(out, stage.command());
            }
            worker.knownBroadcasts.removeAll(forget);
            for (Integer id : newBroadcasts) {
                byte[] value = broadcasts.get(id);
                if (value == null) {
                    throw new IllegalStateException("broadcast " + id + " was destroyed; it cannot be used");
                }
                out.writeInt(id);
                writeFrame(out, value);
                worker.knownBroadcasts.add(id);
            }
            Future<?> writer = startInput(worker, out, input);
            Output result;
            try {
                result = readOutput(new TaskInput(in, printed), output, partitionedOutput, fileTarget, collector);
            } catch (UserCodeException e) {
                // The worker drained its input before reporting, so the writer is finishing too.
                awaitWriter(writer);
                throw e;
            } catch (IOException | RuntimeException e) {
                // The worker's stream broke because reading the input failed: that is the error to report.
                rethrowFileFailure(writer);
                throw e;
            }
            awaitWriter(writer);
            return result;
        } catch (IOException | RuntimeException e) {
            worker.forgetCommand(stage.commandId());
            throw e;
        }
    }

    private static JsonArray integers(List<Integer> values) {
        JsonArray array = new JsonArray();
        values.forEach(array::add);
        return array;
    }

    /** Writes small in-memory input at once; anything else from a writer thread, whose future is returned. */
    private Future<?> startInput(PooledWorker worker, DataOutputStream out, Iterable<byte[]> input)
            throws IOException {
        if (input instanceof List<byte[]> list && totalBytes(list) <= INLINE_INPUT_BYTES) {
            writeInput(out, list);
            return null;
        }
        out.flush();
        return writers.submit(() -> {
            try {
                writeInput(out, input);
            } catch (IOException | RuntimeException | Error e) {
                // The worker waits for input that will not come (its file or stored output could not be read, or
                // anything else went wrong here): end it, so the task's reader stops waiting too.
                worker.channel.abort();
                throw e;
            }
            return null;
        });
    }

    private static long totalBytes(List<byte[]> frames) {
        long total = 0;
        for (byte[] frame : frames) {
            total += frame.length;
        }
        return total;
    }

    private static void writeInput(DataOutputStream out, Iterable<byte[]> input) throws IOException {
        Iterator<byte[]> frames = input.iterator();
        try {
            while (frames.hasNext()) {
                byte[] frame = frames.next();
                if (frame == NEXT_INPUT) {
                    out.writeInt(Frames.NEXT_INPUT);
                } else {
                    writeFrame(out, frame);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            if (frames instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    // Releasing the source; the write's own outcome is what matters.
                }
            }
        }
        out.writeInt(Frames.END_OF_DATA);
        out.flush();
    }

    /** The worker's stream for one task: lines the task printed ({@link Frames#OUTPUT}) go to their consumer. */
    private record TaskInput(DataInputStream in, Consumer<String> printed) {

        /** The next length or control code that is not a printed line. */
        int nextCode() throws IOException {
            while (true) {
                int code = FrameInput.readLength(in);
                if (code != Frames.OUTPUT) {
                    return code;
                }
                String line = new String(FrameInput.readFrame(in), StandardCharsets.UTF_8);
                if (printed != null) {
                    printed.accept(line);
                }
            }
        }

        byte[] frame() throws IOException {
            int length = nextCode();
            if (length < 0) {
                throw new IOException("worker protocol error: expected a frame, got control code " + length);
            }
            return FrameInput.readPayload(in, length);
        }
    }

    private static Output readOutput(TaskInput task, StageOutput output, Supplier<PartitionedOutput> partitioned,
            FileTarget fileTarget, ResultCollector collector) throws IOException, UserCodeException {
        DataInputStream in = task.in();
        boolean keyed = output.kind() == StageOutput.Kind.SHUFFLE;
        boolean result = output.kind() == StageOutput.Kind.RESULT;
        // Without a job's collector (a cluster member's task), one that keeps every frame.
        ResultCollector results = !result ? null : collector != null ? collector : new ResultCollector(-1);
        FrameWriter file = fileTarget == null ? null : openFile(fileTarget);
        PartitionedOutput stored = !result && file == null ? partitioned.get() : null;
        try {
            while (true) {
                int code = task.nextCode();
                if (code >= 0) {
                    if (keyed) {
                        stored.add(code, task.frame());
                    } else if (file != null) {
                        writeToFile(file, fileTarget, FrameInput.readPayload(in, code));
                    } else if (results != null) {
                        results.read(in, code);
                    } else {
                        stored.add(0, FrameInput.readPayload(in, code));
                    }
                    continue;
                }
                switch (code) {
                    case Frames.END_OF_DATA:
                        byte[] updates = readOptionalFrame(task);
                        if (file != null) {
                            closeFile(file, fileTarget);
                            file = null;
                        }
                        return new Output(results == null ? null : results.kept(),
                                stored == null ? null : stored.seal(), updates,
                                fileTarget == null ? null : fileTarget.file());
                    case Frames.TIMING:
                        task.frame();
                        break;
                    case Frames.EXCEPTION:
                        String traceback = new String(task.frame(), StandardCharsets.UTF_8);
                        throw new UserCodeException(traceback, task.frame());
                    default:
                        throw new IOException("worker protocol error: unexpected control code " + code);
                }
            }
        } catch (IOException | UserCodeException | RuntimeException e) {
            if (stored != null) {
                stored.discard();
            }
            if (fileTarget != null) {
                discardFile(file, fileTarget);
            }
            throw e;
        }
    }

    private static FrameWriter openFile(FileTarget target) {
        try {
            return target.codec().writer(target.file(), target.options());
        } catch (IOException e) {
            throw FileFailure.writing(target.file().toString(), e);
        }
    }

    private static void writeToFile(FrameWriter file, FileTarget target, byte[] frame) {
        try {
            file.write(frame);
        } catch (IOException e) {
            throw FileFailure.writing(target.file().toString(), e);
        }
    }

    private static void closeFile(FrameWriter file, FileTarget target) {
        try {
            file.close();
        } catch (IOException e) {
            throw FileFailure.writing(target.file().toString(), e);
        }
    }

    /** Drops an unfinished attempt's file. */
    private static void discardFile(FrameWriter file, FileTarget target) {
        try {
            if (file != null) {
                file.close();
            }
        } catch (IOException e) {
            // Deleted below either way.
        }
        try {
            Files.deleteIfExists(target.file());
        } catch (IOException e) {
            // Under _temporary, which the job removes when it ends.
        }
    }

    /**
     * If the input writer stopped because its input could not be read (a file, a stored output, a remote block) or
     * failed in the engine, throws that failure: it, not the worker's broken stream, is what went wrong.
     */
    private static void rethrowFileFailure(Future<?> writer) {
        if (writer == null) {
            return;
        }
        try {
            writer.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException e) {
            // Still writing: the input is not what failed.
        }
    }

    private static byte[] readOptionalFrame(TaskInput task) throws IOException {
        DataInputStream in = task.in();
        int length = task.nextCode();
        if (length == Frames.NULL) {
            return null;
        }
        if (length < 0) {
            throw new IOException("worker protocol error: expected accumulator updates, got control code " + length);
        }
        return FrameInput.readPayload(in, length);
    }

    private static void awaitWriter(Future<?> writer) throws IOException {
        if (writer == null) {
            return;
        }
        try {
            writer.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending task input", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof FileFailure failure) {
                throw failure;
            }
            if (e.getCause() instanceof InputLostException lost) {
                throw lost;
            }
            throw new IOException("sending task input failed: " + e.getCause(), e.getCause());
        }
    }

    private static void writeFrame(DataOutputStream out, byte[] frame) throws IOException {
        out.writeInt(frame.length);
        out.write(frame);
    }
}
