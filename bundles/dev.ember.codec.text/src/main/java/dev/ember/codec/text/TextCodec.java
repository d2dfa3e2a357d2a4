package dev.ember.codec.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import dev.ember.api.codec.Codec;
import dev.ember.api.codec.FileSplit;
import dev.ember.api.codec.FrameReader;
import dev.ember.api.codec.FrameWriter;
import dev.ember.codec.lines.LineFileWriter;
import dev.ember.codec.lines.LineFrameReader;
import dev.ember.codec.lines.Utf8;

/**
 * UTF-8 lines: a frame's payload is its records, each a line of UTF-8 ended by {@code '\n'}. What
 * {@code sc.textFile} reads (the JVM splits and reads the files) and {@code saveAsTextFile} writes.
 */
@Component(property = Codec.NAME_PROPERTY + "=" + TextCodec.NAME)
public final class TextCodec implements Codec {

    static final String NAME = "text";
    static final String UTF8_HINT = "Pass use_unicode=False to textFile to read lines as bytes, or set "
            + "spark.ember.text.malformed=replace to replace invalid bytes with U+FFFD";

    @Override
    public String name() {
        return NAME;
    }

    /** Each record is written as one line: a {@code byte[]} as it is, anything else as its UTF-8 string form. */
    @Override
    public byte[] encode(List<?> records) {
        var out = new java.io.ByteArrayOutputStream();
        for (Object record : records) {
            byte[] bytes = record instanceof byte[] raw ? raw : String.valueOf(record).getBytes(StandardCharsets.UTF_8);
            out.writeBytes(bytes);
            out.write('\n');
        }
        return out.toByteArray();
    }

    /** The lines of a frame as strings. */
    @Override
    public List<Object> decode(byte[] frame) {
        if (frame.length > 0 && frame[frame.length - 1] != '\n') {
            throw new IllegalArgumentException("a text frame must end with a newline; this one is cut off");
        }
        int bad = Utf8.firstInvalid(frame, 0, frame.length);
        if (bad >= 0) {
            throw new IllegalArgumentException("a text frame holds invalid UTF-8 at byte " + bad);
        }
        List<Object> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < frame.length; i++) {
            if (frame[i] == '\n') {
                lines.add(new String(frame, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return lines;
    }

    @Override
    public boolean splittable() {
        return true;
    }

    @Override
    public FrameReader reader(FileSplit split, Map<String, String> options) throws IOException {
        return LineFrameReader.open(split, options, null, UTF8_HINT);
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
