package dev.ember.codec.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import dev.ember.api.codec.FileSplit;
import dev.ember.api.codec.FrameReader;
import dev.ember.api.codec.FrameWriter;
import dev.ember.api.codec.MalformedDataException;

class JsonCodecTest {

    private final JsonCodec codec = new JsonCodec();

    @TempDir
    Path dir;

    static String randomString(Random random) {
        StringBuilder text = new StringBuilder();
        for (int i = random.nextInt(8); i > 0; i--) {
            int kind = random.nextInt(5);
            if (kind == 0) {
                text.append((char) random.nextInt(0x20)); // control characters must be escaped
            } else if (kind == 1) {
                text.append("\"\\/\u2028\u2029".charAt(random.nextInt(5)));
            } else if (kind == 2) {
                text.appendCodePoint(0x10000 + random.nextInt(0x100000));
            } else {
                text.append((char) (0x20 + random.nextInt(0x7000)));
            }
        }
        return text.toString();
    }

    static JsonElement randomElement(Random random, int depth) {
        int kind = random.nextInt(depth > 3 ? 6 : 8);
        switch (kind) {
            case 0:
                return JsonNull.INSTANCE;
            case 1:
                return new JsonPrimitive(random.nextBoolean());
            case 2:
                return new JsonPrimitive(new BigInteger(random.nextInt(200) + 1, random).multiply(
                        BigInteger.valueOf(random.nextBoolean() ? 1 : -1)));
            case 3:
                double value = Double.longBitsToDouble(random.nextLong());
                return new JsonPrimitive(Double.isFinite(value) ? value : random.nextGaussian());
            case 4:
            case 5:
                return new JsonPrimitive(randomString(random));
            case 6: {
                JsonArray array = new JsonArray();
                for (int i = random.nextInt(4); i > 0; i--) {
                    array.add(randomElement(random, depth + 1));
                }
                return array;
            }
            default: {
                JsonObject object = new JsonObject();
                for (int i = random.nextInt(4); i > 0; i--) {
                    object.add(randomString(random), randomElement(random, depth + 1));
                }
                return object;
            }
        }
    }

    @Test
    void randomDocumentsRoundTripExactly() {
        Random random = new Random(17);
        for (int round = 0; round < 3000; round++) {
            List<Object> records = new ArrayList<>();
            for (int i = random.nextInt(5); i > 0; i--) {
                records.add(randomElement(random, 0));
            }
            byte[] frame = codec.encode(records);
            assertEquals(records, codec.decode(frame), "round " + round);
            // Every line is one document that the file reader's check accepts.
            for (String line : new String(frame, StandardCharsets.UTF_8).split("\n")) {
                if (!records.isEmpty()) {
                    assertTrue(line.indexOf('\n') < 0);
                }
            }
        }
        assertEquals(0, codec.encode(List.of()).length);
        assertEquals(List.of(), codec.decode(new byte[0]));
    }

    @Test
    void nanAndInfinityAreNotJson() {
        assertThrows(IllegalArgumentException.class, () -> codec.encode(List.of(Double.NaN)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(List.of(Double.POSITIVE_INFINITY)));
        for (String line : List.of("NaN", "[Infinity]", "{\"a\": -Infinity}")) {
            assertThrows(MalformedDataException.class, () -> JsonCodec.check(line), line);
        }
    }

    @Test
    void malformedLinesAreRejectedAndBlankOnesDropped() throws MalformedDataException {
        for (String line : List.of("{bad", "[1,]", "{'a': 1}", "1 2", "\"tab\there\"", "{\"a\":1}}", "tru",
                "\"\\x\"", "[1", "01")) {
            assertThrows(MalformedDataException.class, () -> JsonCodec.check(line), line);
        }
        assertEquals(dev.ember.codec.lines.LineCheck.Verdict.DROP, JsonCodec.check("   "));
        for (String line : List.of("1", "-0.5e-3", "\"\\ud83d\\ude00\"", "null", "[]", "{}", " {\"a\": [1, {}]} ")) {
            assertEquals(dev.ember.codec.lines.LineCheck.Verdict.KEEP, JsonCodec.check(line), line);
        }
    }

    @Test
    void aFileWithAMalformedLineFailsWithItsNumberOrSkipsAndCountsIt() throws IOException {
        Path file = dir.resolve("data.json");
        Files.writeString(file, "{\"a\": 1}\n\n[1, 2\n\"ok\"\n");
        FileSplit whole = new FileSplit(file.toString(), 0, Files.size(file));
        MalformedDataException error = assertThrows(MalformedDataException.class, () -> {
            try (FrameReader reader = codec.reader(whole, Map.of())) {
                reader.next();
            }
        });
        assertTrue(error.getMessage().startsWith(file + ": line 3 (byte offset 10): not valid JSON"),
                error.getMessage());
        assertTrue(error.getMessage().endsWith(": [1, 2"), error.getMessage());
        try (FrameReader reader = codec.reader(whole, Map.of("malformed", "skip"))) {
            assertEquals(List.of(new JsonPrimitive(1), new JsonPrimitive("ok")).toString(),
                    List.of(((JsonObject) codec.decode(reader.next()).get(0)).get("a"), new JsonPrimitive("ok"))
                            .toString());
            assertEquals(null, reader.next());
            assertEquals(1, reader.skippedRecords());
        }
    }

    @Test
    void aDocumentOver64MiBRoundTripsThroughAFile() throws IOException {
        JsonArray big = new JsonArray();
        String chunk = "\u00e9".repeat(1 << 20);
        for (int i = 0; i < 33; i++) {
            big.add(chunk); // 33 strings of 2 MiB in UTF-8: 66 MiB on one line
        }
        Path file = dir.resolve("part-00000");
        try (FrameWriter writer = codec.writer(file, Map.of())) {
            writer.write(codec.encode(List.of(big, new JsonPrimitive(1))));
        }
        assertTrue(Files.size(file) > 64L * 1024 * 1024);
        List<Object> read = new ArrayList<>();
        try (FrameReader reader = codec.reader(new FileSplit(file.toString(), 0, Files.size(file)), Map.of())) {
            for (byte[] frame = reader.next(); frame != null; frame = reader.next()) {
                read.addAll(codec.decode(frame));
            }
        }
        assertEquals(2, read.size());
        assertTrue(big.equals(read.get(0)));
    }
}
