package dev.ember.transport.common;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.util.HexFormat;

/** The random secrets a transport gives its daemons, which every worker connection must open with. */
public final class Secrets {

    private Secrets() {
    }

    /**
     * {@code bytes} random bytes, hex-encoded. They come from the kernel's generator ({@code /dev/urandom}, which is
     * also where the JDK's default SecureRandom on Linux gets them), read directly: the first SecureRandom in a JVM
     * sets up the JDK's security providers, ~10 ms of CPU in a start-up that is CPU-bound. Where there is no such
     * device, SecureRandom.
     */
    public static String hex(int bytes) {
        byte[] random = new byte[bytes];
        try (InputStream in = new FileInputStream("/dev/urandom")) {
            if (in.readNBytes(random, 0, bytes) == bytes) {
                return HexFormat.of().formatHex(random);
            }
        } catch (IOException | SecurityException e) {
            // No kernel generator to read: SecureRandom finds another source.
        }
        new SecureRandom().nextBytes(random);
        return HexFormat.of().formatHex(random);
    }
}
