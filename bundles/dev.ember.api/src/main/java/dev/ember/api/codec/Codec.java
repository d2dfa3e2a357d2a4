package dev.ember.api.codec;

import dev.ember.api.frames.Frames;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A record format, registered as a service with the {@value #NAME_PROPERTY} property.
 * <p>
 * Records travel between the JVM and workers in frames (see {@link Frames}); a codec defines what one frame's payload
 * holds. The engine moves frames without decoding them. It uses a codec only where the JVM itself produces or
 * consumes records: {@link #reader} turns a split of a file into frames for workers, {@link #writer} writes the
 * frames workers produce into a file, and {@link #encode}/{@link #decode} convert between frames and Java objects.
 * A Python worker decodes and encodes the same payloads with the codec of the same name.
 */
@ProviderType
public interface Codec {

    /** Service property naming the codec, for example {@code pickle}. */
    String NAME_PROPERTY = "ember.codec";

    String name();

    /** Encodes records into the payload of one frame. */
    byte[] encode(List<?> records);

    /**
     * Decodes the payload of one frame into records.
     *
     * @throws IllegalArgumentException when the payload is not a frame of this codec
     */
    List<Object> decode(byte[] frame);

    /** Whether a file of this format may be read in byte ranges that start anywhere (line-based formats). */
    boolean splittable();

    /**
     * Reads the records of one split of a file as frames.
     *
     * @param options codec-specific settings from the driver (for example how to treat malformed records)
     */
    FrameReader reader(FileSplit split, Map<String, String> options) throws IOException;

    /**
     * Writes frames into a new file.
     *
     * @param options codec-specific settings (for example {@code compression=gzip})
     */
    FrameWriter writer(Path file, Map<String, String> options) throws IOException;

    /** The suffix for files {@link #writer} writes with these options (for example {@code .gz}); "" by default. */
    default String fileSuffix(Map<String, String> options) {
        return "";
    }
}
