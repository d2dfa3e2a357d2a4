package dev.ember.log;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Appends text to a file and rotates it by size: when a write would take {@code ember.log} past the limit, it becomes
 * {@code ember.log.1} (the older ones move up to {@code .2} ... and the oldest beyond {@code maxFiles} goes).
 */
final class RotatingFile implements AutoCloseable {

    private final Path file;
    private final long maxBytes;
    private final int maxFiles;
    private OutputStream out;
    private long size;

    RotatingFile(Path file, long maxBytes, int maxFiles) throws IOException {
        this.file = file;
        this.maxBytes = Math.max(1024, maxBytes);
        this.maxFiles = Math.max(1, maxFiles);
        Files.createDirectories(file.toAbsolutePath().getParent());
        open();
    }

    private void open() throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        }
        // The log holds what every client's jobs did (and printed): only the service's user reads it, even when a
        // file made by an older version was open to others.
        Files.setPosixFilePermissions(file, OWNER_ONLY);
        out = Files.newOutputStream(file, StandardOpenOption.APPEND);
        size = Files.size(file);
    }

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    synchronized void write(String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (size > 0 && size + bytes.length > maxBytes) {
            rotate();
        }
        out.write(bytes);
        out.flush();
        size += bytes.length;
    }

    private void rotate() throws IOException {
        out.close();
        Files.deleteIfExists(numbered(maxFiles));
        for (int i = maxFiles - 1; i >= 1; i--) {
            if (Files.exists(numbered(i))) {
                Files.move(numbered(i), numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(file, numbered(1), StandardCopyOption.REPLACE_EXISTING);
        open();
    }

    private Path numbered(int index) {
        return file.resolveSibling(file.getFileName() + "." + index);
    }

    Path path() {
        return file;
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
