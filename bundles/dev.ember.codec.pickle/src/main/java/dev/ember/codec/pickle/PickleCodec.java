package dev.ember.codec.pickle;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import dev.ember.api.codec.Codec;
import dev.ember.api.codec.FileSplit;
import dev.ember.api.codec.FrameReader;
import dev.ember.api.codec.FrameWriter;
import dev.ember.api.codec.MalformedDataException;
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

    /** A file of frames can only be read from its start. */
    @Override
    public boolean splittable() {
        return false;
    }

    /** Reads a file of frames as {@code saveAsPickleFile} writes it: int32 big-endian length, payload, repeated. */
    @Override
    public FrameReader reader(FileSplit split, Map<String, String> options) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(Path.of(split.path())),
                1 << 16));
        return new FrameReader() {
            private long offset;

            @Override
            public byte[] next() throws IOException {
                int first = in.read();
                if (first < 0) {
                    return null;
                }
                int length;
                byte[] payload;
                try {
                    length = (first << 24) | (in.readUnsignedByte() << 16) | (in.readUnsignedShort());
                    if (length < 0) {
                        throw new MalformedDataException(split.path() + ": byte offset " + offset
                                + ": a frame length of " + length + " (not a file of pickled frames?)");
                    }
                    payload = new byte[length];
                    in.readFully(payload);
                } catch (EOFException e) {
                    throw new MalformedDataException(split.path() + ": the file ends inside the frame at byte offset "
                            + offset + " (it is truncated)");
                }
                offset += 4 + length;
                return payload;
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        };
    }

    @Override
    public FrameWriter writer(Path file, Map<String, String> options) throws IOException {
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                Files.newOutputStream(file, StandardOpenOption.CREATE_NEW), 1 << 16));
        return new FrameWriter() {
            @Override
            public void write(byte[] frame) throws IOException {
                out.writeInt(frame.length);
                out.write(frame);
            }

            @Override
            public void close() throws IOException {
                out.close();
            }
        };
    }
}
