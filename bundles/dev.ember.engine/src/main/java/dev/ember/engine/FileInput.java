package dev.ember.engine;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;

import dev.ember.api.FileSplit;

/**
 * Files opened for reading by the JVM: their splits, the codec that reads them and its options, and how many
 * malformed records each split's latest complete read skipped.
 */
final class FileInput {

    /** The split size Hadoop uses for local files ({@code fs.local.block.size}). */
    static final long BLOCK_SIZE = 32L * 1024 * 1024;

    final String codec;
    final Map<String, String> options;
    final List<FileSplit> splits;
    private final AtomicLongArray skipped;

    FileInput(String codec, Map<String, String> options, List<FileSplit> splits) {
        this.codec = codec;
        this.options = Map.copyOf(options);
        this.splits = List.copyOf(splits);
        this.skipped = new AtomicLongArray(splits.size());
    }

    void recordSkipped(int split, long count) {
        skipped.set(split, count);
    }

    long skipped() {
        long total = 0;
        for (int i = 0; i < skipped.length(); i++) {
            total += skipped.get(i);
        }
        return total;
    }

    /**
     * The files a path names: comma-separated paths, each a file, a directory (its files whose names do not start
     * with '.' or '_', as Hadoop's hidden-file filter has it) or a glob; sorted within each part.
     */
    static List<Path> list(String path) throws IOException {
        List<Path> found = new ArrayList<>();
        for (String part : path.split(",")) {
            String name = stripScheme(part.strip());
            if (name.isEmpty()) {
                continue;
            }
            List<Path> matches = hasGlob(name) ? glob(name) : List.of(Path.of(name).toAbsolutePath());
            if (matches.isEmpty()) {
                throw new FileNotFoundException("Input path does not exist: " + name);
            }
            for (Path match : matches) {
                if (Files.isDirectory(match)) {
                    try (Stream<Path> children = Files.list(match)) {
                        children.filter(child -> Files.isRegularFile(child) && visible(child)).sorted()
                                .forEach(found::add);
                    }
                } else if (Files.isRegularFile(match)) {
                    found.add(match);
                } else {
                    throw new FileNotFoundException("Input path does not exist: " + match);
                }
            }
        }
        if (found.isEmpty() && path.strip().isEmpty()) {
            throw new FileNotFoundException("no input path given");
        }
        return found;
    }

    private static String stripScheme(String path) {
        if (path.startsWith("file://")) {
            return path.substring("file://".length());
        }
        return path.startsWith("file:") ? path.substring("file:".length()) : path;
    }

    private static boolean hasGlob(String path) {
        return path.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    private static boolean visible(Path path) {
        String name = path.getFileName().toString();
        return !name.startsWith(".") && !name.startsWith("_");
    }

    /** Matches a glob whose wildcards may be in any component, one directory level per component. */
    private static List<Path> glob(String pattern) throws IOException {
        Path absolute = Path.of(pattern).toAbsolutePath().normalize();
        List<Path> current = List.of(absolute.getRoot());
        for (Path component : absolute.getRoot().relativize(absolute)) {
            String name = component.toString();
            List<Path> next = new ArrayList<>();
            if (!hasGlob(name)) {
                for (Path dir : current) {
                    Path child = dir.resolve(name);
                    if (Files.exists(child)) {
                        next.add(child);
                    }
                }
            } else {
                PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + name);
                for (Path dir : current) {
                    if (!Files.isDirectory(dir)) {
                        continue;
                    }
                    try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
                        for (Path child : children) {
                            if (matcher.matches(child.getFileName()) && visible(child)) {
                                next.add(child);
                            }
                        }
                    }
                }
            }
            next.sort(null);
            current = next;
        }
        return current;
    }

    /**
     * Cuts files into splits as Hadoop's FileInputFormat does: a goal of {@code totalSize / minPartitions} bytes,
     * capped at the block size; the last split of a file may be up to 10 % larger rather than leave a sliver.
     * Compressed files, and every file when the codec cannot start mid-file, are one split each.
     */
    static List<FileSplit> split(List<Path> files, int minPartitions, boolean splittable) throws IOException {
        long total = 0;
        List<Long> sizes = new ArrayList<>();
        for (Path file : files) {
            long size = Files.size(file);
            sizes.add(size);
            total += size;
        }
        long goal = total / Math.max(minPartitions, 1);
        long splitSize = Math.max(1, Math.min(goal, BLOCK_SIZE));
        List<FileSplit> splits = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            String path = files.get(i).toString();
            long size = sizes.get(i);
            if (!splittable || size == 0 || path.endsWith(".gz") || path.endsWith(".bz2")) {
                splits.add(new FileSplit(path, 0, size));
                continue;
            }
            long start = 0;
            while (size - start > splitSize * 1.1) {
                splits.add(new FileSplit(path, start, splitSize));
                start += splitSize;
            }
            splits.add(new FileSplit(path, start, size - start));
        }
        return splits;
    }
}
