package dev.ember.engine.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;

/** A member's answer to a {@link ClusterCall}: a JSON header and opaque frames (results, fetched blocks). */
public final class ClusterReply implements DataSerializable {

    private byte[] header;
    private List<byte[]> frames;

    /** For Hazelcast's deserialisation. */
    public ClusterReply() {
    }

    ClusterReply(JsonObject header, List<byte[]> frames) {
        this.header = header.toString().getBytes(StandardCharsets.UTF_8);
        this.frames = frames;
    }

    JsonObject header() {
        return JsonParser.parseString(new String(header, StandardCharsets.UTF_8)).getAsJsonObject();
    }

    List<byte[]> frames() {
        return frames;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByteArray(header);
        out.writeInt(frames.size());
        for (byte[] frame : frames) {
            out.writeByteArray(frame);
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        header = in.readByteArray();
        int count = in.readInt();
        frames = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            frames.add(in.readByteArray());
        }
    }
}
