package dev.ember.engine.core;

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

import dev.ember.api.codec.FileSplit;

/**
 * Files opened for reading by the JVM: their splits, the codec that reads them and its options, and how many
 * malformed records each split's latest complete read skipped.
 */
public final class FileInput {

    /** The split size Hadoop uses for local files ({@code fs.local.block.size}). */
    static final long BLOCK_SIZE = 32L * 1024 * 1024;

    public final String codec;
    public final Map<String, String> options;
    public final List<FileSplit> splits;
    private final AtomicLongArray skipped;

    public FileInput(String codec, Map<String, String> options, List<FileSplit> splits) {
        this.codec = codec;
        this.options = Map.copyOf(options);
        this.splits = List.copyOf(splits);
        this.skipped = new AtomicLongArray(splits.size());
    }

    void recordSkipped(int split, long count) {
        skipped.set(split, count);
    }

    public long skipped() {
        long total = 0;
        for (int i = 0; i < skipped.length(); i++) {
            total += skipped.get(i);
        }
        return total;
    }

    /**
     * The files a path names: comma-separated paths (a comma inside braces does not separate, as in Hadoop), each a
     * file, a directory (its files whose names do not start with '.' or '_', as Hadoop's hidden-file filter has it)
     * or a glob ({@code *}, {@code ?}, {@code [...]}, {@code {a,b}}); sorted within each part.
     *
     * @throws IllegalArgumentException for a URI of another file system ({@code hdfs://}, {@code s3a://}, ...)
     */
    public static List<Path> list(String path) throws IOException {
        List<Path> found = new ArrayList<>();
        for (String part : splitPaths(path)) {
            refuseRemoteScheme(part.strip());
            String name = stripScheme(part.strip());
            if (name.isEmpty()) {
                continue;
            }
            List<Path> matches = hasGlob(name) ? globAll(name) : List.of(Path.of(name).toAbsolutePath());
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
                } else if (Files.exists(match)) {
                    throw new IOException(notRegular(match));
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

    /** Why a path that exists cannot be read as input (a device such as /dev/zero would never end). */
    static String notRegular(Path path) {
        return "Input path is not a regular file or directory: " + path + " (a device, pipe or socket has no size "
                + "to split into partitions; copy its data to a file first)";
    }

    /** Splits at commas outside braces. */
    static List<String> splitPaths(String path) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && depth > 0) {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(path.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(path.substring(start));
        return parts;
    }

    /** The patterns a glob with {@code {a,b}} alternatives (nested too) stands for, in order. */
    static List<String> expandBraces(String pattern) {
        int open = pattern.indexOf('{');
        if (open < 0) {
            return List.of(pattern);
        }
        int depth = 0;
        int close = -1;
        for (int i = open; i < pattern.length() && close < 0; i++) {
            if (pattern.charAt(i) == '{') {
                depth++;
            } else if (pattern.charAt(i) == '}' && --depth == 0) {
                close = i;
            }
        }
        if (close < 0) {
            return List.of(pattern); // An unclosed brace is a literal character.
        }
        List<String> expanded = new ArrayList<>();
        for (String choice : splitPaths(pattern.substring(open + 1, close))) {
            expanded.addAll(expandBraces(pattern.substring(0, open) + choice + pattern.substring(close + 1)));
        }
        return expanded;
    }

    private static void refuseRemoteScheme(String path) {
        int colon = path.indexOf(':');
        if (colon <= 0 || !path.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")
                || path.substring(0, colon).equalsIgnoreCase("file")) {
            return;
        }
        throw new IllegalArgumentException("Ember reads local paths only (a shared mount works too), not "
                + path.substring(0, colon) + ":// URIs such as '" + path + "': copy the data to a local or mounted "
                + "directory and pass that path");
    }

    /** Every match of a glob whose braces are expanded first (they may hold '/'), without duplicates. */
    private static List<Path> globAll(String pattern) throws IOException {
        java.util.TreeSet<Path> matches = new java.util.TreeSet<>();
        for (String alternative : expandBraces(pattern)) {
            matches.addAll(glob(alternative));
        }
        return new ArrayList<>(matches);
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
    public static List<FileSplit> split(List<Path> files, int minPartitions, boolean splittable) throws IOException {
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
