package dev.ember.codec.pickle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Component;

import dev.ember.api.Codec;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Pickler;
import net.razorvine.pickle.Unpickler;

/**
 * Batched pickle: each frame is one pickled Python list of records, as the Python side's batched serializer writes
 * them. The engine passes these frames through untouched; this class is only for records the JVM makes or reads.
 */
@Component(property = { Codec.NAME_PROPERTY + "=" + PickleCodec.NAME, "service.ranking:Integer=0" })
public final class PickleCodec implements Codec {

    static final String NAME = "pickle";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte[] encode(List<?> records) {
        try {
            // Pickler keeps a memo per call; a fresh one per frame keeps frames independent of each other.
            return new Pickler(false).dumps(new ArrayList<>(records));
        } catch (IOException | PickleException e) {
            throw new IllegalArgumentException("cannot pickle records: " + e.getMessage(), e);
        }
    }

    @Override
    public List<Object> decode(byte[] frame) {
        Object value;
        try {
            value = new Unpickler().loads(frame);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (PickleException e) {
            throw new IllegalArgumentException("frame is not a pickled batch: " + e.getMessage(), e);
        }
        if (value instanceof List<?> list) {
            return new ArrayList<>(list);
        }
        if (value instanceof Object[] array) {
            return new ArrayList<>(List.of(array));
        }
        // A frame holding a single unbatched record.
        List<Object> single = new ArrayList<>(1);
        single.add(value);
        return single;
    }
}
