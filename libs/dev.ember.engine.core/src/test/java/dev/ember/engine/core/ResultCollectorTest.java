package dev.ember.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ember.api.engine.ResultSink;

class ResultCollectorTest {

    /** What a sink was told, one line per call. */
    private static final class RecordingSink implements ResultSink {
        final List<String> calls = new ArrayList<>();

        @Override
        public void frame(int position, byte[] bytes, int length) {
            calls.add("frame " + position + " " + new String(Arrays.copyOf(bytes, length), StandardCharsets.UTF_8));
        }

        @Override
        public void restart(int position) {
            calls.add("restart " + position);
        }

        @Override
        public void end(int position) {
            calls.add("end " + position);
        }
    }

    private static DataInputStream stream(String... frames) {
        return new DataInputStream(new ByteArrayInputStream(String.join("", frames).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void keepsFramesUntilASinkComesThenSendsThemInOrderAndTheRestAsTheyCome() throws IOException {
        ResultCollector collector = new ResultCollector(3);
        DataInputStream in = stream("first", "second", "third-and-longer");
        collector.read(in, 5);
        collector.read(in, 6);
        assertEquals(List.of("first", "second"), collector.kept().stream()
                .map(frame -> new String(frame, StandardCharsets.UTF_8)).toList());

        RecordingSink sink = new RecordingSink();
        collector.attach(sink);
        collector.attach(new RecordingSink()); // Only the first sink counts.
        collector.read(in, 16);

        assertEquals(List.of("frame 3 first", "frame 3 second", "frame 3 third-and-longer"), sink.calls);
        assertTrue(collector.kept().isEmpty(), "frames that went to the sink are not kept");
        assertEquals(5 + 6 + 16, collector.bytes());
    }

    @Test
    void anAttemptThatSentFramesWithdrawsThemWhenDiscarded() throws IOException {
        RecordingSink sink = new RecordingSink();
        ResultCollector collector = new ResultCollector(0);
        collector.attach(sink);
        collector.read(stream("partial"), 7);
        collector.discard();
        collector.discard();
        assertEquals(List.of("frame 0 partial", "restart 0"), sink.calls);
    }

    @Test
    void anAttemptThatSentNothingIsDroppedSilently() throws IOException {
        RecordingSink sink = new RecordingSink();
        ResultCollector kept = new ResultCollector(1);
        kept.read(stream("never sent"), 10);
        kept.discard();
        kept.attach(sink); // A sink that comes after the attempt failed gets nothing of it.
        ResultCollector empty = new ResultCollector(2);
        empty.attach(sink);
        empty.discard();
        assertEquals(List.of(), sink.calls);
    }

    @Test
    void framesLargerThanTheReusedBufferStillArriveWhole() throws IOException {
        byte[] big = new byte[(64 << 10) * 3 + 17];
        Arrays.fill(big, (byte) 'x');
        big[big.length - 1] = 'y';
        List<byte[]> seen = new ArrayList<>();
        ResultCollector collector = new ResultCollector(0);
        collector.attach(new ResultSink() {
            @Override
            public void frame(int position, byte[] bytes, int length) {
                seen.add(Arrays.copyOf(bytes, length));
            }

            @Override
            public void restart(int position) {
            }

            @Override
            public void end(int position) {
            }
        });
        collector.read(new DataInputStream(new ByteArrayInputStream(big)), big.length);
        assertEquals(1, seen.size());
        assertTrue(Arrays.equals(big, seen.get(0)));
    }
}
