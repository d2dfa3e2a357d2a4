package dev.ember.security;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Random secrets and capabilities: the gateway's secret, the transports' worker secrets, the shell's secret, the
 * barrier coordinator's, and the object ids and session tokens the gateway hands out.
 * <p>
 * The bytes come from the kernel's generator ({@code /dev/urandom}, which is also where the JDK's default
 * SecureRandom on Linux gets them), read directly: the first SecureRandom in a JVM sets up the JDK's security
 * providers, ~10 ms of CPU in a start-up that is CPU-bound. Where there is no such device, SecureRandom.
 */
public final class Secrets {

    private Secrets() {
    }

    /** {@code count} random bytes. */
    public static byte[] bytes(int count) {
        byte[] random = new byte[count];
        try (InputStream in = new FileInputStream("/dev/urandom")) {
            if (in.readNBytes(random, 0, count) == count) {
                return random;
            }
        } catch (IOException | SecurityException e) {
            // No kernel generator to read: SecureRandom finds another source.
        }
        new SecureRandom().nextBytes(random);
        return random;
    }

    /** {@code count} random bytes, hex-encoded. */
    public static String hex(int count) {
        return HexFormat.of().formatHex(bytes(count));
    }

    /** {@code count} random bytes, URL-safe base64 without padding. */
    public static String base64(int count) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(count));
    }
}
