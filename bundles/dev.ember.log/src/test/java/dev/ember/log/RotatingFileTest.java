package dev.ember.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RotatingFileTest {

    @TempDir
    Path dir;

    @Test
    void rotatesBySizeKeepingTheNewestFilesAndEveryLineOfThem() throws IOException {
        Path log = dir.resolve("logs").resolve("ember.log");
        List<String> written = new ArrayList<>();
        try (RotatingFile file = new RotatingFile(log, 2048, 3)) {
            for (int i = 0; i < 200; i++) {
                String line = String.format("line %03d %s%n", i, "x".repeat(40));
                written.add(line.strip());
                file.write(line);
            }
        }
        assertTrue(Files.size(log) <= 2048);
        for (int i = 1; i <= 3; i++) {
            assertTrue(Files.size(log.resolveSibling("ember.log." + i)) <= 2048, "file " + i);
        }
        assertFalse(Files.exists(log.resolveSibling("ember.log.4")), "only maxFiles old files are kept");
        // Oldest kept file first: the lines form the unbroken tail of what was written.
        List<String> kept = new ArrayList<>();
        for (int i = 3; i >= 1; i--) {
            kept.addAll(Files.readAllLines(log.resolveSibling("ember.log." + i)));
        }
        kept.addAll(Files.readAllLines(log));
        assertEquals(written.subList(written.size() - kept.size(), written.size()), kept);
        assertTrue(kept.size() > 100 && kept.size() < 200);
    }

    @Test
    void appendsToAnExistingLog() throws IOException {
        Path log = dir.resolve("ember.log");
        Files.writeString(log, "before\n");
        try (RotatingFile file = new RotatingFile(log, 1 << 20, 2)) {
            file.write("after\n");
        }
        assertEquals(List.of("before", "after"), Files.readAllLines(log));
    }

    @Test
    void sparkLevelNamesMapAndUnknownOnesAreRefused() {
        assertEquals(java.util.logging.Level.FINE, EmberLog.julLevel("DEBUG"));
        assertEquals(java.util.logging.Level.WARNING, EmberLog.julLevel("WARN"));
        assertEquals(org.osgi.service.log.LogLevel.ERROR, EmberLog.osgiLevel("FATAL"));
        assertThrows(IllegalArgumentException.class, () -> EmberLog.julLevel("LOUD"));
    }
}
