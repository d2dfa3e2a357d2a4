package dev.ember.engine.core;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;

import dev.ember.api.frames.Frames;

/** Checked reads of the worker frame protocol: a bad length is a clear error, never a hang or a huge allocation. */
public final class FrameInput {

    /** The largest frame a worker may send; Python batches are far smaller, and Java arrays stop near 2 GiB. */
    static final int MAX_FRAME_BYTES = 1 << 30;
    /** The most negative control code a worker may send. */
    static final int LOWEST_CONTROL_CODE = Frames.OUTPUT;

    private FrameInput() {
    }

    /** Reads a length or control code; rejects negative values that are not control codes and oversized lengths. */
    static int readLength(DataInputStream in) throws IOException {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            throw new EOFException("the worker's stream ended where a frame length was expected");
        }
        if (length < LOWEST_CONTROL_CODE) {
            throw new IOException("worker protocol error: " + length + " is neither a frame length nor a control code");
        }
        if (length > MAX_FRAME_BYTES) {
            throw new IOException("worker protocol error: a frame of " + length + " bytes exceeds the limit of "
                    + MAX_FRAME_BYTES);
        }
        return length;
    }

    /** Reads the payload of a frame whose length was read already. */
    static byte[] readPayload(DataInputStream in, int length) throws IOException {
        byte[] frame = new byte[length];
        try {
            in.readFully(frame);
        } catch (EOFException e) {
            throw new EOFException("the worker's stream ended inside a frame of " + length + " bytes");
        }
        return frame;
    }

    /** Reads a whole frame; a control code here is an error. */
    static byte[] readFrame(DataInputStream in) throws IOException {
        int length = readLength(in);
        if (length < 0) {
            throw new IOException("worker protocol error: expected a frame, got control code " + length);
        }
        return readPayload(in, length);
    }
}
