package dev.ember.launcher;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Puts the {@code conf/*.cfg} files into ConfigAdmin before Ember's bundles start. The launcher lives outside the
 * framework and does not share ConfigAdmin's API classes, so it calls the service through the interface as
 * ConfigAdmin's own bundle loads it.
 */
final class Configs {

    private Configs() {
    }

    /** Loads one properties file as the configuration of this PID (a member's cluster configuration). */
    static void loadAs(BundleContext context, Path file, String pid) {
        ServiceReference<?> ref = context.getServiceReference("org.osgi.service.cm.ConfigurationAdmin");
        if (ref == null) {
            return;
        }
        Object configAdmin = context.getService(ref);
        try {
            update(ref, configAdmin, file, pid);
        } catch (IOException | ReflectiveOperationException e) {
            System.err.println("ember: could not load the configuration " + file + ": " + e);
        } finally {
            context.ungetService(ref);
        }
    }

    private static void update(ServiceReference<?> ref, Object configAdmin, Path cfg, String pid)
            throws IOException, ReflectiveOperationException {
        Class<?> adminType = ref.getBundle().loadClass("org.osgi.service.cm.ConfigurationAdmin");
        Class<?> configType = ref.getBundle().loadClass("org.osgi.service.cm.Configuration");
        Method getConfiguration = adminType.getMethod("getConfiguration", String.class, String.class);
        Method update = configType.getMethod("update", Dictionary.class);
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(cfg, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        Hashtable<String, Object> values = new Hashtable<>();
        properties.forEach((key, value) -> values.put(key.toString().trim(), value.toString().trim()));
        update.invoke(getConfiguration.invoke(configAdmin, pid, "?"), values);
    }

    static void load(BundleContext context, Path directory) {
        ServiceReference<?> ref = context.getServiceReference("org.osgi.service.cm.ConfigurationAdmin");
        if (ref == null || !Files.isDirectory(directory)) {
            return;
        }
        Object configAdmin = context.getService(ref);
        try (Stream<Path> files = Files.list(directory)) {
            Class<?> adminType = ref.getBundle().loadClass("org.osgi.service.cm.ConfigurationAdmin");
            Class<?> configType = ref.getBundle().loadClass("org.osgi.service.cm.Configuration");
            Method getConfiguration = adminType.getMethod("getConfiguration", String.class, String.class);
            Method update = configType.getMethod("update", Dictionary.class);
            List<Path> cfgs = files.filter(f -> f.getFileName().toString().endsWith(".cfg")).sorted().toList();
            for (Path cfg : cfgs) {
                String pid = cfg.getFileName().toString().replaceFirst("\\.cfg$", "");
                if (pid.contains("-") || pid.equals("cluster")) {
                    // A factory configuration (FileInstall creates those), or a member's cluster configuration (read
                    // when bin/ember start --cluster names it).
                    continue;
                }
                Properties properties = new Properties();
                try (Reader reader = Files.newBufferedReader(cfg, StandardCharsets.UTF_8)) {
                    properties.load(reader);
                }
                Hashtable<String, Object> values = new Hashtable<>();
                properties.forEach((key, value) -> values.put(key.toString().trim(), value.toString().trim()));
                // The same marker FileInstall sets, so it recognises these as the files' configurations.
                values.put("felix.fileinstall.filename", cfg.toUri().toString());
                update.invoke(getConfiguration.invoke(configAdmin, pid, "?"), values);
            }
        } catch (IOException | ReflectiveOperationException e) {
            System.err.println("ember: could not load configurations from " + directory + ": " + e);
        } finally {
            context.ungetService(ref);
        }
    }
}
