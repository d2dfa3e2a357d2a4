package dev.ember.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.ember.security.PrivateDirectories;

/**
 * The framework's bundle cache for one boot. A distribution keeps a few caches ("slots") from one boot to the next:
 * a boot that finds a free slot written by a boot of the same distribution (same jars, same Java) skips installing
 * the bundles and SCR's parsing of their component descriptions (~100 ms of a driver's start-up on 2 cores). A
 * slot is one JVM's at a time, held by a file lock that dies with the JVM; a boot that finds every slot taken, or
 * one that is not of this distribution, writes a fresh cache. Caches go to a memory-backed file system when there is
 * one ({@link #cacheParent}).
 */
final class BundleCache {

    static final int SLOTS = 8;
    static final String SLOT_PREFIX = "ember-felix-cache-";
    /** Written once a boot completed, so a boot that was cut short leaves a slot the next one rewrites. */
    static final String STAMP = "ember-boot.stamp";
    private static final String STAMP_FORMAT = "ember bundle cache 1";
    /** A cache of one boot only: {@code ember-felix-<pid>-<clock>}. */
    private static final String CACHE_PREFIX = "ember-felix-";
    private static final String SHARED_MEMORY = "/dev/shm";
    /** /dev/shm only with room to spare: a container's default one (64 MiB) is left to the programs it is for. */
    static final long MIN_FREE_SHARED_MEMORY = 256L << 20;

    final Path directory;
    /** Whether the cache holds the bundles of an earlier boot of this distribution. */
    final boolean reused;
    /** Keeps the slot this JVM's; null for a cache of this boot only. */
    private final FileChannel lock;

    private BundleCache(Path directory, boolean reused, FileChannel lock) {
        this.directory = directory;
        this.reused = reused;
        this.lock = lock;
    }

    /** Whether this cache stays for the next boot (a slot) or goes with this JVM. */
    boolean kept() {
        return lock != null;
    }

    /** The cache of this boot: a free slot of this distribution under {@code parent}, else one of its own. */
    static BundleCache forBoot(Path parent, String stamp) throws IOException {
        BundleCache slot = claimSlot(parent, stamp);
        return slot != null ? slot : fresh(directoryOfItsOwn(parent));
    }

