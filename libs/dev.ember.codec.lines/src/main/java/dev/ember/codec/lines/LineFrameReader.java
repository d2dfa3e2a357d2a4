package dev.ember.codec.lines;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import dev.ember.api.codec.FileSplit;
import dev.ember.api.codec.FrameReader;
import dev.ember.api.codec.MalformedDataException;

/**
 * Reads the lines of one split of a file and frames them for workers: a frame's payload is its lines, each in UTF-8
 * and ended by {@code '\n'}, about {@value #TARGET_FRAME_BYTES} bytes per frame.
 * <p>
 * Lines end at LF, CR or CR LF, as Hadoop's line reader ends them. A split owns the lines whose first byte lies in
 * it: it skips the line that crosses its start and finishes the line that crosses its end. Gzip files ({@code .gz})
 * are read whole, their offsets counting decompressed bytes. Nothing is buffered beyond one frame, so files larger
 * than memory stream through.
 * <p>
 * Options: {@code utf8} = {@code strict} (invalid UTF-8 is malformed; the default), {@code replace} (invalid bytes
 * become U+FFFD) or {@code none} (bytes pass unchecked); {@code malformed} = {@code fail} (the default: the first
 * malformed line ends the read with an error naming file, line and byte offset) or {@code skip} (leave it out and
 * count it).
 */
public final class LineFrameReader implements FrameReader {

    public static final int TARGET_FRAME_BYTES = 64 * 1024;
    private static final int BUFFER_BYTES = 64 * 1024;
    private static final int MAX_QUOTED_CHARS = 200;
    /** Eight bytes of an array as one long, so the scan for line ends looks at a word at a time. */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long ALL_LF = ONES * '\n';
    private static final long ALL_CR = ONES * '\r';

    private final FileSplit split;
    private final InputStream in;
    private final boolean whole;
    private final String utf8;
    private final boolean validate;
    private final boolean skipMalformed;
    private final LineCheck check;
    private final String utf8Hint;

    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int bufferPos;
    private int bufferLen;
    /** The file offset of {@code buffer[bufferPos]}. */
    private long position;

    private byte[] line = new byte[256];
    private int lineLen;
    private long lineStart;
    /** Whether the current line is all ASCII, which is valid UTF-8 as it is. */
    private boolean lineAscii;

    private byte[] frame = new byte[TARGET_FRAME_BYTES + 1024];
    private int frameLen;
    private long skipped;
    private boolean finished;

    private LineFrameReader(FileSplit split, InputStream in, boolean whole, long position, String utf8,
            boolean skipMalformed, LineCheck check, String utf8Hint) {
        this.split = split;
        this.in = in;
        this.whole = whole;
        this.position = position;
        this.utf8 = utf8;
        this.validate = !utf8.equals("none");
        this.skipMalformed = skipMalformed;
        this.check = check;
        this.utf8Hint = utf8Hint;
    }

