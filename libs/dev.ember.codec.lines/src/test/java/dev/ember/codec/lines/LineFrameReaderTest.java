package dev.ember.codec.lines;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ember.api.codec.FileSplit;
import dev.ember.api.codec.MalformedDataException;

class LineFrameReaderTest {

    @TempDir
    Path dir;

    private static final String[] TERMINATORS = { "\n", "\r", "\r\n" };

    /** Random lines (some empty, some unicode) joined by random terminators, maybe without a final one. */
    private static List<String> randomLines(Random random, int count) {
        List<String> lines = new ArrayList<>();
        String alphabet = "abc xyz\u00e9\u4e2d\ud83d\ude00\t";
        for (int i = 0; i < count; i++) {
            StringBuilder line = new StringBuilder();
            int length = random.nextInt(5) == 0 ? 0 : random.nextInt(40);
            for (int k = 0; k < length; k++) {
                int at = random.nextInt(alphabet.length());
                char c = alphabet.charAt(at);
                if (Character.isHighSurrogate(c)) {
                    line.append(c).append(alphabet.charAt(at + 1));
                } else if (!Character.isLowSurrogate(c)) {
                    line.append(c);
                }
            }
            lines.add(line.toString());
        }
        return lines;
    }

    private static byte[] join(Random random, List<String> lines, boolean finalTerminator) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            text.append(lines.get(i));
            if (i < lines.size() - 1 || finalTerminator) {
                text.append(TERMINATORS[random.nextInt(TERMINATORS.length)]);
            }
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Lines as Hadoop and Python's str.splitlines-like rule cut them, computed independently of the reader. */
    static List<String> referenceLines(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n') {
                lines.add(current.toString());
                current.setLength(0);
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
            } else {
                current.append(c);
            }
        }
        if (current.length() > 0) {
            lines.add(current.toString());
        }
        return lines;
    }

    /** Compares without printing thousands of lines: the first difference is enough. */
    static void assertSameLines(List<String> expected, List<String> actual, String context) {
        for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                throw new AssertionError(context + ": line " + i + " differs: expected <" + expected.get(i)
                        + "> but was <" + actual.get(i) + ">");
            }
        }
        assertEquals(expected.size(), actual.size(), context + ": line count");
    }

    static List<String> readAll(LineFrameReader reader) throws IOException {
        List<String> lines = new ArrayList<>();
        try (reader) {
            for (byte[] frame = reader.next(); frame != null; frame = reader.next()) {
                assertTrue(frame.length > 0, "no empty frames");
                assertEquals('\n', frame[frame.length - 1], "a frame ends with a newline");
                String text = new String(frame, StandardCharsets.UTF_8);
                for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
                    lines.add(line);
                }
            }
        }
        return lines;
    }

    @Test
    void splitsTogetherReadEveryLineOnceWhateverTheCutPoints() throws IOException {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            List<String> lines = randomLines(random, random.nextInt(30));
            boolean finalTerminator = random.nextBoolean();
            byte[] bytes = join(random, lines, finalTerminator);
            Path file = dir.resolve("f" + round + ".txt");
            Files.write(file, bytes);
            // Random cut points, including 0-length splits and cuts inside CR LF and inside multi-byte characters.
            List<Long> cuts = new ArrayList<>(List.of(0L, (long) bytes.length));
            for (int i = random.nextInt(6); i > 0; i--) {
                cuts.add((long) random.nextInt(bytes.length + 1));
            }
            cuts.sort(null);
            List<String> read = new ArrayList<>();
            for (int i = 0; i + 1 < cuts.size(); i++) {
                FileSplit split = new FileSplit(file.toString(), cuts.get(i), cuts.get(i + 1) - cuts.get(i));
                read.addAll(readAll(LineFrameReader.open(split, Map.of(), null, "")));
            }
            assertSameLines(referenceLines(bytes), read, "round " + round + " cuts " + cuts);
        }
    }

    @Test
    void gzipFilesAreReadWhole() throws IOException {
        Random random = new Random(7);
        List<String> lines = randomLines(random, 5000);
        Path file = dir.resolve("data.txt.gz");
        byte[] text = join(random, lines, true);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(text);
        }
        List<String> expected = referenceLines(text);
        assertTrue(expected.size() > 4000);
        assertSameLines(expected, readAll(LineFrameReader.open(new FileSplit(file.toString(), 0, Files.size(file)),
                Map.of(), null, "")), "gzip");
    }

    @Test
    void lineEndsAndNonAsciiBytesAreFoundWhereverTheyFallInAWord() throws IOException {
        // Long ASCII runs, which the reader scans eight bytes at a time, with line ends, valid multi-byte characters
        // and invalid bytes at random places; each file is over 64 KiB, so lines also cross the reader's refills.
        Random random = new Random(11);
        for (int round = 0; round < 12; round++) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            List<String> valid = new ArrayList<>();
            long firstInvalidOffset = -1;
            int invalidLines = 0;
            String terminator = "\n";
            while (bytes.size() < 100_000) {
                StringBuilder line = new StringBuilder();
                for (int k = random.nextInt(random.nextBoolean() ? 20 : 300); k > 0; k--) {
                    line.append((char) ('a' + random.nextInt(26)));
                }
                if (line.length() == 0 && terminator.equals("\r")) {
                    line.append('x'); // An empty line ended by LF after a CR would make one CR LF.
                }
                if (random.nextInt(4) == 0) {
                    line.insert(random.nextInt(line.length() + 1), "\u00e9");
                }
                byte[] encoded = line.toString().getBytes(StandardCharsets.UTF_8);
                if (random.nextInt(8) == 0) {
                    // At a character boundary, so the invalid byte is the first invalid one of its line.
                    int at = line.substring(0, random.nextInt(line.length() + 1))
                            .getBytes(StandardCharsets.UTF_8).length;
                    if (firstInvalidOffset < 0) {
                        firstInvalidOffset = bytes.size() + at;
                    }
                    bytes.write(encoded, 0, at);
                    bytes.write(0xff);
                    bytes.write(encoded, at, encoded.length - at);
                    invalidLines++;
                } else {
                    bytes.writeBytes(encoded);
                    valid.add(line.toString());
                }
                terminator = TERMINATORS[random.nextInt(TERMINATORS.length)];
                bytes.writeBytes(terminator.getBytes(StandardCharsets.UTF_8));
            }
            Path file = dir.resolve("words" + round + ".txt");
            Files.write(file, bytes.toByteArray());
            FileSplit whole = new FileSplit(file.toString(), 0, Files.size(file));

            LineFrameReader skipping = LineFrameReader.open(whole, Map.of("malformed", "skip"), null, "");
            assertSameLines(valid, readAll(skipping), "round " + round);
            assertEquals(invalidLines, skipping.skippedRecords(), "round " + round);
            MalformedDataException error = assertThrows(MalformedDataException.class,
                    () -> readAll(LineFrameReader.open(whole, Map.of(), null, "")));
            String expectedProblem = "(byte offset " + firstInvalidOffset + "): invalid UTF-8 (byte 0xff)";
            assertTrue(error.getMessage().contains(expectedProblem), "round " + round + ": " + error.getMessage());
        }
    }

    @Test
    void invalidUtf8NamesFileLineAndOffsetOrIsReplacedOrPassedThrough() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes("first\r\nsecond\n".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[] { 'o', 'k', ' ', (byte) 0xc3, (byte) 0x28, '\n' });
        bytes.writeBytes("last\n".getBytes(StandardCharsets.UTF_8));
        Path file = dir.resolve("bad.txt");
        Files.write(file, bytes.toByteArray());
        FileSplit whole = new FileSplit(file.toString(), 0, Files.size(file));

        MalformedDataException error = assertThrows(MalformedDataException.class,
                () -> readAll(LineFrameReader.open(whole, Map.of(), null, "Do this.")));
        assertTrue(error.getMessage().startsWith(file + ": line 3 (byte offset 17): invalid UTF-8 (byte 0xc3)"),
                error.getMessage());
        assertTrue(error.getMessage().endsWith("Do this."));

        assertEquals(List.of("first", "second", "ok \ufffd(", "last"),
                readAll(LineFrameReader.open(whole, Map.of("utf8", "replace"), null, "")));

        try (LineFrameReader reader = LineFrameReader.open(whole, Map.of("utf8", "none"), null, "")) {
            byte[] frame = reader.next();
            byte[] expected = bytes.toByteArray();
            // CR LF became LF; the invalid bytes are untouched.
            assertArrayEquals(new String(expected, StandardCharsets.ISO_8859_1).replace("\r\n", "\n")
                    .getBytes(StandardCharsets.ISO_8859_1), frame);
        }
    }

    @Test
    void aLineCheckMayRejectLinesWhichFailOrAreSkippedAndCounted() throws IOException {
        Path file = dir.resolve("nums.txt");
        Files.writeString(file, "1\n2\nx\n\n3\ny\n");
        FileSplit whole = new FileSplit(file.toString(), 0, Files.size(file));
        LineCheck digits = line -> {
            if (line.isEmpty()) {
                return LineCheck.Verdict.DROP;
            }
            if (!line.chars().allMatch(Character::isDigit)) {
                throw new MalformedDataException("not a number");
            }
            return LineCheck.Verdict.KEEP;
        };
        MalformedDataException error = assertThrows(MalformedDataException.class,
                () -> readAll(LineFrameReader.open(whole, Map.of(), digits, "")));
        assertEquals(file + ": line 3 (byte offset 4): not a number: x", error.getMessage());

        LineFrameReader skipping = LineFrameReader.open(whole, Map.of("malformed", "skip"), digits, "");
        assertEquals(List.of("1", "2", "3"), readAll(skipping));
        assertEquals(2, skipping.skippedRecords());
    }

    @Test
    void aLineLargerThan64MiBStreamsThroughAsOneRecord() throws IOException {
        int size = 65 * 1024 * 1024 + 3;
        byte[] big = new byte[size];
        java.util.Arrays.fill(big, (byte) 'q');
        Path file = dir.resolve("big.txt");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write("a\n".getBytes(StandardCharsets.UTF_8));
            out.write(big);
            out.write("\nz\n".getBytes(StandardCharsets.UTF_8));
        }
        // Two splits cutting through the huge line: the first finishes it, the second skips it.
        long half = Files.size(file) / 2;
        List<Integer> lengths = new ArrayList<>();
        for (FileSplit split : List.of(new FileSplit(file.toString(), 0, half),
                new FileSplit(file.toString(), half, Files.size(file) - half))) {
            try (LineFrameReader reader = LineFrameReader.open(split, Map.of(), null, "")) {
                for (byte[] frame = reader.next(); frame != null; frame = reader.next()) {
                    int start = 0;
                    for (int i = 0; i < frame.length; i++) {
                        if (frame[i] == '\n') {
                            lengths.add(i - start);
                            start = i + 1;
                        }
                    }
                }
            }
        }
        assertEquals(List.of(1, size, 1), lengths);
    }

    @Test
    void utf8ValidatorAgreesWithTheJdkDecoderOnRandomBytes() {
        Random random = new Random(3);
        byte[] interesting = { 0x41, (byte) 0x80, (byte) 0xbf, (byte) 0xc0, (byte) 0xc2, (byte) 0xdf, (byte) 0xe0,
            (byte) 0xa0, (byte) 0xed, (byte) 0x9f, (byte) 0xef, (byte) 0xf0, (byte) 0x90, (byte) 0xf4, (byte) 0x8f,
            (byte) 0xf5, (byte) 0xff };
        for (int round = 0; round < 100_000; round++) {
            byte[] bytes = new byte[random.nextInt(8)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = random.nextBoolean() ? interesting[random.nextInt(interesting.length)]
                        : (byte) random.nextInt(256);
            }
            boolean jdkValid;
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
                jdkValid = true;
            } catch (CharacterCodingException e) {
                jdkValid = false;
            }
            assertEquals(jdkValid, Utf8.firstInvalid(bytes, 0, bytes.length) < 0, () -> java.util.HexFormat.of()
                    .formatHex(bytes));
        }
    }

    @Test
    void writerWritesFramesAsTheyAreOrGzipped() throws IOException {
        Path plain = dir.resolve("part-00000");
        try (LineFileWriter writer = LineFileWriter.create(plain, Map.of())) {
            writer.write("a\nb\n".getBytes(StandardCharsets.UTF_8));
            writer.write(new byte[0]);
            writer.write("c\n".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals("a\nb\nc\n", Files.readString(plain));
        Path gz = dir.resolve("part-00001.gz");
        try (LineFileWriter writer = LineFileWriter.create(gz, Map.of("compression", "gzip"))) {
            writer.write("x\n".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(List.of("x"), readAll(LineFrameReader.open(new FileSplit(gz.toString(), 0, Files.size(gz)),
                Map.of(), null, "")));
        assertEquals(".gz", LineFileWriter.suffix(Map.of("compression", "gzip")));
        try (LineFileWriter writer = LineFileWriter.create(dir.resolve("cut"), Map.of())) {
            assertThrows(MalformedDataException.class, () -> writer.write("no newline".getBytes()));
        }
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> LineFileWriter.create(plain, Map.of()));
    }
}
