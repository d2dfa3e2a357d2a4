package dev.ember.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the launcher says about files in load/ that FileInstall will not deploy. */
class LoadCheckTest {

    @TempDir
    Path load;

    @Test
    void bundlesAndConfigurationsPassEverythingElseIsNamed() throws IOException {
        Path bundle = jar("dev.ember.transport.uds-1.jar", "dev.ember.transport.uds");
        Path library = jar("commons-lang3-3.14.jar", null);
        Path notes = Files.writeString(load.resolve("notes.txt"), "remember");
        Path broken = Files.writeString(load.resolve("broken.jar"), "not a zip");
        Path cfg = Files.writeString(load.resolve("dev.ember.engine.cfg"), "workerIdleTimeoutSeconds = 5\n");
        assertNull(LoadCheck.problem(bundle));
        assertNull(LoadCheck.problem(cfg));
        String rule = ": only OSGi bundles (jars with a Bundle-SymbolicName in their manifest) and .cfg files go in "
                + "load/; it is ignored";
        assertEquals("load/commons-lang3-3.14.jar is a jar but not an OSGi bundle (no Bundle-SymbolicName in its "
                + "manifest)" + rule, LoadCheck.problem(library));
        assertEquals("load/notes.txt is not an OSGi bundle" + rule, LoadCheck.problem(notes));
        assertTrue(LoadCheck.problem(broken).startsWith("load/broken.jar cannot be read as a jar ("),
                LoadCheck.problem(broken));
    }

    @Test
    void atBootEveryFileIsJudgedThenANewOneOnceItStopsChangingAndOnlyOnce() throws IOException {
        List<String> said = new ArrayList<>();
        LoadCheck check = new LoadCheck(load, said::add);
        Files.writeString(load.resolve("a.txt"), "a");
        Files.writeString(load.resolve(".hidden.swp"), "editor");
        Files.createDirectory(load.resolve("exploded"));
        check.scan(true);
        assertEquals(List.of("load/a.txt"), subjects(said));

        Path late = Files.writeString(load.resolve("b.zip"), "half");
        check.scan(false);
        assertEquals(List.of("load/a.txt"), subjects(said), "a file seen once may still be being copied");
        check.scan(false);
        assertEquals(List.of("load/a.txt", "load/b.zip"), subjects(said));
        check.scan(false);
        assertEquals(2, said.size(), "each file is reported once while it stays as it is");

        Files.writeString(late, "whole now");
        Files.setLastModifiedTime(late, FileTime.fromMillis(Files.getLastModifiedTime(late).toMillis() + 5000));
        check.scan(false);
        check.scan(false);
        assertEquals(List.of("load/a.txt", "load/b.zip", "load/b.zip"), subjects(said), "a changed file is judged again");
    }

    @Test
    void noLoadDirectoryIsNothingToSay() {
        List<String> said = new ArrayList<>();
        new LoadCheck(load.resolve("missing"), said::add).scan(true);
        assertEquals(List.of(), said);
    }

    private static List<String> subjects(List<String> lines) {
        return lines.stream().map(line -> line.substring(0, line.indexOf(' '))).toList();
    }

    private Path jar(String name, String symbolicName) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (symbolicName != null) {
            manifest.getMainAttributes().putValue("Bundle-SymbolicName", symbolicName);
        }
        Path jar = load.resolve(name);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // The manifest is all a bundle needs here.
        }
        return jar;
    }
}
