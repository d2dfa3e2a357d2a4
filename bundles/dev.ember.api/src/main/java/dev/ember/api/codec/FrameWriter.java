package dev.ember.api.codec;

import java.io.Closeable;
import java.io.IOException;

import org.osgi.annotation.versioning.ConsumerType;

/** Writes the records of frames produced by workers into a file in a codec's format. */
@ConsumerType
public interface FrameWriter extends Closeable {

    /** Writes the records of one frame. */
    void write(byte[] frame) throws IOException;

    /** Finishes the file (flushes, ends compression). The caller deletes the file of a writer it abandons. */
    @Override
    void close() throws IOException;
}
