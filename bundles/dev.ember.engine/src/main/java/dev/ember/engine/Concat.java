package dev.ember.engine;

import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.IntFunction;

/** Frames from several parts read one part after another, each part opened only when reached. */
final class Concat {

    private Concat() {
    }

    static Iterable<byte[]> of(int parts, IntFunction<Iterator<byte[]>> part) {
        return () -> new Iterator<>() {
            private int next;
            private Iterator<byte[]> frames = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!frames.hasNext() && next < parts) {
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
        };
    }
}
