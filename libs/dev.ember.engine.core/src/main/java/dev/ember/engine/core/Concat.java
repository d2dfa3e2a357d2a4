package dev.ember.engine.core;

import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.IntFunction;

/**
 * Frames from several parts read one part after another, each part opened only when reached. The iterator is
 * {@link AutoCloseable}: a reader that stops early (a {@code take}, a cancelled or failed task) closes it, which
 * closes the part it was in (a spill file), so no file stays open.
 */
public final class Concat {

    private Concat() {
    }

    static Iterable<byte[]> of(int parts, IntFunction<Iterator<byte[]>> part) {
        return () -> new Frames(parts, part);
    }

    private static final class Frames implements Iterator<byte[]>, AutoCloseable {
        private final int parts;
        private final IntFunction<Iterator<byte[]>> part;
        private int next;
        private Iterator<byte[]> frames = Collections.emptyIterator();

        Frames(int parts, IntFunction<Iterator<byte[]>> part) {
            this.parts = parts;
            this.part = part;
        }

        @Override
        public boolean hasNext() {
            while (!frames.hasNext() && next < parts) {
                close();
                frames = part.apply(next++);
            }
            return frames.hasNext();
        }

        @Override
        public byte[] next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return frames.next();
        }

        /** Closes the part being read, if it holds anything open. */
        @Override
        public void close() {
            closePart(frames);
        }
    }

    static void closePart(Iterator<byte[]> frames) {
        if (frames instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // Releasing a source; the reader's own outcome is what matters.
            }
        }
    }
}
