package dev.ember.engine.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

class FrameInputTest {

    private static byte[] frame(byte[] payload) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(payload.length);
        out.write(payload);
        return bytes.toByteArray();
    }

    private static DataInputStream stream(byte[] bytes) {
        return new DataInputStream(new ByteArrayInputStream(bytes));
    }

    @Test
    void randomFramesRoundTrip() throws IOException {
        Random random = new Random(7);
        for (int round = 0; round < 300; round++) {
            byte[] payload = new byte[random.nextInt(5000)];
            random.nextBytes(payload);
            assertArrayEquals(payload, FrameInput.readFrame(stream(frame(payload))));
        }
    }

    @Test
    void everyTruncationFailsWithEndOfStreamNotAHang() throws IOException {
        Random random = new Random(11);
        for (int round = 0; round < 200; round++) {
            byte[] payload = new byte[1 + random.nextInt(300)];
            random.nextBytes(payload);
            byte[] whole = frame(payload);
            int cut = random.nextInt(whole.length);
            EOFException e = assertThrows(EOFException.class,
                    () -> FrameInput.readFrame(stream(Arrays.copyOf(whole, cut))));
            assertTrue(e.getMessage().startsWith("the worker's stream ended"), e.getMessage());
        }
    }

    @Test
    void negativeLengthsThatAreNotControlCodesAreRejected() throws IOException {
        Random random = new Random(13);
        for (int round = 0; round < 200; round++) {
            int bad = FrameInput.LOWEST_CONTROL_CODE - 1 - random.nextInt(Integer.MAX_VALUE - 10);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            new DataOutputStream(bytes).writeInt(bad);
            IOException e = assertThrows(IOException.class, () -> FrameInput.readLength(stream(bytes.toByteArray())));
            assertTrue(e.getMessage().contains("neither a frame length nor a control code"), e.getMessage());
        }
    }

    @Test
    void controlCodesAreLengthsButNotFrames() throws IOException {
        for (int code = FrameInput.LOWEST_CONTROL_CODE; code < 0; code++) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            new DataOutputStream(bytes).writeInt(code);
            assertEquals(code, FrameInput.readLength(stream(bytes.toByteArray())));
            IOException e = assertThrows(IOException.class, () -> FrameInput.readFrame(stream(bytes.toByteArray())));
            assertTrue(e.getMessage().contains("expected a frame"), e.getMessage());
        }
    }

    @Test
    void oversizedLengthsAreRejectedBeforeAllocating() throws IOException {
        Random random = new Random(17);
        for (int round = 0; round < 100; round++) {
            int huge = FrameInput.MAX_FRAME_BYTES + 1 + random.nextInt(Integer.MAX_VALUE - FrameInput.MAX_FRAME_BYTES);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            new DataOutputStream(bytes).writeInt(huge);
            IOException e = assertThrows(IOException.class, () -> FrameInput.readFrame(stream(bytes.toByteArray())));
            assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
        }
    }
}