    /**
     * A fresh directory for the framework's bundle cache, under {@code parent}. Not
     * {@link Files#createTempDirectory}: its random name initialises the JDK's security providers (~25 ms on the
     * path to the first result); a name from the pid and the clock is unique enough, and an existing directory is
     * never reused. The pid in the name lets a later boot remove the caches of JVMs that were killed.
     */
    private static Path directoryOfItsOwn(Path parent) throws IOException {
        long pid = ProcessHandle.current().pid();
        for (int attempt = 0; ; attempt++) {
            Path candidate = parent.resolve(CACHE_PREFIX + pid + "-" + Long.toString(System.nanoTime(), 36));
            try {
                return Files.createDirectory(candidate);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /**
     * Removes what earlier JVMs left under {@code parent}: the slots of distributions that are gone and, in memory,
     * the caches of killed JVMs (the temp directory's are left to its cleaner). Runs after the boot, off the path to
     * the first result.
     */
    static void removeLeftovers(Path parent) {
        removeOrphanedSlots(parent);
        removeStaleCaches(parent); // Under this user's own root, so nobody else's.
    }

    /**
     * Where this JVM's caches go: this user's private root ({@code ember-<user>}, mode 0700, see
     * {@link PrivateDirectories}) under the place {@link #cacheParent} picks. Under a shared {@code /dev/shm}, slots
     * of predictable names would let another local user create a victim's slot first and plant a bundle in it. A
     * root another user made (or opened to others) is refused; the temp directory's is tried instead, and if that
     * is refused too the boot fails naming it.
     */
    static Path defaultParent() throws IOException {
        Path parent = cacheParent(System.getenv("XDG_RUNTIME_DIR"), Path.of(SHARED_MEMORY), tempDirectory(),
                MIN_FREE_SHARED_MEMORY, mounts());
        try {
            return PrivateDirectories.userRoot(parent);
        } catch (IOException e) {
            if (parent.equals(tempDirectory())) {
                throw e;
            }
            System.err.println("ember: not using " + parent + " for bundle caches: " + e.getMessage());
            return PrivateDirectories.userRoot(tempDirectory());
        }
    }

    private static Path tempDirectory() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /**
     * Where bundle caches go. Felix writes some 150 small files and directories into a new cache (and reads them
     * back from a reused one); on a disk-backed temp directory (ext4 here) writing them cost ~40-60 ms of the boot's
     * CPU, on a memory-backed one next to nothing, and a cache holds only some 300 KiB. So: the user's
     * runtime directory (XDG_RUNTIME_DIR, a tmpfs of their own), else /dev/shm with room to spare, else the JVM's
     * temp directory. Never a file system mounted noexec: a bundle's native libraries are loaded from its cache.
     * {@code mounts} are the lines of /proc/self/mounts (empty where there is no such file).
     */
    static Path cacheParent(String runtimeDirectory, Path sharedMemory, Path tempDirectory, long minFreeSharedMemory,
            List<String> mounts) {
        if (runtimeDirectory != null && !runtimeDirectory.isBlank()) {
            Path runtime = Path.of(runtimeDirectory);
            if (usableForCaches(runtime, mounts)) {
                return runtime;
            }
        }
        if (usableForCaches(sharedMemory, mounts) && sharedMemory.toFile().getUsableSpace() >= minFreeSharedMemory) {
            return sharedMemory;
        }
        return tempDirectory;
    }

    private static boolean usableForCaches(Path directory, List<String> mounts) {
        return Files.isDirectory(directory) && Files.isWritable(directory) && !mountedNoExec(directory, mounts);
    }

    /**
     * Whether the mount that holds {@code directory} (the longest mount point above it; of equals, the last one
     * listed) has the noexec option.
     */
    static boolean mountedNoExec(Path directory, List<String> mounts) {
        Path target = directory.toAbsolutePath().normalize();
        int longest = -1;
        boolean noExec = false;
        for (String line : mounts) {
            String[] fields = line.split(" ");
            if (fields.length < 4) {
                continue;
            }
            // Spaces and tabs in mount points are written as octal escapes.
            Path mountPoint = Path.of(fields[1].replace("\\040", " ").replace("\\011", "\t"));
            if (target.startsWith(mountPoint) && mountPoint.getNameCount() >= longest) {
                longest = mountPoint.getNameCount();
                noExec = List.of(fields[3].split(",")).contains("noexec");
            }
        }
        return noExec;
    }

    private static List<String> mounts() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mounts"));
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    /**
     * Deletes the bundle caches that JVMs killed before they could clean up left in {@code parent}: those named
     * after a process that no longer runs. Runs after the boot, off the path to the first result.
     */
    static int removeStaleCaches(Path parent) {
        int removed = 0;
        try (Stream<Path> entries = Files.list(parent)) {
            for (Path cache : entries.filter(path -> ownerPid(path.getFileName().toString()) > 0).toList()) {
                long pid = ownerPid(cache.getFileName().toString());
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) {
                    deleteTree(cache);
                    removed++;
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // Leftovers are harmless; the next boot tries again.
        }
        return removed;
    }

    /** The pid in a cache's name ({@code ember-felix-<pid>-<clock>}), or -1 for any other name. */
    static long ownerPid(String name) {
        if (!name.startsWith(CACHE_PREFIX)) {
            return -1;
        }
        String rest = name.substring(CACHE_PREFIX.length());
        int dash = rest.indexOf('-');
        if (dash <= 0) {
            return -1;
        }
        try {
            return Long.parseLong(rest.substring(0, dash));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * A free slot of this distribution under {@code parent}, or null when all are taken: the first whose cache was
     * written by a boot with this {@code stamp}, else the first free one, wiped, whose cache no boot can reuse,
     * else the first free one, wiped. Boots of one distribution that differ in their bundles (with or without the
     * web UI, the cluster bundles) so keep a slot each instead of rewriting one another's.
     */
    static BundleCache claimSlot(Path parent, String stamp) throws IOException {
        String owner = slotOwner(stamp);
        // The free slots, in order, each locked until it is taken or let go below.
        Map<Path, FileChannel> free = new LinkedHashMap<>();
        try {
            for (int slot = 0; slot < SLOTS; slot++) {
                Path directory = parent.resolve(SLOT_PREFIX + owner + "-" + slot);
                FileChannel lock = tryLock(parent.resolve(directory.getFileName() + ".lock"));
                if (lock == null) {
                    continue;
                }
                free.put(directory, lock);
                Path stampFile = directory.resolve(STAMP);
                if (Files.isDirectory(directory) && stamp.equals(readQuietly(stampFile))) {
                    try {
                        Files.delete(stampFile);
                        return new BundleCache(directory, true, free.remove(directory));
                    } catch (IOException e) {
                        // A slot this JVM cannot write: try the next one.
                    }
                }
            }
            // A slot whose cache is of no use to any boot (none, cut short, of other jars) goes before one that
            // holds the cache of a boot of these jars with other bundles.
            String jars = withoutBootLine(stamp);
            List<Path> candidates = free.keySet().stream().sorted(Comparator.comparing(
                    directory -> jars.equals(withoutBootLine(readQuietly(directory.resolve(STAMP)))))).toList();
            for (Path directory : candidates) {
                try {
                    deleteTree(directory);
                    Files.createDirectories(directory);
                    return new BundleCache(directory, false, free.remove(directory));
                } catch (IOException e) {
                    // A slot this JVM cannot write (say, a file where its directory should be): try the next one.
                }
            }
            return null;
        } finally {
            free.values().forEach(BundleCache::closeQuietly);
        }
    }

    /** A stamp without its boot line: what boots of the same jars with other bundles have in common. */
    private static String withoutBootLine(String stamp) {
        return stamp == null ? "" : stamp.lines().filter(line -> !line.startsWith("boot "))
                .collect(Collectors.joining("\n"));
    }

    private static void closeQuietly(FileChannel lock) {
        try {
            lock.close();
        } catch (IOException e) {
            // The lock goes with the JVM anyway.
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file) : null;
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
    }

    /** A cache for this boot only (every slot is taken). */
    static BundleCache fresh(Path directory) {
        return new BundleCache(directory, false, null);
    }

    /** Empties a slot whose cache could not be used, for a fresh boot in it. */
    BundleCache wiped() throws IOException {
        deleteTree(directory);
        Files.createDirectories(directory);
        return new BundleCache(directory, false, lock);
    }

    /** Marks a slot as holding a complete boot of the distribution {@code stamp} describes. */
    void completed(String stamp) {
        if (kept()) {
            try {
                Files.writeString(directory.resolve(STAMP), stamp);
            } catch (IOException e) {
                // The next boot then writes the cache afresh.
            }
        }
    }

    /** Once the framework has stopped: deletes a cache of this boot only; a slot stays, free for the next boot. */
    void release() {
        if (!kept()) {
            deleteTree(directory);
            return;
        }
        try {
            lock.close();
        } catch (IOException e) {
            // The lock goes with the JVM anyway.
        }
    }

    /**
     * What a reusable cache must have been written by: the distribution's directory, its framework and bundle jars
     * (name, size, modification time), the Java version and {@code boot}, what sets this boot's bundles apart from
     * other boots of the distribution (the web UI left out, the cluster bundles added).
     */
    static String stamp(Path home, String boot) throws IOException {
        StringBuilder stamp = new StringBuilder(STAMP_FORMAT).append("\nhome ").append(home)
                .append("\njava ").append(System.getProperty("java.version")).append("\nboot ").append(boot)
                .append('\n');
        for (String folder : List.of("lib", "bundle")) {
            List<Path> jars;
            try (Stream<Path> listing = Files.list(home.resolve(folder))) {
                jars = listing.filter(path -> path.toString().endsWith(".jar")).sorted().toList();
            }
            for (Path jar : jars) {
                stamp.append(folder).append('/').append(jar.getFileName()).append(' ').append(Files.size(jar))
                        .append(' ').append(Files.getLastModifiedTime(jar).toMillis()).append('\n');
            }
        }
        return stamp.toString();
    }

    /** Slots are per user and per distribution directory (the stamp's second line). */
    static String slotOwner(String stamp) {
        String home = stamp.lines().skip(1).findFirst().orElse("");
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.]", "_");
        return user + "-" + Integer.toHexString(home.hashCode());
    }

    /**
     * Deletes the slots of distributions that no longer exist (a test's or a benchmark's copy, say), unless a JVM
     * holds them. Returns how many went.
     */
    static int removeOrphanedSlots(Path parent) {
        int removed = 0;
        List<Path> slots;
        try (Stream<Path> entries = Files.list(parent)) {
            slots = entries.filter(path -> path.getFileName().toString().startsWith(SLOT_PREFIX)
                    && Files.isDirectory(path)).toList();
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
        for (Path slot : slots) {
            Path lockFile = parent.resolve(slot.getFileName() + ".lock");
            String home = homeOf(slot.resolve(STAMP));
            if (home != null && Files.isDirectory(Path.of(home))) {
                continue;
            }
            FileChannel lock = tryLock(lockFile);
            if (lock == null) {
                continue;
            }
            try (lock) {
                deleteTree(slot);
                Files.deleteIfExists(lockFile);
                removed++;
            } catch (IOException e) {
                // Left for the next boot to try.
            }
        }
        return removed;
    }

    /** The distribution directory a slot's stamp names, or null without a stamp. */
    private static String homeOf(Path stampFile) {
        String stamp = readQuietly(stampFile);
        return stamp == null ? null : stamp.lines().filter(line -> line.startsWith("home "))
                .map(line -> line.substring("home ".length())).findFirst().orElse(null);
    }

    /** The lock on a slot, or null when another JVM (or this one) holds it or the file cannot be opened. */
    private static FileChannel tryLock(Path lockFile) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return channel;
            }
        } catch (IOException | OverlappingFileLockException e) {
            // Taken, or not ours to use.
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Nothing to do.
            }
        }
        return null;
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // A directory left behind is harmless.
        }
    }
}
