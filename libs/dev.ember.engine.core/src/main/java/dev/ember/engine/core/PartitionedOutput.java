package dev.ember.engine.core;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

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
        }
        current = null;
        return this;
    }

    private void spillCurrent() throws IOException {
        if (currentBytes == 0) {
            return;
        }
        runs.add(FileRun.write(current, spillDirectory));
        budget.release(currentReserved);
        current = newBuckets(buckets);
        currentBytes = 0;
        currentReserved = 0;
    }

    /** The frames of one bucket, read lazily from memory and spill files. */
    public Iterable<byte[]> bucket(int bucket) {
        return Concat.of(runs.size(), run -> runs.get(run).frames(bucket));
    }


    /** Frees memory and deletes spill files. */
    @Override
    public void discard() {
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

    /** Buckets written one after another; {@code offsets[b]} is where bucket b starts, {@code counts[b]} its frames. */
    private record FileRun(Path file, long[] offsets, int[] counts) implements Run {

        static FileRun write(List<byte[]>[] lists, SpillDirectory spillDirectory) throws IOException {
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
            try (DataOutputStream out = new DataOutputStream(
                    new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
                long position = 0;
                for (int b = 0; b < lists.length; b++) {
                    offsets[b] = position;
                    counts[b] = lists[b].size();
                    for (byte[] frame : lists[b]) {
                        out.writeInt(frame.length);
                        out.write(frame);
                        position += 4L + frame.length;
                    }
                }
            } catch (IOException e) {
                Files.deleteIfExists(file);
                throw spillFailure(directory, e);
            }
            return new FileRun(file, offsets, counts);
        }

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
                channel.position(offsets[bucket]);
                InputStream stream = Channels.newInputStream(channel);
                in = new DataInputStream(new BufferedInputStream(stream, 1 << 16));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read spill file " + file, e);
            }
            return new SpillFrames(in, count);
        }

        /** The frames of one bucket of a spill file; closes the file when read to the end, or when closed. */
        private final class SpillFrames implements Iterator<byte[]>, AutoCloseable {
            private final DataInputStream in;
            private final int count;
            private int read;

            SpillFrames(DataInputStream in, int count) {
                this.in = in;
                this.count = count;
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
                try {
                    byte[] frame = new byte[in.readInt()];
                    in.readFully(frame);
                    if (++read == count) {
                        in.close();
                    }
                    return frame;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read spill file " + file, e);
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
