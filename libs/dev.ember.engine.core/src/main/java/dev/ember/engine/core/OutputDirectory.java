package dev.ember.engine.core;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The files of a {@code FILES} stage, committed as Hadoop's FileOutputCommitter does: each task attempt writes under
 * {@code _temporary/}, a successful attempt's file is kept for its partition, and only when every task has succeeded
 * are the files moved to {@code part-NNNNN} and {@code _SUCCESS} written. A failed or cancelled job leaves nothing
 * that looks complete: its temporary files and the (then empty) directory are removed.
 */
public final class OutputDirectory {

    public final Path directory;
    public final Map<String, String> options;
    private final Path temporary;
    private final Map<Integer, Path> committed = new TreeMap<>();
    private boolean used;
    private boolean aborted;

    private OutputDirectory(Path directory, Map<String, String> options) {
        this.directory = directory;
        this.options = Map.copyOf(options);
        this.temporary = directory.resolve("_temporary");
    }

    /** Reserves a directory that must not exist yet, as Spark requires. */
    public static OutputDirectory create(String directory, Map<String, String> options) throws IOException {
        Path path = Path.of(directory.startsWith("file:") ? directory.replaceFirst("^file:(//)?", "") : directory)
                .toAbsolutePath().normalize();
        if (Files.exists(path)) {
            throw new FileAlreadyExistsException("Output directory file:" + path + " already exists");
        }
        Files.createDirectories(path.resolve("_temporary"));
        return new OutputDirectory(path, options);
    }

    /** Marks the output as taken by a job; a second job may not write into it. */
    public synchronized boolean claim() {
        if (used) {
            return false;
        }
        used = true;
        return true;
    }

    /** A fresh file for one task attempt. */
    public synchronized Path attemptFile(int jobId, int partition, int attempt, String suffix) throws IOException {
        if (aborted) {
            throw new IOException("the job writing " + directory + " has failed; no more task files are written");
        }
        Path dir = temporary.resolve("attempt_" + jobId + "_" + partition + "_" + attempt);
        Files.createDirectories(dir);
        return dir.resolve(partName(partition, suffix));
    }

    /** Keeps a successful attempt's file for its partition; a second success of the same partition is dropped. */
    public synchronized void commitTask(int partition, Path file) {
        if (aborted) {
            abortJob();
            return;
        }
        if (committed.containsKey(partition)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // Under _temporary, which the job removes when it ends.
            }
            return;
        }
        committed.put(partition, file);
    }

    /** Moves every task's file into place and writes {@code _SUCCESS}. */
    public synchronized void commitJob() throws IOException {
        for (Map.Entry<Integer, Path> entry : committed.entrySet()) {
            Path file = entry.getValue();
            Files.move(file, directory.resolve(file.getFileName()), StandardCopyOption.ATOMIC_MOVE);
        }
        deleteTree(temporary);
        Files.createFile(directory.resolve("_SUCCESS"));
    }

    /** Removes what the job wrote, and the directory if nothing else is in it. */
    public synchronized void abortJob() {
        aborted = true;
        try {
            deleteTree(temporary);
            try (Stream<Path> left = Files.list(directory)) {
                if (left.findAny().isEmpty()) {
                    Files.deleteIfExists(directory);
                }
            }
        } catch (IOException e) {
            // Best effort: nothing here looks complete without _SUCCESS.
        }
    }

    static String partName(int partition, String suffix) {
        return String.format("part-%05d%s", partition, suffix);
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
