package dev.ember.codec.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class PickleCodecTest {

    private final PickleCodec codec = new PickleCodec();

    @Test
    void randomBatchesRoundTrip() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            List<Object> records = new ArrayList<>();
            int size = random.nextInt(50);
            for (int i = 0; i < size; i++) {
                switch (random.nextInt(4)) {
                    case 0 -> records.add(random.nextInt());
                    case 1 -> records.add(random.nextDouble());
                    case 2 -> records.add(randomString(random));
                    default -> records.add(List.of(random.nextInt(1000), randomString(random)));
                }
            }
            assertEquals(records, codec.decode(codec.encode(records)), "round " + round);
        }
    }

    @Test
    void emptyBatchRoundTrips() {
        assertEquals(List.of(), codec.decode(codec.encode(List.of())));
    }

    @Test
    void nameIsPickle() {
        assertEquals("pickle", codec.name());
    }

    private static String randomString(Random random) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(20);
        for (int i = 0; i < length; i++) {
            // Mix ASCII, accented letters and characters outside the BMP.
            text.appendCodePoint(switch (random.nextInt(3)) {
                case 0 -> 'a' + random.nextInt(26);
                case 1 -> 0xC0 + random.nextInt(64);
                default -> 0x1F600 + random.nextInt(50);
            });
        }
        return text.toString();
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @Test
    void framesWrittenToAFileReadBackAndATruncatedFileIsMalformed() throws java.io.IOException {
        java.nio.file.Path file = dir.resolve("part-00000");
        List<byte[]> frames = new ArrayList<>();
        Random random = new Random(1);
        for (int i = 0; i < 20; i++) {
            frames.add(codec.encode(List.of(randomString(random), random.nextInt())));
        }
        frames.add(new byte[0]);
        try (dev.ember.api.codec.FrameWriter writer = codec.writer(file, java.util.Map.of())) {
            for (byte[] frame : frames) {
                writer.write(frame);
            }
        }
        long size = java.nio.file.Files.size(file);
        List<byte[]> read = new ArrayList<>();
        try (dev.ember.api.codec.FrameReader reader = codec.reader(new dev.ember.api.codec.FileSplit(file.toString(), 0, size),
                java.util.Map.of())) {
            for (byte[] frame = reader.next(); frame != null; frame = reader.next()) {
                read.add(frame);
            }
        }
        assertEquals(frames.size(), read.size());
        for (int i = 0; i < frames.size(); i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(frames.get(i), read.get(i));
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        java.nio.file.Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        dev.ember.api.codec.MalformedDataException error = org.junit.jupiter.api.Assertions.assertThrows(
                dev.ember.api.codec.MalformedDataException.class, () -> {
                    try (dev.ember.api.codec.FrameReader reader = codec.reader(new dev.ember.api.codec.FileSplit(file.toString(),
                            0, size), java.util.Map.of())) {
                        while (reader.next() != null) {
                            // read to the end
                        }
                    }
                });
        org.junit.jupiter.api.Assertions.assertTrue(error.getMessage().contains("truncated"), error.getMessage());
    }
}