    /**
     * Opens a split.
     *
     * @param check    an extra test per line, or null
     * @param utf8Hint what to tell the user to do about invalid UTF-8 (appended to that error), or ""
     */
    public static LineFrameReader open(FileSplit split, Map<String, String> options, LineCheck check, String utf8Hint)
            throws IOException {
        String utf8 = option(options, "utf8", "strict", "strict", "replace", "none");
        boolean skip = option(options, "malformed", "fail", "fail", "skip").equals("skip");
        Path path = Path.of(split.path());
        boolean compressed = isCompressed(split.path());
        if (split.path().endsWith(".bz2")) {
            throw new IOException("cannot read " + split.path() + ": bzip2 files are not supported (gzip is); "
                    + "decompress it first, for example with bunzip2");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(split.path(), null, "the file was removed after its splits were planned");
        }
        try {
            if (compressed) {
                InputStream in = new GZIPInputStream(Channels.newInputStream(channel), BUFFER_BYTES);
                return new LineFrameReader(split, in, true, 0, utf8, skip, check, utf8Hint);
            }
            // Start one byte early: if that byte ends a line, the line at split.start() is ours.
            long from = split.start() > 0 ? split.start() - 1 : 0;
            channel.position(from);
            LineFrameReader reader = new LineFrameReader(split, Channels.newInputStream(channel), false, from, utf8,
                    skip, check, utf8Hint);
            if (split.start() > 0) {
                reader.readLine();
            }
            return reader;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Whether a path names a compressed file, which is read whole rather than in splits. */
    public static boolean isCompressed(String path) {
        return path.endsWith(".gz") || path.endsWith(".bz2");
    }

    private static String option(Map<String, String> options, String key, String fallback, String... allowed) {
        String value = options.getOrDefault(key, fallback).toLowerCase(Locale.ROOT);
        if (!Arrays.asList(allowed).contains(value)) {
            throw new IllegalArgumentException("option " + key + "=" + value + " is not one of "
                    + String.join(", ", allowed));
        }
        return value;
    }

    @Override
    public byte[] next() throws IOException {
        frameLen = 0;
        while (!finished && frameLen < TARGET_FRAME_BYTES) {
            if (!whole && position >= split.end()) {
                finished = true; // Lines starting here belong to the next split.
                break;
            }
            if (!readLine()) {
                finished = true;
                break;
            }
            accept();
        }
        return frameLen == 0 && finished ? null : Arrays.copyOf(frame, frameLen);
    }

    /** Validates the current line and appends it to the frame, or skips it. */
    private void accept() throws IOException {
        byte[] bytes = line;
        int length = lineLen;
        if (validate && !lineAscii) {
            int bad = Utf8.firstInvalid(bytes, 0, length);
            if (bad >= 0) {
                if (utf8.equals("replace")) {
                    bytes = new String(bytes, 0, length, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
                    length = bytes.length;
                } else {
                    malformed("invalid UTF-8 (byte 0x" + Integer.toHexString(bytes[bad] & 0xff) + ")", lineStart + bad,
                            utf8Hint);
                    return;
                }
            }
        }
        if (check != null) {
            try {
                if (check.check(new String(bytes, 0, length, StandardCharsets.UTF_8)) == LineCheck.Verdict.DROP) {
                    return;
                }
            } catch (MalformedDataException e) {
                malformed(e.getMessage() + ": " + quote(bytes, length), lineStart, "");
                return;
            }
        }
        appendToFrame(bytes, length);
    }

    private void malformed(String problem, long offset, String hint) throws IOException {
        if (skipMalformed) {
            skipped++;
            return;
        }
        String where = whole && isCompressed(split.path()) ? "decompressed byte offset " : "byte offset ";
        throw new MalformedDataException(split.path() + ": line " + lineNumberAt(split.path(), lineStart) + " ("
                + where + offset + "): " + problem + (hint.isEmpty() ? "" : ". " + hint));
    }

    private static String quote(byte[] bytes, int length) {
        String text = new String(bytes, 0, length, StandardCharsets.UTF_8);
        return text.length() <= MAX_QUOTED_CHARS ? text : text.substring(0, MAX_QUOTED_CHARS) + "...";
    }

    private void appendToFrame(byte[] bytes, int length) {
        int needed = frameLen + length + 1;
        if (needed > frame.length) {
            frame = Arrays.copyOf(frame, Math.max(needed, frame.length * 2));
        }
        System.arraycopy(bytes, 0, frame, frameLen, length);
        frameLen += length;
        frame[frameLen++] = '\n';
    }

    /** Reads the next line into {@code line}; false at the end of the input. */
    private boolean readLine() throws IOException {
        lineLen = 0;
        lineStart = position;
        lineAscii = true;
        boolean any = false;
        while (true) {
            if (bufferPos == bufferLen && !fill()) {
                return any;
            }
            any = true;
            int i = skipPlainWords(bufferPos);
            while (i < bufferLen) {
                byte b = buffer[i];
                if (b == '\n' || b == '\r') {
                    break;
                }
                lineAscii &= b >= 0;
                i++;
            }
            appendToLine(i - bufferPos);
            position += i - bufferPos;
            bufferPos = i;
            if (i == bufferLen) {
                continue;
            }
            byte terminator = buffer[bufferPos++];
            position++;
            if (terminator == '\r' && (bufferPos < bufferLen || fill()) && buffer[bufferPos] == '\n') {
                bufferPos++;
                position++;
            }
            return true;
        }
    }

    /**
     * The index of the first eight-byte word from {@code i} on that holds a line end or a non-ASCII byte (or of the
     * buffer's last few bytes). A word at a time is about twice as fast as a byte at a time under the C1 compiler a
     * driver's JVM runs; with all-ASCII lines skipping the UTF-8 check, a 200 MB word count's JVM went from 1.3-1.5
     * to 0.8-0.9 s of CPU.
     */
    private int skipPlainWords(int i) {
        int last = bufferLen - Long.BYTES;
        while (i <= last) {
            long word = (long) WORDS.get(buffer, i);
            long lf = word ^ ALL_LF;
            long cr = word ^ ALL_CR;
            // A byte of lf or cr is zero where the word has that line end; (x - ONES) & ~x has the high bit of some
            // byte set exactly when some byte of x is zero. A non-ASCII byte has its own high bit set.
            if (((((lf - ONES) & ~lf) | ((cr - ONES) & ~cr) | word) & HIGH_BITS) != 0) {
                return i;
            }
            i += Long.BYTES;
        }
        return i;
    }

    private void appendToLine(int count) {
        if (lineLen + count > line.length) {
            line = Arrays.copyOf(line, Math.max(lineLen + count, line.length * 2));
        }
        System.arraycopy(buffer, bufferPos, line, lineLen, count);
        lineLen += count;
    }

    private boolean fill() throws IOException {
        int n = in.readNBytes(buffer, 0, buffer.length);
        bufferPos = 0;
        bufferLen = Math.max(n, 0);
        return bufferLen > 0;
    }

    @Override
    public long skippedRecords() {
        return skipped;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    /** The 1-based number of the line starting at {@code offset}, counted from the start of the file. */
    static long lineNumberAt(String path, long offset) throws IOException {
        try (LineFrameReader counter = open(new FileSplit(path, 0, Long.MAX_VALUE / 2), Map.of("utf8", "none"), null,
                "")) {
            long number = 1;
            while (counter.readLine() && counter.position <= offset) {
                number++;
            }
            return number;
        }
    }
}
