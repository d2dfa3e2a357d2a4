package dev.ember.api.codec;

import java.util.Objects;

/**
 * A byte range of one file: what one partition of a file-backed RDD reads. A record that starts inside the range
 * belongs to it, even if it ends past {@code start + length}; the range before owns a record that crosses
 * {@code start} (Hadoop's rule for splittable text).
 *
 * @param path   the absolute path of the file
 * @param start  the first byte of the range
 * @param length how many bytes the range spans; a compressed file is one range of its whole (compressed) length
 */
public record FileSplit(String path, long start, long length) {

    public FileSplit {
        Objects.requireNonNull(path, "path");
        if (start < 0 || length < 0) {
            throw new IllegalArgumentException("a split needs a non-negative start and length, got " + start + "+"
                    + length);
        }
    }

    public long end() {
        return start + length;
    }
}
