package dev.ember.engine.core;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.zip.CRC32C;

/**
 * The output of one task, split into buckets (the reduce partitions of a shuffle, or a single bucket for a cached
 * partition), as a sequence of runs. A run is held in memory while the {@link MemoryBudget} allows, and written to a
 * spill file, bucket after bucket, when it does not. Reading a bucket goes through the runs in order, so records keep
 * the order the worker wrote them in.
 */
public final class PartitionedOutput implements StoredOutput {

    private final int buckets;
    private final MemoryBudget budget;
    private final SpillDirectory spillDirectory;
    private final List<Run> runs = new ArrayList<>();
    private List<byte[]>[] current;
    private long currentBytes;
    private long currentReserved;
    /** Set when a spill file of this output turned out missing or damaged: its task must be run again. */
    private volatile boolean damaged;
    private boolean discarded;
    /** Frame bytes kept in memory and written to spill files, for the web UI's metrics. */
    private long memoryBytes;
    private long diskBytes;

    /** Where a task's spill files go, made when the first one is written. */
    public interface SpillDirectory {
        Path get() throws IOException;
    }

    public PartitionedOutput(int buckets, MemoryBudget budget, SpillDirectory spillDirectory) {
        this.buckets = buckets;
        this.budget = budget;
        this.spillDirectory = spillDirectory;
        this.current = newBuckets(buckets);
    }

    @SuppressWarnings("unchecked")
    private static List<byte[]>[] newBuckets(int count) {
        List<byte[]>[] lists = new List[count];
        for (int i = 0; i < count; i++) {
            lists[i] = new ArrayList<>();
        }
        return lists;
    }


    /** Adds a frame to a bucket, spilling what is buffered if the memory budget is spent. */
    void add(int bucket, byte[] frame) throws IOException {
        if (bucket < 0 || bucket >= buckets) {
            throw new IOException("worker protocol error: bucket " + bucket + " outside 0.." + (buckets - 1));
        }
        boolean reserved = budget.tryReserve(frame.length);
        if (!reserved) {
            spillCurrent();
            // Others may hold the budget, or the frame alone may exceed it: then it is held unreserved until
            // the next spill or the end of the task.
            reserved = budget.tryReserve(frame.length);
        }
        current[bucket].add(frame);
        currentBytes += frame.length;
        if (reserved) {
            currentReserved += frame.length;
        }
    }

    /** Ends writing: what is still buffered stays in memory as the last run. */
    PartitionedOutput seal() {
        if (currentBytes > 0 || runs.isEmpty()) {
            runs.add(new MemoryRun(current, currentReserved));
            memoryBytes = currentBytes;
        }
        current = null;
        return this;
    }

    private void spillCurrent() throws IOException {
        if (currentBytes == 0) {
            return;
        }
        runs.add(FileRun.write(this, current, spillDirectory));
        diskBytes += currentBytes;
        budget.release(currentReserved);
        current = newBuckets(buckets);
        currentBytes = 0;
        currentReserved = 0;
    }

    /** The frames of one bucket, read lazily from memory and spill files. */
    public Iterable<byte[]> bucket(int bucket) {
        List<Run> snapshot;
        synchronized (this) {
            if (discarded) {
                throw new InputLostException(InputLostException.THIS_NODE, "stored output was dropped while a task "
                        + "was about to read it (its data was found damaged, or it was unpersisted)", null);
            }
            snapshot = List.copyOf(runs);
        }
        return Concat.of(snapshot.size(), run -> snapshot.get(run).frames(bucket));
    }

    /**
     * Reads every spill file through, checking lengths and checksums, and marks the output damaged if one is not
     * whole. For after damage was found: a temp cleaner or a stray process damages many files at once, and outputs
     * found damaged one by one, as tasks read them, would take a round of stages each.
     */
    public boolean verifySpillFiles() {
        List<Run> snapshot;
        synchronized (this) {
            snapshot = List.copyOf(runs);
        }
        for (Run run : snapshot) {
            if (damaged) {
                break;
            }
            if (run instanceof FileRun file) {
                try {
                    for (int b = 0; b < buckets; b++) {
                        for (Iterator<byte[]> frames = file.frames(b); frames.hasNext(); ) {
                            frames.next();
                        }
                    }
                } catch (InputLostException e) {
                    // Marked damaged.
                }
            }
        }
        return !damaged;
    }


    /** Whether a spill file of this output was found missing or damaged (see {@link InputLostException}). */
    public boolean isDamaged() {
        return damaged;
    }

    private InputLostException lost(Path file, String what, Throwable cause) {
        damaged = true;
        return new InputLostException(InputLostException.THIS_NODE, "spill file " + file + " " + what
                + " (removed by a temp cleaner? spillDirectory in conf/dev.ember.engine.cfg sets where they go)", cause);
    }

    @Override
    public synchronized long memoryBytes() {
        return discarded ? 0 : memoryBytes;
    }

    @Override
    public synchronized long diskBytes() {
        return discarded ? 0 : diskBytes;
    }

    /** Frame bytes written so far (in memory and spilled). */
    public synchronized long totalBytes() {
        return memoryBytes + diskBytes + (current == null ? 0 : currentBytes);
    }

