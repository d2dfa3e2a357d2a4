package dev.ember.security;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * Directories only this process's user may use: temp roots in shared places ({@code /tmp}, {@code /dev/shm}) that
 * another local user could otherwise create first and fill (spill files swapped for pickles run foreign code in the
 * victim's workers; a planted bundle is started by the victim's JVM).
 * <p>
 * {@link #userRoot} makes (or checks) {@code <base>/ember-<user>} with mode 0700; {@link #create} makes a directory
 * with a random name and mode 0700 under a private root. A root that exists and is a symbolic link, not a
 * directory, not owned by this user, or open to group or others is refused with an exception naming it.
 */
public final class PrivateDirectories {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(OWNER_ONLY);

    private PrivateDirectories() {
    }

    /**
     * {@code <base>/ember-<user name>}, created 0700 when missing (with {@code base}, if need be), and checked as a
     * private root either way.
     */
    public static Path userRoot(Path base) throws IOException {
        Path root = base.resolve("ember-" + sanitize(System.getProperty("user.name", "user")));
        Files.createDirectories(base);
        try {
            Files.createDirectory(root, OWNER_ONLY_ATTRIBUTE);
        } catch (FileAlreadyExistsException e) {
            // Made earlier, by this user or by someone else: check decides.
        }
        check(root);
        return root;
    }

    /**
     * Refuses a directory this user should not put private files in: a link, not a directory, owned by another
     * user, or with any permission for group or others.
     */
    public static void check(Path directory) throws IOException {
        if (Files.isSymbolicLink(directory) || !Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("refusing " + directory + ": it is not a plain directory (a link or a file stands "
                    + "there); remove it, or choose another directory");
        }
        UserPrincipal owner = Files.getOwner(directory, LinkOption.NOFOLLOW_LINKS);
        UserPrincipal me = directory.getFileSystem().getUserPrincipalLookupService()
                .lookupPrincipalByName(System.getProperty("user.name"));
        if (!owner.equals(me)) {
            throw new IOException("refusing " + directory + ": it belongs to " + owner.getName() + ", not to "
                    + me.getName() + " (another user may have made it to read or replace this user's files); remove "
                    + "it, or choose another directory");
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS);
        if (!OWNER_ONLY.containsAll(permissions)) {
            throw new IOException("refusing " + directory + ": its mode " + PosixFilePermissions.toString(permissions)
                    + " lets other users in; chmod 700 it, or remove it");
        }
    }

    /** A new directory with a random name under {@code root} (which must be private), mode 0700. */
    public static Path create(Path root, String prefix) throws IOException {
        check(root);
        return Files.createTempDirectory(root, prefix, OWNER_ONLY_ATTRIBUTE);
    }

    /** The file in an owned directory whose lock says its owner still runs. */
    public static final String OWNER_LOCK = ".owner";

    /** Lock files younger than this are left alone by a sweep: their owner may be about to lock them. */
    private static final long YOUNG_LOCK_MILLIS = 10_000;

    /**
     * A private directory that holds a lock for as long as its process runs (see {@link #createOwned}); closing it
     * releases the lock (the directory stays: delete it first).
     */
    public record OwnedDirectory(Path path, FileChannel lock) implements AutoCloseable {
        @Override
        public void close() {
            try {
                lock.close();
            } catch (IOException e) {
                // The lock goes with the process anyway.
            }
        }
    }

    /**
     * A new private directory (as {@link #create}) that holds a lock for as long as this process runs, so that
     * {@link #sweepDead} can tell it from one a killed process left behind.
     */
    public static OwnedDirectory createOwned(Path root, String prefix) throws IOException {
        Path directory = create(root, prefix);
        FileChannel channel = FileChannel.open(directory.resolve(OWNER_LOCK), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        try {
            if (channel.tryLock() == null) {
                throw new IOException("cannot lock " + directory.resolve(OWNER_LOCK));
            }
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return new OwnedDirectory(directory, channel);
    }

    /**
     * Removes the directories named {@code prefix*} under {@code root} whose owner (see {@link #createOwned}) no
     * longer runs: a JVM killed with SIGKILL, say, leaves its spill files. Returns how many were removed.
     */
    public static int sweepDead(Path root, String prefix) {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, prefix + "*")) {
            for (Path directory : entries) {
                Path lock = directory.resolve(OWNER_LOCK);
                try {
                    if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(lock,
                            LinkOption.NOFOLLOW_LINKS) || System.currentTimeMillis()
                                    - Files.getLastModifiedTime(lock).toMillis() < YOUNG_LOCK_MILLIS) {
                        continue;
                    }
                    try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE)) {
                        if (channel.tryLock() == null) {
                            continue; // Its owner runs.
                        }
                        deleteTree(directory);
                        removed++;
                    } catch (java.nio.channels.OverlappingFileLockException e) {
                        // This JVM's own.
                    }
                } catch (IOException e) {
                    // Gone meanwhile, or not ours to read: left alone.
                }
            }
        } catch (IOException e) {
            // No root yet: nothing to sweep.
        }
        return removed;
    }

    /** Deletes a directory and everything under it, as far as it can. */
    public static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException e) {
            // What cannot be removed now stays under the user's own root.
        }
    }

    /** The user name as a file name: anything but letters, digits, '.', '_' and '-' becomes '_'. */
    static String sanitize(String name) {
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
