package dev.ember.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A record format. Registered with the {@value #NAME_PROPERTY} property. The engine moves frames of a codec without
 * decoding them; it uses {@link #encode} and {@link #decode} only where the JVM itself must produce or read records.
 */
@ProviderType
public interface Codec {

    /** Service property naming the codec, for example {@code pickle}. */
    String NAME_PROPERTY = "ember.codec";

    String name();

    /** Encodes records into the payload of one frame. */
    byte[] encode(List<?> records);

    /** Decodes the payload of one frame into records. */
    List<Object> decode(byte[] frame);
}
