package dev.ember.engine.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;

/**
 * One request to a member, run by Hazelcast's executor on that member: an operation name, a JSON header and opaque
 * frames (a task's command, broadcasts, input), signed with the cluster secret. The member checks the signature
 * before it looks at anything else.
 */
public final class ClusterCall implements Callable<ClusterReply>, DataSerializable, HazelcastInstanceAware {

    /** Where a member keeps its {@link MemberRuntime} in Hazelcast's user context. */
    static final String RUNTIME_KEY = "dev.ember.engine.cluster.runtime";

    private String op;
    private byte[] header;
    private List<byte[]> blobs;
    private long issuedAt;
    private byte[] signature;
    private transient HazelcastInstance instance;

    /** For Hazelcast's deserialisation. */
    public ClusterCall() {
    }

    ClusterCall(Signer signer, String op, JsonObject header, List<byte[]> blobs) {
        this.op = op;
        this.header = header.toString().getBytes(StandardCharsets.UTF_8);
        this.blobs = blobs;
        this.issuedAt = System.currentTimeMillis();
        this.signature = signer.sign(op, this.header, blobs, issuedAt);
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.instance = hazelcastInstance;
    }

    @Override
    public ClusterReply call() throws Exception {
        Object runtime = instance == null ? null : instance.getUserContext().get(RUNTIME_KEY);
        if (!(runtime instanceof MemberRuntime member)) {
            throw new IllegalStateException("this node is not an Ember cluster member");
        }
        if (!member.signer().verify(op, header, blobs, issuedAt, signature)) {
            member.refused(op);
            throw new SecurityException("refused: the call is not signed with this cluster's secret (or is older than "
                    + Signer.MAX_AGE_MILLIS / 60000 + " minutes): check cluster.secret on every node");
        }
        JsonObject parsed = JsonParser.parseString(new String(header, StandardCharsets.UTF_8)).getAsJsonObject();
        return member.handle(op, parsed, blobs);
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeString(op);
        out.writeByteArray(header);
        out.writeInt(blobs.size());
        for (byte[] blob : blobs) {
            out.writeByteArray(blob);
        }
        out.writeLong(issuedAt);
        out.writeByteArray(signature);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        op = in.readString();
        header = in.readByteArray();
        int count = in.readInt();
        if (count < 0 || count > 1_000_000) {
            throw new IOException("malformed cluster call: " + count + " blobs");
        }
        blobs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            blobs.add(in.readByteArray());
        }
        issuedAt = in.readLong();
        signature = in.readByteArray();
    }
}
