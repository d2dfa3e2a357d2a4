package dev.ember.engine.core;

import java.util.Iterator;

/**
 * What one task attempt ran on and moved, for engine monitors (the web UI). The stage loop makes one per attempt
 * only when a monitor is registered; the task runner fills it in. Written by the attempt's threads, read once the
 * attempt has ended.
 */
public final class TaskMetrics {

    volatile long workerPid;
    volatile String transport;
    volatile long launchMillis;
    volatile long launchNanos;
    volatile long inputBytes;
    volatile boolean inputIsShuffle;
    volatile long outputBytes;
    volatile boolean outputIsShuffle;
    volatile long spilledBytes;

    /** The worker took the attempt now. */
    public void started(long pid, String transportName) {
        this.workerPid = pid;
        this.transport = transportName;
        this.launchMillis = System.currentTimeMillis();
        this.launchNanos = System.nanoTime();
    }

    /** Counts the bytes of the frames sent to the worker as it reads them. */
    public Iterable<byte[]> countInput(Iterable<byte[]> input, boolean fromShuffle) {
        inputIsShuffle = fromShuffle;
        if (input instanceof java.util.List<byte[]> frames) {
            // Kept a list: the attempt writes small in-memory input at once rather than from a writer thread.
            long total = 0;
            for (byte[] frame : frames) {
                total += frame.length;
            }
            inputBytes = total;
            return input;
        }
        return () -> new CountingFrames(input.iterator());
    }

    /** Counts what passes, and closes the source when closed (a spill file's reader holds the file open). */
    private final class CountingFrames implements Iterator<byte[]>, AutoCloseable {
        private final Iterator<byte[]> frames;

        CountingFrames(Iterator<byte[]> frames) {
            this.frames = frames;
        }

        @Override
        public boolean hasNext() {
            return frames.hasNext();
        }

        @Override
        public byte[] next() {
            byte[] frame = frames.next();
            inputBytes += frame.length;
            return frame;
        }

        @Override
        public void close() throws Exception {
            if (frames instanceof AutoCloseable closeable) {
                closeable.close();
            }
        }
    }

    /** What the attempt produced and spilled. */
    public void produced(long bytes, boolean toShuffle, long spilled) {
        this.outputBytes = bytes;
        this.outputIsShuffle = toShuffle;
        this.spilledBytes = spilled;
    }
}
