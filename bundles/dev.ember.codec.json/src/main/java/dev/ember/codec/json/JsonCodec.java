package dev.ember.codec.json;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import dev.ember.api.codec.Codec;
import dev.ember.api.codec.FileSplit;
import dev.ember.api.codec.FrameReader;
import dev.ember.api.codec.FrameWriter;
import dev.ember.api.codec.MalformedDataException;
import dev.ember.codec.lines.LineCheck;
import dev.ember.codec.lines.LineFileWriter;
import dev.ember.codec.lines.LineFrameReader;

/**
 * JSON lines through gson: a frame's payload is its records, each one JSON document (RFC 8259, strict: no NaN or
 * Infinity, no trailing text) on a line of UTF-8 ended by {@code '\n'}. What {@code sc.jsonFile} reads (the JVM
 * splits the files and checks every line before a worker parses it with Python's {@code json}) and
 * {@code saveAsJsonFile} writes. Blank lines are ignored, as Spark's JSON reader ignores them.
 * <p>
 * Reader option {@code malformed}: {@code fail} (the default; the error names file, line and text) or {@code skip}
 * (the line is left out and counted).
 */
@Component(property = Codec.NAME_PROPERTY + "=" + JsonCodec.NAME)
public final class JsonCodec implements Codec {

    static final String NAME = "json";

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
    private static final TypeAdapter<JsonElement> ELEMENTS = GSON.getAdapter(JsonElement.class);

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Each record becomes one line: a {@link JsonElement} as it is, anything else as gson serializes it. NaN and
     * infinities are refused, as they are not JSON.
     */
    @Override
    public byte[] encode(List<?> records) {
        StringBuilder out = new StringBuilder();
        for (Object record : records) {
            JsonElement element = record instanceof JsonElement json ? json : GSON.toJsonTree(record);
            out.append(GSON.toJson(element)).append('\n');
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The documents of a frame, as gson trees. */
    @Override
    public List<Object> decode(byte[] frame) {
        if (frame.length > 0 && frame[frame.length - 1] != '\n') {
            throw new IllegalArgumentException("a JSON-lines frame must end with a newline; this one is cut off");
        }
        List<Object> records = new ArrayList<>();
        String text = new String(frame, StandardCharsets.UTF_8);
        int start = 0;
        for (int end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
            String line = text.substring(start, end);
            try {
                records.add(parse(line));
            } catch (MalformedDataException e) {
                throw new IllegalArgumentException("record " + records.size() + " of the frame: " + e.getMessage());
            }
        }
        return records;
    }

    /** Parses one strict JSON document; a line with anything after the document is malformed too. */
    static JsonElement parse(String line) throws MalformedDataException {
        JsonReader reader = new JsonReader(new StringReader(line));
        reader.setStrictness(Strictness.STRICT);
        try {
            JsonElement element = ELEMENTS.read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new MalformedDataException("not valid JSON: text after the document");
            }
            return element;
        } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
            throw new MalformedDataException("not valid JSON: " + reason(e));
        }
    }

    /** A line is kept when it is one JSON document; blank lines are dropped. */
    static LineCheck.Verdict check(String line) throws MalformedDataException {
        if (line.isBlank()) {
            return LineCheck.Verdict.DROP;
        }
        parse(line);
        return LineCheck.Verdict.KEEP;
    }

    /** Gson's message without its advice to parse leniently, which would accept what Python's json rejects. */
    private static String reason(Exception e) {
        String message = String.valueOf(e.getMessage());
        int see = message.indexOf("See https://");
        if (see >= 0) {
            message = message.substring(0, see).strip();
        }
        message = message.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON at ",
                "malformed JSON at ");
        message = message.replaceFirst("^[a-zA-Z.]*Exception: ", "");
        return message.replace("line 1 column", "column").replaceAll(" path \\$\\S*$", "");
    }

    @Override
    public boolean splittable() {
        return true;
    }

    @Override
    public FrameReader reader(FileSplit split, Map<String, String> options) throws IOException {
        return LineFrameReader.open(split, options, JsonCodec::check, "JSON files must be UTF-8");
    }

    @Override
    public FrameWriter writer(Path file, Map<String, String> options) throws IOException {
        return LineFileWriter.create(file, options);
    }

    @Override
    public String fileSuffix(Map<String, String> options) {
        return LineFileWriter.suffix(options);
    }
}
