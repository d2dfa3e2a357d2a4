package dev.ember.gateway.py4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnInfoTest {

    @Test
    void writesPortSecretLengthAndSecretBigEndian(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("conn-info");
        Py4jGateway.writeConnInfo(target, 40123, "sécret");
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(target));
        assertEquals(40123, data.getInt());
        byte[] expected = "sécret".getBytes(StandardCharsets.UTF_8);
        assertEquals(expected.length, data.getInt());
        byte[] secret = new byte[data.remaining()];
        data.get(secret);
        assertEquals("sécret", new String(secret, StandardCharsets.UTF_8));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "the temp file was renamed, not left beside the target");
        }
    }
}
