package dev.ember.gateway.py4j;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executor;

import com.google.gson.JsonObject;

import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.ResultSink;
import dev.ember.api.frames.Frames;

/**
 * A job's result stream in the streamed form ({@link Frames#STREAMED_RESULTS}): the job's task threads write result
 * frames as workers send them, the side socket's thread writes the job's events and its end; one lock keeps every
 * write whole. Once the driver stops reading, writes are dropped and the job is cancelled.
 */
final class StreamedResults implements ResultSink {

    private final DataOutputStream out;
    private final JobHandle job;
    /** Cancels the job off the writing thread, which may hold the engine's locks. */
    private final Executor canceller;
    private boolean begun;
    private boolean closed;
    private IOException broken;

    StreamedResults(DataOutputStream out, JobHandle job, Executor canceller) {
        this.out = out;
        this.job = job;
        this.canceller = canceller;
    }

    /** Writes the marker that starts the streamed form, unless already written. */
    synchronized void begin() {
        write(() -> {
        });
    }

    @Override
    public synchronized void frame(int position, byte[] bytes, int length) {
        write(() -> {
            out.writeInt(Frames.RESULT_FRAME);
            out.writeInt(position);
            out.writeInt(length);
            out.write(bytes, 0, length);
        });
    }

    @Override
    public synchronized void restart(int position) {
        write(() -> {
            out.writeInt(Frames.RESULT_RESTART);
            out.writeInt(position);
        });
    }

    /**
     * Not flushed: the driver needs every result before the job's end, which flushes; a full buffer goes out by
     * itself, and the side socket's thread flushes before it waits for events. A job of many small tasks so sends
     * their ends in a few writes instead of one each.
     */
    @Override
    public synchronized void end(int position) {
        write(() -> {
            out.writeInt(Frames.RESULT_END);
            out.writeInt(position);
        });
    }

    /** Sends a progress event; true if it was the job's end. */
    synchronized boolean event(JsonObject event) {
        if (event == ProgressEvents.WAKE) {
            return false;
        }
        write(() -> {
            byte[] bytes = event.toString().getBytes(StandardCharsets.UTF_8);
            out.writeInt(Frames.PROGRESS);
            out.writeInt(bytes.length);
            out.write(bytes);
        });
        return ProgressEvents.isJobEnd(event);
    }

    synchronized void flush() throws IOException {
        write(out::flush);
        rethrow();
    }

    /** Ends the stream of a job that succeeded: its accumulator updates, then the end. */
    synchronized void finish(List<byte[]> updates) throws IOException {
        write(() -> {
            for (byte[] update : updates) {
                out.writeInt(update.length);
                out.write(update);
            }
            out.writeInt(Frames.END_OF_DATA);
            out.writeInt(Frames.END_OF_STREAM);
            out.flush();
        });
        closed = true;
        rethrow();
    }

    /** Ends the stream of a job that failed. */
    synchronized void fail(JobFailedException failure) throws IOException {
        write(() -> SideChannel.sendError(out, failure.kind().name(), failure.getMessage(), failure.detail()));
        closed = true;
        rethrow();
    }

    private interface Write {
        void run() throws IOException;
    }

    private void write(Write write) {
        if (closed) {
            return;
        }
        try {
            if (!begun) {
                begun = true;
                out.writeInt(Frames.STREAMED_RESULTS);
            }
            write.run();
        } catch (IOException e) {
            // The driver stopped reading (take() got enough, or it went away): the job's remaining work is not needed.
            closed = true;
            broken = e;
            canceller.execute(() -> job.cancel("the driver closed the result stream"));
        }
    }

    private void rethrow() throws IOException {
        if (broken != null) {
            throw broken;
        }
    }
}
