package dev.ember.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateDirectoriesTest {

    @TempDir
    Path base;

    @Test
    void theUserRootIsMadeOwnerOnlyAndPrivateDirectoriesUnderItHaveRandomNames() throws IOException {
        Path root = PrivateDirectories.userRoot(base);
        assertEquals("ember-" + PrivateDirectories.sanitize(System.getProperty("user.name")),
                root.getFileName().toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
        assertEquals(root, PrivateDirectories.userRoot(base)); // found again, and accepted
        Path one = PrivateDirectories.create(root, "spill-");
        Path two = PrivateDirectories.create(root, "spill-");
        assertNotEquals(one, two);
        assertTrue(one.getFileName().toString().startsWith("spill-") && one.getFileName().toString().length() > 12);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(one)));
    }

    @Test
    void aRootOpenToOthersIsRefused() throws IOException {
        Path root = PrivateDirectories.userRoot(base);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException refused = assertThrows(IOException.class, () -> PrivateDirectories.userRoot(base));
        assertTrue(refused.getMessage().contains("lets other users in"), refused.getMessage());
        assertThrows(IOException.class, () -> PrivateDirectories.create(root, "spill-"));
    }

    @Test
    void aLinkOrAFileWhereTheRootShouldBeIsRefused() throws IOException {
        Path elsewhere = Files.createDirectory(base.resolve("elsewhere"));
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(base.resolve("ember-" + PrivateDirectories.sanitize(System.getProperty("user.name"))),
                elsewhere);
        IOException refused = assertThrows(IOException.class, () -> PrivateDirectories.userRoot(base));
        assertTrue(refused.getMessage().contains("not a plain directory"), refused.getMessage());
    }

    @Test
    void aRootOfAnotherUserIsRefused() throws IOException {
        Path planted = Files.createDirectory(base.resolve("planted"));
        Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwx------"));
        Path subject = planted;
        try {
            // As root (CI), hand the directory to nobody; as anyone else, "/" belongs to another user already.
            UserPrincipal nobody = base.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(planted, nobody);
        } catch (FileSystemException | UnsupportedOperationException e) {
            subject = Path.of("/");
        }
        Path checked = subject;
        IOException refused = assertThrows(IOException.class, () -> PrivateDirectories.check(checked));
        assertTrue(refused.getMessage().contains("belongs to"), refused.getMessage());
    }

    @Test
    void aSweepRemovesOnlyDirectoriesWhoseOwnerIsGone() throws IOException {
        Path root = PrivateDirectories.userRoot(base);
        java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - 60_000);
        // A killed owner's: its lock file is there, but nobody holds the lock.
        Path dead = PrivateDirectories.create(root, "spill-");
        Files.writeString(dead.resolve("spill-1.frames"), "left behind");
        Files.createFile(dead.resolve(PrivateDirectories.OWNER_LOCK));
        Files.setLastModifiedTime(dead.resolve(PrivateDirectories.OWNER_LOCK), old);
        // A running owner's (this JVM's): held.
        try (PrivateDirectories.OwnedDirectory alive = PrivateDirectories.createOwned(root, "spill-")) {
            Files.setLastModifiedTime(alive.path().resolve(PrivateDirectories.OWNER_LOCK), old);
            // Just made by an owner that has not locked it yet: too young to judge.
            Path young = PrivateDirectories.create(root, "spill-");
            Files.createFile(young.resolve(PrivateDirectories.OWNER_LOCK));
            // Another prefix is not this sweep's business.
            Path other = PrivateDirectories.create(root, "merge-");
            Files.createFile(other.resolve(PrivateDirectories.OWNER_LOCK));
            Files.setLastModifiedTime(other.resolve(PrivateDirectories.OWNER_LOCK), old);

            assertEquals(1, PrivateDirectories.sweepDead(root, "spill-"));
            assertTrue(Files.notExists(dead));
            assertTrue(Files.isDirectory(alive.path()) && Files.isDirectory(young) && Files.isDirectory(other));
        }
    }
}
