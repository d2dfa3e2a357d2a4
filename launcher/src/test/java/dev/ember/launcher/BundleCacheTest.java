package dev.ember.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which bundle cache a boot gets: a slot of an earlier boot of the same distribution, or a fresh one. */
class BundleCacheTest {

    @TempDir
    Path root;
    Path parent;
    Path home;

    @BeforeEach
    void distribution() throws IOException {
        parent = Files.createDirectory(root.resolve("shm"));
        home = Files.createDirectory(root.resolve("ember"));
        Files.createDirectories(home.resolve("lib"));
        Files.createDirectories(home.resolve("bundle"));
        Files.writeString(home.resolve("lib/org.apache.felix.framework-7.0.5.jar"), "framework");
        Files.writeString(home.resolve("bundle/dev.ember.engine-0.1.0.jar"), "engine");
    }

    @Test
    void aCompletedBootsCacheIsReusedByTheNextBootOfTheSameDistribution() throws IOException {
        String stamp = BundleCache.stamp(home, "");
        BundleCache first = BundleCache.claimSlot(parent, stamp);
        assertFalse(first.reused);
        assertTrue(first.kept());
        Files.writeString(first.directory.resolve("bundle1"), "what Felix wrote");
        first.completed(stamp);
        first.release();
        assertTrue(Files.exists(first.directory.resolve("bundle1")), "a slot outlives its JVM");

        BundleCache second = BundleCache.claimSlot(parent, BundleCache.stamp(home, ""));
        assertEquals(first.directory, second.directory);
        assertTrue(second.reused);
        assertEquals("what Felix wrote", Files.readString(second.directory.resolve("bundle1")));
        second.release();
    }

    @Test
    void aChangedDistributionGetsTheSlotWiped() throws IOException {
        BundleCache first = BundleCache.claimSlot(parent, BundleCache.stamp(home, ""));
        Files.writeString(first.directory.resolve("bundle1"), "old");
        first.completed(BundleCache.stamp(home, ""));
        first.release();

        Path engine = home.resolve("bundle/dev.ember.engine-0.1.0.jar");
        Files.writeString(engine, "engine, rebuilt");
        Files.setLastModifiedTime(engine, FileTime.fromMillis(Files.getLastModifiedTime(engine).toMillis() + 5000));
        BundleCache second = BundleCache.claimSlot(parent, BundleCache.stamp(home, ""));
        assertEquals(first.directory, second.directory);
        assertFalse(second.reused);
        assertFalse(Files.exists(second.directory.resolve("bundle1")));
        second.release();
    }

    @Test
    void bootsWithDifferentBundlesKeepASlotEachWhenTheyAlternate() throws IOException {
        String withUi = BundleCache.stamp(home, "");
        String withoutUi = BundleCache.stamp(home, "no-ui");
        assertNotEquals(withUi, withoutUi);
        BundleCache first = BundleCache.claimSlot(parent, withUi);
        first.completed(withUi);
        first.release();
        BundleCache second = BundleCache.claimSlot(parent, withoutUi);
        assertFalse(second.reused, "a cache written with other bundles is not reused");
        assertNotEquals(first.directory, second.directory, "nor wiped while another slot is free");
        second.completed(withoutUi);
        second.release();
        for (int round = 0; round < 2; round++) {
            BundleCache ui = BundleCache.claimSlot(parent, withUi);
            assertTrue(ui.reused);
            assertEquals(first.directory, ui.directory);
            ui.completed(withUi);
            ui.release();
            BundleCache noUi = BundleCache.claimSlot(parent, withoutUi);
            assertTrue(noUi.reused);
            assertEquals(second.directory, noUi.directory);
            noUi.completed(withoutUi);
            noUi.release();
        }
    }

    @Test
    void aBootThatWasCutShortLeavesNothingToReuse() throws IOException {
        String stamp = BundleCache.stamp(home, "");
        BundleCache first = BundleCache.claimSlot(parent, stamp);
        first.completed(stamp);
        first.release();
        BundleCache second = BundleCache.claimSlot(parent, stamp);
        assertTrue(second.reused);
        // This boot never completes (killed, say): its slot must not count as complete afterwards.
        second.release();
        BundleCache third = BundleCache.claimSlot(parent, stamp);
        assertFalse(third.reused);
        third.release();
    }

