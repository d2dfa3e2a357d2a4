package dev.ember.launcher;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Says, in one line each, which files in {@code load/} FileInstall will not deploy: only OSGi bundles (jars whose
 * manifest names a {@code Bundle-SymbolicName}) and configurations ({@code .cfg}, {@code .config}) belong there;
 * anything else (a plain library jar, a zip, notes) is skipped without a word by FileInstall. Checks at boot, then
 * every few seconds (as FileInstall polls the directory); a file is judged once it stops changing, and again when
 * it changes. Hidden files (an editor's) and directories are left alone.
 */
final class LoadCheck {

    /** Seconds between two looks at the directory. */
    static final long PERIOD_MILLIS = 2000;

    private final Path load;
    private final Consumer<String> report;
    /** Each file's size and time as last seen, and whether it was judged at those. */
    private final Map<Path, Seen> seen = new HashMap<>();

    private record Seen(long size, long modified, boolean judged) {
    }

    LoadCheck(Path load, Consumer<String> report) {
        this.load = load;
        this.report = report;
    }

    /**
     * Looks at the directory once. At boot ({@code settled}) every file is judged at once; later a new or changed
     * file is judged at the next look that finds it unchanged, so a jar being copied is not judged half-written.
     */
    synchronized void scan(boolean settled) {
        Set<Path> present = new HashSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(load)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(file, BasicFileAttributes.class);
                } catch (IOException e) {
                    continue; // Gone already.
                }
                if (attributes.isDirectory()) {
                    continue;
                }
                present.add(file);
                Seen before = seen.get(file);
                long size = attributes.size();
                long modified = attributes.lastModifiedTime().toMillis();
                boolean unchanged = before != null && before.size() == size && before.modified() == modified;
                if (unchanged && before.judged()) {
                    continue;
                }
                boolean judge = settled || unchanged;
                if (judge) {
                    String problem = problem(file);
                    if (problem != null) {
                        report.accept(problem);
                    }
                }
                seen.put(file, new Seen(size, modified, judge));
            }
        } catch (IOException e) {
            return; // No load/ (yet): nothing to say.
        }
        seen.keySet().retainAll(present);
    }

    /**
     * Looks at the directory after {@code delayMillis}, then every {@link #PERIOD_MILLIS}, on a daemon thread, until
     * the JVM ends.
     */
    void watch(long delayMillis) {
        Thread watcher = new Thread(() -> {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                return;
            }
            scan(true);
            while (true) {
                try {
                    Thread.sleep(PERIOD_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                scan(false);
            }
        }, "ember-load-check");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** Why FileInstall will not deploy this file, in one line; null when it will. */
    static String problem(Path file) {
        String name = file.getFileName().toString();
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        if (lower.endsWith(".cfg") || lower.endsWith(".config")) {
            return null;
        }
        String where = "load/" + name;
        String rule = ": only OSGi bundles (jars with a Bundle-SymbolicName in their manifest) and .cfg files go in "
                + "load/; it is ignored";
        if (!lower.endsWith(".jar")) {
            return where + " is not an OSGi bundle" + rule;
        }
        try (JarFile jar = new JarFile(file.toFile(), false)) {
            Manifest manifest = jar.getManifest();
            String symbolicName = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
            if (symbolicName == null || symbolicName.isBlank()) {
                return where + " is a jar but not an OSGi bundle (no Bundle-SymbolicName in its manifest)" + rule;
            }
            return null;
        } catch (IOException e) {
            return where + " cannot be read as a jar (" + e.getMessage() + ")" + rule;
        }
    }
}
