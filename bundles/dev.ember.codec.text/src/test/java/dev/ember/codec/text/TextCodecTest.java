package dev.ember.codec.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ember.api.codec.FileSplit;
import dev.ember.api.codec.FrameReader;
import dev.ember.api.codec.FrameWriter;
import dev.ember.api.codec.MalformedDataException;

class TextCodecTest {

    private final TextCodec codec = new TextCodec();

    @TempDir
    Path dir;

    /** Random text without line terminators, from every plane (never lone surrogates, which UTF-8 cannot hold). */
    static String randomLine(Random random) {
        StringBuilder line = new StringBuilder();
        for (int i = random.nextInt(12); i > 0; i--) {
            int codePoint;
            do {
                codePoint = switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(0x80);
                    case 1 -> random.nextInt(0x800);
                    case 2 -> random.nextInt(0x10000);
                    default -> 0x10000 + random.nextInt(0x100000);
                };
            } while (codePoint == '\n' || codePoint == '\r' || (codePoint >= 0xd800 && codePoint <= 0xdfff));
            line.appendCodePoint(codePoint);
        }
        return line.toString();
    }

    @Test
    void randomLinesRoundTripThroughEncodeAndDecode() {
        Random random = new Random(11);
        for (int round = 0; round < 2000; round++) {
            List<String> records = new ArrayList<>();
            for (int i = random.nextInt(6); i > 0; i--) {
                records.add(randomLine(random));
            }
            assertEquals(records, codec.decode(codec.encode(records)), "round " + round);
        }
        assertEquals(List.of(), codec.decode(codec.encode(List.of())));
        assertEquals(0, codec.encode(List.of()).length);
    }

    @Test
    void decodeRejectsCutOffAndInvalidFrames() {
        assertThrows(IllegalArgumentException.class, () -> codec.decode("no end".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> codec.decode(new byte[] { (byte) 0xff, '\n' }));
    }

    @Test
    void writtenFilesReadBackThroughTheReaderInAnySplits() throws IOException {
        Random random = new Random(5);
        List<String> records = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            records.add(randomLine(random));
        }
        for (Map<String, String> options : List.of(Map.<String, String>of(), Map.of("compression", "gzip"))) {
            Path file = dir.resolve("part-00000" + codec.fileSuffix(options));
            try (FrameWriter writer = codec.writer(file, options)) {
                for (int from = 0; from < records.size(); from += 700) {
                    writer.write(codec.encode(records.subList(from, Math.min(records.size(), from + 700))));
                }
            }
            long size = Files.size(file);
            List<Object> read = new ArrayList<>();
            // Gzip files are read whole; plain ones in three splits.
            long third = options.isEmpty() ? size / 3 : size;
            for (long start = 0; start < size; start += third) {
                try (FrameReader reader = codec.reader(new FileSplit(file.toString(), start,
                        Math.min(third, size - start)), Map.of())) {
                    for (byte[] frame = reader.next(); frame != null; frame = reader.next()) {
                        read.addAll(codec.decode(frame));
                    }
                }
            }
            assertEquals(records, read, "options " + options);
        }
    }

    @Test
    void aRecordOver64MiBRoundTrips() throws IOException {
        String big = "x".repeat(64 * 1024 * 1024 + 5);
        Path file = dir.resolve("big");
        try (FrameWriter writer = codec.writer(file, Map.of())) {
            writer.write(codec.encode(List.of("a", big, "b")));
        }
        List<Object> read = new ArrayList<>();
        try (FrameReader reader = codec.reader(new FileSplit(file.toString(), 0, Files.size(file)), Map.of())) {
            for (byte[] frame = reader.next(); frame != null; frame = reader.next()) {
                read.addAll(codec.decode(frame));
            }
        }
        assertEquals(3, read.size());
        assertEquals(big, read.get(1));
    }

    @Test
    void invalidUtf8InAFileIsReportedWithTheHintToReadBytes() throws IOException {
        Path file = dir.resolve("latin1.txt");
        Files.write(file, "caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        MalformedDataException error = assertThrows(MalformedDataException.class, () -> {
            try (FrameReader reader = codec.reader(new FileSplit(file.toString(), 0, Files.size(file)), Map.of())) {
                reader.next();
            }
        });
        assertTrue(error.getMessage().contains("line 1 (byte offset 3)"), error.getMessage());
        assertTrue(error.getMessage().contains("use_unicode=False"), error.getMessage());
    }
}
