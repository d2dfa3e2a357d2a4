package dev.ember.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SecretsTest {

    @Test
    void secretsAreHexOfTheAskedLengthAndNeverRepeat() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String secret = Secrets.hex(24);
            assertEquals(48, secret.length(), secret);
            assertTrue(secret.matches("[0-9a-f]+"), secret);
            assertTrue(seen.add(secret), "a secret came twice: " + secret);
        }
    }

    @Test
    void everyByteValueTurnsUp() {
        // 64 KiB of random bytes hold each of the 256 values (missing one has a chance of about 2^-360): a source
        // that filled only part of the buffer, or a narrow range, fails here.
        boolean[] seen = new boolean[256];
        String hex = Secrets.hex(1 << 16);
        for (int i = 0; i < hex.length(); i += 2) {
            seen[Integer.parseInt(hex, i, i + 2, 16)] = true;
        }
        for (int value = 0; value < 256; value++) {
            assertTrue(seen[value], "no byte " + value + " in 64 KiB of secret bytes");
        }
    }
}
