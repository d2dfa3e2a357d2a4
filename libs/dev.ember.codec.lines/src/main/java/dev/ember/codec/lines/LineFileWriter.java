package dev.ember.codec.lines;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import dev.ember.api.codec.FrameWriter;
import dev.ember.api.codec.MalformedDataException;

/**
 * Writes frames of lines (UTF-8, each ended by {@code '\n'}, as workers produce them) into a file unchanged, or
 * gzip-compressed with the option {@code compression=gzip}.
 */
public final class LineFileWriter implements FrameWriter {

    private final OutputStream out;

    private LineFileWriter(OutputStream out) {
        this.out = out;
    }

    public static LineFileWriter create(Path file, Map<String, String> options) throws IOException {
        String compression = compression(options);
        OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        if (compression.equals("gzip")) {
            return new LineFileWriter(new GZIPOutputStream(out, 1 << 16));
        }
        return new LineFileWriter(new BufferedOutputStream(out, 1 << 16));
    }

    /** The file name suffix the options call for: {@code .gz} for gzip. */
    public static String suffix(Map<String, String> options) {
        return compression(options).equals("gzip") ? ".gz" : "";
    }

    private static String compression(Map<String, String> options) {
        String compression = options.getOrDefault("compression", "none").toLowerCase(Locale.ROOT);
        if (!compression.equals("none") && !compression.equals("gzip")) {
            throw new IllegalArgumentException("compression=" + compression + " is not supported (none, gzip)");
        }
        return compression;
    }

    @Override
    public void write(byte[] frame) throws IOException {
        if (frame.length > 0 && frame[frame.length - 1] != '\n') {
            throw new MalformedDataException("a frame of lines must end with a newline (its last byte is 0x"
                    + Integer.toHexString(frame[frame.length - 1] & 0xff) + ")");
        }
        out.write(frame);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
