package dev.ember.engine.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spilled output reads back exactly, and a spill file that was deleted, cut short or overwritten is noticed. */
class PartitionedOutputTest {

    @TempDir
    Path spills;

    /** Three buckets of random frames, with a budget so small that every frame spills. */
    private PartitionedOutput spilled(List<List<byte[]>> expected) throws IOException {
        PartitionedOutput output = new PartitionedOutput(3, new MemoryBudget(64), () -> spills);
        Random random = new Random(11);
        for (int b = 0; b < 3; b++) {
            expected.add(new ArrayList<>());
        }
        for (int i = 0; i < 40; i++) {
            byte[] frame = new byte[100 + random.nextInt(400)];
            random.nextBytes(frame);
            int bucket = random.nextInt(3);
            output.add(bucket, frame);
            expected.get(bucket).add(frame);
        }
        return output.seal();
    }

    private static List<byte[]> read(PartitionedOutput output, int bucket) {
        List<byte[]> frames = new ArrayList<>();
        output.bucket(bucket).forEach(frames::add);
        return frames;
    }

    private static void readAll(PartitionedOutput output) {
        for (int b = 0; b < 3; b++) {
            read(output, b);
        }
    }

    private List<Path> spillFiles() throws IOException {
        try (Stream<Path> files = Files.list(spills)) {
            return files.sorted().toList();
        }
    }

    @Test
    void spilledFramesReadBackInOrder() throws IOException {
        List<List<byte[]>> expected = new ArrayList<>();
        PartitionedOutput output = spilled(expected);
        assertFalse(spillFiles().isEmpty(), "the budget should have made it spill");
        for (int b = 0; b < 3; b++) {
            List<byte[]> frames = read(output, b);
            assertEquals(expected.get(b).size(), frames.size());
            for (int i = 0; i < frames.size(); i++) {
                assertArrayEquals(expected.get(b).get(i), frames.get(i));
            }
        }
        assertFalse(output.isDamaged());
        output.discard();
        assertTrue(spillFiles().isEmpty(), "discard deletes the spill files");
    }

    @Test
    void aDeletedSpillFileIsInputLost() throws IOException {
        PartitionedOutput output = spilled(new ArrayList<>());
        for (Path file : spillFiles()) {
            Files.delete(file);
        }
        InputLostException lost = assertThrows(InputLostException.class, () -> readAll(output));
        assertTrue(lost.getMessage().contains("is gone"), lost.getMessage());
        assertEquals(InputLostException.THIS_NODE, lost.node());
        assertTrue(output.isDamaged());
    }

    @Test
    void aTruncatedSpillFileIsInputLost() throws IOException {
        PartitionedOutput output = spilled(new ArrayList<>());
        for (Path file : spillFiles()) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(raf.length() / 2);
            }
        }
        InputLostException lost = assertThrows(InputLostException.class, () -> readAll(output));
        assertTrue(lost.getMessage().contains("cut short"), lost.getMessage());
        assertTrue(output.isDamaged());
    }

    @Test
    void anOverwrittenSpillFileIsInputLostBeforeItsBytesAreHandedOn() throws IOException {
        PartitionedOutput output = spilled(new ArrayList<>());
        for (Path file : spillFiles()) {
            // Same length, other bytes: only the checksums can tell.
            byte[] bytes = Files.readAllBytes(file);
            for (int i = 8; i < bytes.length; i += 7) {
                bytes[i] ^= 0x5a;
            }
            Files.write(file, bytes);
        }
        assertFalse(output.verifySpillFiles(), "reading the files through finds the damage");
        assertTrue(output.isDamaged());
        assertThrows(InputLostException.class, () -> readAll(output));
        assertTrue(output.isDamaged());
    }

    @Test
    void aHugeLengthInAnOverwrittenFileIsRefusedWithoutAllocatingIt() throws IOException {
        PartitionedOutput output = spilled(new ArrayList<>());
        for (Path file : spillFiles()) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.writeInt(Integer.MAX_VALUE - 8);
            }
        }
        InputLostException lost = assertThrows(InputLostException.class, () -> readAll(output));
        assertTrue(lost.getMessage().contains("is damaged"), lost.getMessage());
    }
}
