package dev.ember.api.codec;

import java.io.Closeable;
import java.io.IOException;

import org.osgi.annotation.versioning.ConsumerType;

/** Frames a codec makes from records it reads (from a file split), one frame at a time. */
@ConsumerType
public interface FrameReader extends Closeable {

    /**
     * The next frame's payload, or {@code null} when the input is exhausted.
     *
     * @throws MalformedDataException when the input is not valid for the codec; the message names where
     */
    byte[] next() throws IOException;

    /** How many malformed records this reader skipped (when its options said to skip rather than fail). */
    default long skippedRecords() {
        return 0;
    }
}
