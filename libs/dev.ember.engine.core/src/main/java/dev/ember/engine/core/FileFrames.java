package dev.ember.engine.core;

import java.io.IOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

import dev.ember.api.codec.Codec;
import dev.ember.api.codec.FrameReader;

/**
 * The frames of one file split, read through its codec as the task's input is sent, so a split larger than memory
 * streams through. A read error surfaces as a {@link FileFailure}; a complete read records how many malformed records
 * the codec skipped.
 */
public final class FileFrames implements Iterable<byte[]> {

    private final Codec codec;
    private final FileInput input;
    private final int split;

    public FileFrames(Codec codec, FileInput input, int split) {
        this.codec = codec;
        this.input = input;
        this.split = split;
    }

    @Override
    public Iterator<byte[]> iterator() {
        FrameReader reader;
        try {
            reader = codec.reader(input.splits.get(split), input.options);
        } catch (IOException e) {
            throw FileFailure.reading(input.splits.get(split).path(), e);
        }
        return new Frames(reader);
    }

    /** Closing it (the task's input writer does, however it ends) releases the file of an abandoned read. */
    private final class Frames implements Iterator<byte[]>, AutoCloseable {
        private final FrameReader reader;
        private byte[] next;
        private boolean done;

        Frames(FrameReader reader) {
            this.reader = reader;
        }

        @Override
        public void close() {
            if (!done) {
                done = true;
                closeQuietly(reader);
            }
        }

        @Override
        public boolean hasNext() {
            if (next == null && !done) {
                try {
                    next = reader.next();
                    if (next == null) {
                        done = true;
                        input.recordSkipped(split, reader.skippedRecords());
                        reader.close();
                    }
                } catch (IOException e) {
                    done = true;
                    closeQuietly(reader);
                    throw FileFailure.reading(input.splits.get(split).path(), e);
                }
            }
            return next != null;
        }

        @Override
        public byte[] next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            byte[] frame = next;
            next = null;
            return frame;
        }
    }

    private static void closeQuietly(FrameReader reader) {
        try {
            reader.close();
        } catch (IOException e) {
            // The read failed already; that error is the one to report.
        }
    }
}
