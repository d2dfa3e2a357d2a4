package dev.ember.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the bundle cache goes, and which leftover caches a boot removes. */
class CacheLocationTest {

    @TempDir
    Path root;

    @Test
    void theUsersRuntimeDirectoryComesFirst() throws IOException {
        Path runtime = Files.createDirectory(root.resolve("run-user"));
        Path shm = Files.createDirectory(root.resolve("shm"));
        Path tmp = Files.createDirectory(root.resolve("tmp"));
        assertEquals(runtime, BundleCache.cacheParent(runtime.toString(), shm, tmp, 0, List.of()));
    }

    @Test
    void sharedMemoryWithRoomToSpareComesNext() throws IOException {
        Path shm = Files.createDirectory(root.resolve("shm"));
        Path tmp = Files.createDirectory(root.resolve("tmp"));
        assertEquals(shm, BundleCache.cacheParent(null, shm, tmp, 0, List.of()));
        assertEquals(shm, BundleCache.cacheParent("", shm, tmp, 0, List.of()));
        // A runtime directory that is not there is passed over.
        assertEquals(shm, BundleCache.cacheParent(root.resolve("missing").toString(), shm, tmp, 0, List.of()));
    }

    @Test
    void otherwiseTheTempDirectory() throws IOException {
        Path shm = Files.createDirectory(root.resolve("shm"));
        Path tmp = Files.createDirectory(root.resolve("tmp"));
        // Shared memory without the room asked for (a container's small /dev/shm), or none at all.
        assertEquals(tmp, BundleCache.cacheParent(null, shm, tmp, Long.MAX_VALUE, List.of()));
        assertEquals(tmp, BundleCache.cacheParent(null, root.resolve("no-shm"), tmp, 0, List.of()));
    }

    @Test
    void neverAFileSystemMountedNoexec() throws IOException {
        Path runtime = Files.createDirectory(root.resolve("run-user"));
        Path shm = Files.createDirectory(root.resolve("shm"));
        Path tmp = Files.createDirectory(root.resolve("tmp"));
        List<String> mounts = List.of(
                "/dev/vda / ext4 rw,relatime 0 0",
                "tmpfs " + runtime + " tmpfs rw,nosuid,nodev,noexec,relatime 0 0",
                "tmpfs " + shm + " tmpfs rw,nosuid,nodev,relatime 0 0");
        assertEquals(shm, BundleCache.cacheParent(runtime.toString(), shm, tmp, 0, mounts));
        List<String> bothNoexec = List.of(mounts.get(0), mounts.get(1),
                "tmpfs " + shm + " tmpfs rw,nosuid,nodev,relatime 0 0", "tmpfs " + shm + " tmpfs rw,noexec 0 0");
        assertEquals(tmp, BundleCache.cacheParent(runtime.toString(), shm, tmp, 0, bothNoexec));
    }

    @Test
    void theMountOfADirectoryIsItsLongestMountPoint() {
        List<String> mounts = List.of("/dev/vda / ext4 rw,noexec 0 0", "tmpfs /dev/shm tmpfs rw,relatime 0 0",
                "tmpfs /run/user/1000 tmpfs rw,noexec 0 0", "tmpfs /mnt/with\\040space tmpfs rw,noexec 0 0");
        assertFalse(BundleCache.mountedNoExec(Path.of("/dev/shm"), mounts));
        assertFalse(BundleCache.mountedNoExec(Path.of("/dev/shm/x/y"), mounts));
        assertTrue(BundleCache.mountedNoExec(Path.of("/dev/shmother"), mounts));
        assertTrue(BundleCache.mountedNoExec(Path.of("/run/user/1000"), mounts));
        assertTrue(BundleCache.mountedNoExec(Path.of("/mnt/with space/cache"), mounts));
        assertFalse(BundleCache.mountedNoExec(Path.of("/tmp"), List.of()));
    }

    @Test
    void cacheNamesCarryTheirJvmsPid() {
        assertEquals(4242, BundleCache.ownerPid("ember-felix-4242-k3x9a"));
        assertEquals(-1, BundleCache.ownerPid("ember-felix-5037296037924347630"));
        assertEquals(-1, BundleCache.ownerPid("ember-felix--abc"));
        assertEquals(-1, BundleCache.ownerPid("ember-felix-x1-abc"));
        assertEquals(-1, BundleCache.ownerPid("ember-spill-4242"));
    }

    @Test
    void onlyTheCachesOfJvmsThatAreGoneAreRemoved() throws Exception {
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        Process running = new ProcessBuilder("sleep", "30").start();
        try {
            Path dead = cache(exited.pid());
            Path alive = cache(running.pid());
            Path own = cache(ProcessHandle.current().pid());
            Path unrelated = Files.createDirectory(root.resolve("something-else-1-2"));

            assertEquals(1, BundleCache.removeStaleCaches(root));

            assertFalse(Files.exists(dead));
            assertTrue(Files.exists(alive.resolve("bundle0/bundle.info")));
            assertTrue(Files.exists(own.resolve("bundle0/bundle.info")));
            assertTrue(Files.exists(unrelated));
        } finally {
            running.destroyForcibly().waitFor();
        }
    }

    /** A cache as a JVM with this pid leaves it: a bundle directory with a file in it. */
    private Path cache(long pid) throws IOException {
        Path cache = Files.createDirectories(root.resolve("ember-felix-" + pid + "-t0").resolve("bundle0"));
        Files.writeString(cache.resolve("bundle.info"), "1");
        return cache.getParent();
    }
}