    @Test
    void slotsHeldByOtherBootsAreSkippedAndNoneLeftMeansNone() throws IOException {
        String stamp = BundleCache.stamp(home, "");
        List<BundleCache> held = new ArrayList<>();
        for (int i = 0; i < BundleCache.SLOTS; i++) {
            BundleCache slot = BundleCache.claimSlot(parent, stamp);
            held.add(slot);
            assertTrue(slot.directory.getFileName().toString().endsWith("-" + i), slot.directory.toString());
        }
        assertNull(BundleCache.claimSlot(parent, stamp));
        held.get(3).release();
        BundleCache again = BundleCache.claimSlot(parent, stamp);
        assertEquals(held.get(3).directory, again.directory);
        again.release();
        held.forEach(BundleCache::release);
    }

    @Test
    void whateverStandsWhereASlotShouldBeIsReplaced() throws IOException {
        String stamp = BundleCache.stamp(home, "");
        BundleCache probe = BundleCache.claimSlot(parent, stamp);
        Path slotZero = probe.directory;
        probe.release();
        BundleCache.deleteTree(slotZero);
        Files.writeString(slotZero, "a file where the slot's directory should be");
        BundleCache slot = BundleCache.claimSlot(parent, stamp);
        assertEquals(slotZero, slot.directory);
        assertFalse(slot.reused);
        assertTrue(Files.isDirectory(slotZero));
        slot.release();
    }

    @Test
    void eachDistributionDirectoryHasSlotsOfItsOwn() throws IOException {
        String stamp = BundleCache.stamp(home, "");
        Path copy = Files.createDirectories(root.resolve("copy"));
        Files.createDirectories(copy.resolve("lib"));
        Files.createDirectories(copy.resolve("bundle"));
        String other = BundleCache.stamp(copy, "");
        assertNotEquals(BundleCache.slotOwner(stamp), BundleCache.slotOwner(other));
        BundleCache mine = BundleCache.claimSlot(parent, stamp);
        BundleCache theirs = BundleCache.claimSlot(parent, other);
        assertNotEquals(mine.directory, theirs.directory);
        mine.release();
        theirs.release();
    }

    @Test
    void aFreshCacheGoesWithItsBoot() throws IOException {
        BundleCache fresh = BundleCache.fresh(Files.createDirectory(parent.resolve("ember-felix-1-x")));
        assertFalse(fresh.kept());
        Files.writeString(fresh.directory.resolve("bundle0"), "x");
        fresh.release();
        assertFalse(Files.exists(fresh.directory));
    }

    @Test
    void slotsOfDistributionsThatAreGoneAreRemovedUnlessHeld() throws IOException {
        Path gone = Files.createDirectories(root.resolve("gone"));
        Files.createDirectories(gone.resolve("lib"));
        Files.createDirectories(gone.resolve("bundle"));
        String goneStamp = BundleCache.stamp(gone, "");
        BundleCache orphan = BundleCache.claimSlot(parent, goneStamp);
        BundleCache heldOrphan = BundleCache.claimSlot(parent, goneStamp);  // the next slot, still held below
        orphan.completed(goneStamp);
        heldOrphan.completed(goneStamp);
        orphan.release();
        BundleCache live = BundleCache.claimSlot(parent, BundleCache.stamp(home, ""));
        live.completed(BundleCache.stamp(home, ""));
        live.release();
        Files.delete(gone.resolve("lib"));
        Files.delete(gone.resolve("bundle"));
        Files.delete(gone);

        assertEquals(1, BundleCache.removeOrphanedSlots(parent));
        assertFalse(Files.exists(orphan.directory));
        assertTrue(Files.exists(heldOrphan.directory));
        assertTrue(Files.exists(live.directory));
        heldOrphan.release();
    }
}
