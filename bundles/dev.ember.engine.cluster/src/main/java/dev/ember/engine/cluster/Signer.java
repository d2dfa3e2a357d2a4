package dev.ember.engine.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks the calls nodes send each other with the cluster secret (HMAC-SHA256), since Hazelcast's
 * community edition authenticates no one: a member runs only calls signed with the secret it was given, issued
 * within the last {@link #MAX_AGE_MILLIS}.
 */
final class Signer {

    static final long MAX_AGE_MILLIS = 5 * 60 * 1000;

    private final SecretKeySpec key;

    Signer(String secret) {
        if (secret == null || secret.length() < 16) {
            throw new IllegalArgumentException("the cluster secret must be at least 16 characters (cluster.secret in "
                    + "the cluster configuration; the same on every node)");
        }
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    }

    byte[] sign(String op, byte[] header, List<byte[]> blobs, long issuedAt) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update(op.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(ByteBuffer.allocate(12).putLong(issuedAt).putInt(header.length).array());
            mac.update(header);
            for (byte[] blob : blobs) {
                mac.update(ByteBuffer.allocate(4).putInt(blob.length).array());
                mac.update(blob);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available: " + e, e);
        }
    }

    /** Whether a call carries this secret's signature and is recent. */
    boolean verify(String op, byte[] header, List<byte[]> blobs, long issuedAt, byte[] signature) {
        if (signature == null || Math.abs(System.currentTimeMillis() - issuedAt) > MAX_AGE_MILLIS) {
            return false;
        }
        return MessageDigest.isEqual(sign(op, header, blobs, issuedAt), signature);
    }
}
