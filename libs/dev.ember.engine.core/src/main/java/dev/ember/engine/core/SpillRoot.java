package dev.ember.engine.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.ember.security.PrivateDirectories;

/**
 * Where spill files go: a directory of this engine's own, with a random name and mode 0700, under
 * {@code <base>/ember-<user>} (made 0700, and refused when another user owns it or it is open to others). It is made
 * on the first spill, so a job that never spills touches no disk; each session spills into a subdirectory of its
 * own. A name another local user could guess and create first (the old {@code /tmp/ember-spill-<pid>}) would let
 * them swap spill files for pickles of their own, which the victim's workers would then load.
 */
public final class SpillRoot {

    private static final String PREFIX = "spill-";
    private final Path base;
    private Path directory;
    /** Held while this JVM runs: a sweep by another JVM leaves the directory alone (see PrivateDirectories). */
    private PrivateDirectories.OwnedDirectory owned;

    /** @param base the configured {@code spillDirectory}, or the JVM's temp directory */
    public SpillRoot(Path base) {
        this.base = base;
    }

    public Path base() {
        return base;
    }

    /** The spill directory of a session, made (with the root) when first asked for. */
    public synchronized Path session(String sessionId) throws IOException {
        if (directory == null) {
            Path root = PrivateDirectories.userRoot(base);
            // What JVMs killed before they could clean up left (a full disk would stay full otherwise).
            PrivateDirectories.sweepDead(root, PREFIX);
            owned = PrivateDirectories.createOwned(root, PREFIX);
            directory = owned.path();
        }
        Path session = directory.resolve(sessionId);
        Files.createDirectories(session);
        return session;
    }

    public synchronized void deleteSession(String sessionId) {
        if (directory != null) {
            PrivateDirectories.deleteTree(directory.resolve(sessionId));
        }
    }

    public synchronized void delete() {
        if (directory != null) {
            PrivateDirectories.deleteTree(directory);
            owned.close();
            directory = null;
        }
    }

}
