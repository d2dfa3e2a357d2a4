package dev.ember.engine.core;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import dev.ember.api.engine.ResultSink;

/**
 * The result frames of one task attempt of a job's result stage. Until the job has a {@link ResultSink}, frames are
 * kept as arrays for the job to hand out once the task succeeds; once it has one, frames go straight from the
 * worker's stream to the sink through a buffer the task thread reuses, so collecting a large result allocates no
 * array per frame and keeps nothing in the heap. An attempt that fails after it sent frames tells the sink to drop
 * them ({@link ResultSink#restart}).
 */
public final class ResultCollector {

    /** Frames up to this size go through the thread's reused buffer; larger ones (rare) get an array of their own. */
    private static final int MAX_REUSED_BUFFER = 16 << 20;
    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[64 << 10]);

    private final int position;
    private List<byte[]> kept = new ArrayList<>();
    private ResultSink sink;
    private boolean sent;
    private boolean discarded;
    private long bytes;

    ResultCollector(int position) {
        this.position = position;
    }

    /** Reads one frame of {@code length} bytes from the worker's stream. */
    public void read(DataInputStream in, int length) throws IOException {
        ResultSink target;
        synchronized (this) {
            target = sink;
            bytes += length;
            if (target == null) {
                kept.add(FrameInput.readPayload(in, length));
                return;
            }
            byte[] buffer = bufferFor(length);
            in.readFully(buffer, 0, length);
            // Under the lock, so that attach, restart and the job's end of this position never overtake a frame.
            sent = true;
            target.frame(position, buffer, length);
        }
    }

    private static byte[] bufferFor(int length) {
        if (length > MAX_REUSED_BUFFER) {
            return new byte[length];
        }
        byte[] buffer = BUFFER.get();
        if (buffer.length < length) {
            buffer = new byte[Math.max(length, Math.min(MAX_REUSED_BUFFER, buffer.length * 2))];
            BUFFER.set(buffer);
        }
        return buffer;
    }

    /** Sends the frames kept so far to {@code sink}, and every later one as it comes; once only. */
    synchronized void attach(ResultSink target) {
        if (sink != null || discarded) {
            return;
        }
        for (byte[] frame : kept) {
            sent = true;
            target.frame(position, frame, frame.length);
        }
        kept = List.of();
        sink = target;
    }

    /** The attempt did not count: what it sent is withdrawn. */
    synchronized void discard() {
        if (discarded) {
            return;
        }
        discarded = true;
        kept = List.of();
        if (sent) {
            sink.restart(position);
        }
    }

    /** The frames kept because no sink was attached (empty once one is). */
    public synchronized List<byte[]> kept() {
        return kept;
    }

    /** The bytes of every frame the attempt produced, kept or sent. */
    public synchronized long bytes() {
        return bytes;
    }

    int position() {
        return position;
    }
}
