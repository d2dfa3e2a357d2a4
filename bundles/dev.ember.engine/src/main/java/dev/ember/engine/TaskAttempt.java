package dev.ember.engine;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import dev.ember.api.Frames;
import dev.ember.api.StagePlan;
import dev.ember.engine.WorkerPool.PooledWorker;

/**
 * Runs one task on one worker. Sends a header frame, the command (unless the worker has it), the input frames and
 * {@link Frames#END_OF_DATA}; reads output frames until {@code END_OF_DATA}, or an exception report.
 * <p>
 * Input is written from a second thread when it is large, because the worker streams output while it still reads
 * input: if both sides block on a full socket buffer, neither would move.
 */
final class TaskAttempt {

    private static final int INLINE_INPUT_BYTES = 64 * 1024;

    private final ExecutorService writers;

    TaskAttempt(ExecutorService writers) {
        this.writers = writers;
    }

    List<byte[]> run(PooledWorker worker, int jobId, StagePlan stage, int partition, int attempt,
            List<byte[]> input) throws IOException, UserCodeException {
        DataOutputStream out = worker.channel.output();
        DataInputStream in = worker.channel.input();
        boolean sendCommand = worker.needsCommand(stage.commandId());
        try {
            String header = "{\"job\":" + jobId + ",\"stage\":" + stage.id() + ",\"partition\":" + partition
                    + ",\"attempt\":" + attempt + ",\"commandId\":\"" + stage.commandId() + "\",\"hasCommand\":"
                    + sendCommand + "}";
            writeFrame(out, header.getBytes(StandardCharsets.UTF_8));
            if (sendCommand) {
                writeFrame(out, stage.command());
            }
            long inputBytes = 0;
            for (byte[] frame : input) {
                inputBytes += frame.length;
            }
            Future<?> writer = null;
            if (inputBytes <= INLINE_INPUT_BYTES) {
                writeInput(out, input);
            } else {
                out.flush();
                writer = writers.submit(() -> {
                    writeInput(out, input);
                    return null;
                });
            }
            List<byte[]> output;
            try {
                output = readOutput(in);
            } catch (UserCodeException e) {
                // The worker drained its input before reporting, so the writer is finishing too.
                awaitWriter(writer);
                throw e;
            }
            awaitWriter(writer);
            return output;
        } catch (IOException | RuntimeException e) {
            worker.forgetCommand(stage.commandId());
            throw e;
        }
    }

    private static void writeInput(DataOutputStream out, List<byte[]> input) throws IOException {
        for (byte[] frame : input) {
            writeFrame(out, frame);
        }
        out.writeInt(Frames.END_OF_DATA);
        out.flush();
    }

    private static List<byte[]> readOutput(DataInputStream in) throws IOException, UserCodeException {
        List<byte[]> output = new ArrayList<>();
        while (true) {
            int length = in.readInt();
            if (length >= 0) {
                output.add(readExactly(in, length));
                continue;
            }
            switch (length) {
                case Frames.END_OF_DATA:
                    return output;
                case Frames.TIMING:
                    readFrame(in);
                    break;
                case Frames.EXCEPTION:
                    throw new UserCodeException(new String(readFrame(in), StandardCharsets.UTF_8));
                default:
                    throw new IOException("worker protocol error: unexpected control code " + length);
            }
        }
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
            throw new IOException("sending task input failed: " + e.getCause(), e.getCause());
        }
    }

    private static void writeFrame(DataOutputStream out, byte[] frame) throws IOException {
        out.writeInt(frame.length);
        out.write(frame);
    }

    private static byte[] readFrame(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            throw new IOException("worker protocol error: expected a frame, got control code " + length);
        }
        return readExactly(in, length);
    }

    private static byte[] readExactly(DataInputStream in, int length) throws IOException {
        byte[] frame = new byte[length];
        in.readFully(frame);
        return frame;
    }
}
