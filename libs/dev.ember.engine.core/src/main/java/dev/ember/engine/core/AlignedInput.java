package dev.ember.engine.core;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.IntFunction;

/**
 * A task's input in an aligned stage: its partition of each input segment in turn. Before every part but the first
 * come {@link TaskAttempt#NEXT_INPUT} (written as the control code {@code Frames.NEXT_INPUT}) and a frame naming
 * the part's codec. Parts are opened when reached and closed when done (or when the whole input is closed).
 */
public final class AlignedInput implements Iterable<byte[]> {

    private final int parts;
    private final IntFunction<Iterable<byte[]>> part;
    private final IntFunction<String> codec;

    public AlignedInput(int parts, IntFunction<Iterable<byte[]>> part, IntFunction<String> codec) {
        this.parts = parts;
        this.part = part;
        this.codec = codec;
    }

    @Override
    public Iterator<byte[]> iterator() {
        return new Frames();
    }

    private final class Frames implements Iterator<byte[]>, AutoCloseable {
        private int next;
        private Iterator<byte[]> frames = Collections.emptyIterator();
        /** What comes before the frames of the part just opened: the marker, then its codec's name. */
        private byte[][] preamble = new byte[0][];
        private int preambleAt;

        @Override
        public boolean hasNext() {
            while (preambleAt >= preamble.length && !frames.hasNext() && next < parts) {
                close();
                int opened = next++;
                frames = part.apply(opened).iterator();
                preamble = opened == 0 ? new byte[0][]
                        : new byte[][] {TaskAttempt.NEXT_INPUT, codec.apply(opened).getBytes(StandardCharsets.UTF_8)};
                preambleAt = 0;
            }
            return preambleAt < preamble.length || frames.hasNext();
        }

        @Override
        public byte[] next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return preambleAt < preamble.length ? preamble[preambleAt++] : frames.next();
        }

        @Override
        public void close() {
            if (frames instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    // Releasing a part's source; the task's own outcome is what matters.
                }
            }
        }
    }
}