    /** Frees memory and deletes spill files. */
    @Override
    public synchronized void discard() {
        discarded = true;
        if (current != null) {
            budget.release(currentReserved);
        }
        current = null;
        for (Run run : runs) {
            run.discard(budget);
        }
        runs.clear();
    }

    private interface Run {
        Iterator<byte[]> frames(int bucket);

        void discard(MemoryBudget budget);
    }

    private record MemoryRun(List<byte[]>[] lists, long reservedBytes) implements Run {
        @Override
        public Iterator<byte[]> frames(int bucket) {
            return lists[bucket].iterator();
        }

        @Override
        public void discard(MemoryBudget budget) {
            budget.release(reservedBytes);
        }
    }

    /**
     * Buckets written one after another, each frame as its length, its CRC-32C and its bytes; bucket b starts at
     * {@code offsets[b]}, ends at {@code offsets[b + 1]} (the last at {@code end}) and holds {@code counts[b]} frames.
     */
    private record FileRun(PartitionedOutput owner, Path file, long[] offsets, long end, int[] counts) implements Run {

        static FileRun write(PartitionedOutput owner, List<byte[]>[] lists, SpillDirectory spillDirectory)
                throws IOException {
            Path file;
            Path directory = null;
            try {
                directory = spillDirectory.get();
                file = Files.createTempFile(directory, "spill-", ".frames");
            } catch (IOException e) {
                throw spillFailure(directory, e);
            }
            long[] offsets = new long[lists.length];
            int[] counts = new int[lists.length];
            long position = 0;
            CRC32C crc = new CRC32C();
            try (DataOutputStream out = new DataOutputStream(
                    new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
                for (int b = 0; b < lists.length; b++) {
                    offsets[b] = position;
                    counts[b] = lists[b].size();
                    for (byte[] frame : lists[b]) {
                        crc.reset();
                        crc.update(frame);
                        out.writeInt(frame.length);
                        out.writeInt((int) crc.getValue());
                        out.write(frame);
                        position += FRAME_HEADER + frame.length;
                    }
                }
            } catch (IOException e) {
                Files.deleteIfExists(file);
                throw spillFailure(directory, e);
            }
            return new FileRun(owner, file, offsets, position, counts);
        }

        /** Length and checksum before each spilled frame. */
        private static final int FRAME_HEADER = 8;

        /** A spill that cannot be written fails the job at once: a retry would hit the same disk. */
        private static FileFailure spillFailure(Path directory, IOException e) {
            return FileFailure.spilling(directory == null ? "the spill directory" : directory.toString(), e);
        }

        @Override
        public Iterator<byte[]> frames(int bucket) {
            int count = counts[bucket];
            if (count == 0) {
                return List.<byte[]>of().iterator();
            }
            DataInputStream in;
            try {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                try {
                    if (channel.size() < end) {
                        throw owner.lost(file, "was cut short (" + channel.size() + " of " + end + " bytes)", null);
                    }
                    channel.position(offsets[bucket]);
                } catch (IOException | RuntimeException e) {
                    channel.close();
                    throw e;
                }
                InputStream stream = Channels.newInputStream(channel);
                in = new DataInputStream(new BufferedInputStream(stream, 1 << 16));
            } catch (java.nio.file.NoSuchFileException e) {
                throw owner.lost(file, "is gone", e);
            } catch (IOException e) {
                throw owner.lost(file, "cannot be read: " + e, e);
            }
            long bucketEnd = bucket + 1 < offsets.length ? offsets[bucket + 1] : end;
            return new SpillFrames(in, count, bucketEnd - offsets[bucket]);
        }

        /** The frames of one bucket of a spill file; closes the file when read to the end, or when closed. */
        private final class SpillFrames implements Iterator<byte[]>, AutoCloseable {
            private final DataInputStream in;
            private final int count;
            private final CRC32C crc = new CRC32C();
            /** Bytes of the bucket not read yet. */
            private long left;
            private int read;

            SpillFrames(DataInputStream in, int count, long bytes) {
                this.in = in;
                this.count = count;
                this.left = bytes;
            }

            @Override
            public boolean hasNext() {
                return read < count;
            }

            @Override
            public byte[] next() {
                if (read >= count) {
                    throw new NoSuchElementException();
                }
                byte[] frame;
                try {
                    int length = in.readInt();
                    int expected = in.readInt();
                    if (length < 0 || length > left - FRAME_HEADER) {
                        close();
                        throw owner.lost(file, "is damaged (a frame of " + length + " bytes where " + left
                                + " are left)", null);
                    }
                    frame = new byte[length];
                    in.readFully(frame);
                    left -= FRAME_HEADER + length;
                    crc.reset();
                    crc.update(frame);
                    if ((int) crc.getValue() != expected) {
                        close();
                        throw owner.lost(file, "is damaged (a checksum does not match)", null);
                    }
                    if (++read == count) {
                        in.close();
                    }
                    return frame;
                } catch (IOException e) {
                    close();
                    throw owner.lost(file, "cannot be read: " + e, e);
                }
            }

            @Override
            public void close() {
                try {
                    in.close();
                } catch (IOException e) {
                    // Closing a file we only read.
                }
            }
        }

        @Override
        public void discard(MemoryBudget budget) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // The session's spill directory is removed as a whole when it closes.
            }
        }
    }
}
