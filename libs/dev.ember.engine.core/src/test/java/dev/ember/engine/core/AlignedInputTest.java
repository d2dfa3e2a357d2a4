package dev.ember.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.junit.jupiter.api.Test;

class AlignedInputTest {

    /** A part whose iterator records that it was closed. */
    private static final class Part implements Iterable<byte[]> {
        final List<byte[]> frames;
        boolean closed;
        boolean opened;

        Part(String... frames) {
            this.frames = new ArrayList<>();
            for (String frame : frames) {
                this.frames.add(frame.getBytes(StandardCharsets.UTF_8));
            }
        }

        @Override
        public Iterator<byte[]> iterator() {
            opened = true;
            Iterator<byte[]> inner = frames.iterator();
            return new CloseableIterator(inner, this);
        }
    }

    private record CloseableIterator(Iterator<byte[]> inner, Part part) implements Iterator<byte[]>, AutoCloseable {
        @Override
        public boolean hasNext() {
            return inner.hasNext();
        }

        @Override
        public byte[] next() {
            return inner.next();
        }

        @Override
        public void close() {
            part.closed = true;
        }
    }

    @Test
    void partsFollowEachOtherWithAMarkerAndTheirCodecBetweenThem() throws Exception {
        Part[] parts = {new Part("a1", "a2"), new Part(), new Part("c1")};
        String[] codecs = {"pickle", "text", "json"};
        AlignedInput input = new AlignedInput(3, i -> parts[i], i -> codecs[i]);
        List<String> seen = new ArrayList<>();
        Iterator<byte[]> frames = input.iterator();
        while (frames.hasNext()) {
            byte[] frame = frames.next();
            seen.add(frame == TaskAttempt.NEXT_INPUT ? "<next>" : new String(frame, StandardCharsets.UTF_8));
        }
        assertEquals(List.of("a1", "a2", "<next>", "text", "<next>", "json", "c1"), seen);
        assertTrue(parts[0].closed && parts[1].closed, "finished parts are closed as the next opens");
        ((AutoCloseable) frames).close();
        assertTrue(parts[2].closed, "the last part is closed with the input");
    }

    @Test
    void aPartIsOpenedOnlyWhenReached() {
        Part[] parts = {new Part("x"), new Part("y")};
        Iterator<byte[]> frames = new AlignedInput(2, i -> parts[i], i -> "pickle").iterator();
        assertEquals("x", new String(frames.next(), StandardCharsets.UTF_8));
        assertTrue(parts[0].opened);
        assertTrue(!parts[1].opened);
        assertSame(TaskAttempt.NEXT_INPUT, frames.next());
        assertTrue(parts[1].opened);
    }
}
