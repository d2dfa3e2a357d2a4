package dev.ember.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * A ConfigAdmin {@code ConfigurationPlugin} that checks every configuration on its way to a component against the
 * metatype of the bundles installed (see {@link ConfigCheck}): at boot, when the launcher loads {@code conf/}, and
 * while the distribution runs, when FileInstall applies a changed file. A bad value is reported in one line and left
 * out, so the component runs with its default instead of failing with a stack trace (Declarative Services throws
 * when it cannot coerce a value, at activation or at the first use of the value).
 * <p>
 * The launcher does not share ConfigAdmin's API classes, so the plugin is a proxy of the interface as ConfigAdmin's
 * bundle loads it, registered through the system bundle.
 */
final class ConfigGuard implements InvocationHandler {

    static final String PLUGIN_INTERFACE = "org.osgi.service.cm.ConfigurationPlugin";
    /** Within 0..1000, the range of plugins that may modify configurations. */
    static final int CM_RANKING = 500;
    private static final String METATYPE_DIRECTORY = "OSGI-INF/metatype/";

    private final BundleContext context;
    private final Path home;
    private final Consumer<String> report;
    /** The metatype of each bundle, by bundle id, with the modification time it was read at. */
    private final Map<Long, BundleMetatype> metatypes = new HashMap<>();
    /** What was reported last for each PID, so each problem is reported once, not at every delivery. */
    private final Map<String, Set<String>> reported = new HashMap<>();

    private record BundleMetatype(long lastModified, Map<String, List<Metatype.Attribute>> byPid) {
    }

    private ConfigGuard(BundleContext context, Path home, Consumer<String> report) {
        this.context = context;
        this.home = home;
        this.report = report;
    }

    /** Registers the plugin with ConfigAdmin, if ConfigAdmin runs; {@code report} gets one line per problem. */
    static void register(BundleContext context, Path home, Consumer<String> report) {
        ServiceReference<?> admin = context.getServiceReference("org.osgi.service.cm.ConfigurationAdmin");
        if (admin == null) {
            return;
        }
        try {
            Class<?> pluginType = admin.getBundle().loadClass(PLUGIN_INTERFACE);
            Object plugin = Proxy.newProxyInstance(pluginType.getClassLoader(), new Class<?>[] { pluginType },
                    new ConfigGuard(context, home, report));
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put("service.cmRanking", CM_RANKING);
            properties.put("service.description", "Ember: checks configurations against the components' metatype");
            context.registerService(PLUGIN_INTERFACE, plugin, properties);
        } catch (ClassNotFoundException | RuntimeException e) {
            report.accept("configurations are not checked against the components' metatype: " + e);
        }
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "modifyConfiguration" -> {
                if (args != null && args.length == 2 && args[1] instanceof Dictionary<?, ?> properties) {
                    check(args[0] instanceof ServiceReference<?> target ? target : null, cast(properties));
                }
                return null;
            }
            case "equals" -> {
                return args != null && args.length == 1 && proxy == args[0];
            }
            case "hashCode" -> {
                return System.identityHashCode(proxy);
            }
            case "toString" -> {
                return "Ember configuration check";
            }
            default -> {
                return null;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Dictionary<String, Object> cast(Dictionary<?, ?> properties) {
        return (Dictionary<String, Object>) properties;
    }

    /** Checks one configuration as ConfigAdmin hands it to a component, and leaves out what does not parse. */
    synchronized void check(ServiceReference<?> target, Dictionary<String, Object> properties) {
        Object pidValue = properties.get("service.factoryPid") != null ? properties.get("service.factoryPid")
                : properties.get("service.pid");
        if (pidValue == null) {
            return;
        }
        String pid = pidValue.toString();
        List<Metatype.Attribute> attributes = attributesOf(pid, target == null ? null : target.getBundle());
        if (attributes == null) {
            return; // No installed bundle describes this PID: nothing to check against.
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (String key : java.util.Collections.list(properties.keys())) {
            Object value = properties.get(key);
            // Typed attributes read their value as SCR coerces it: Integer.parseInt("0 ") fails, so the file's
            // stray spaces go.
            if (value instanceof String text && !text.equals(text.strip()) && typed(attributes, key)) {
                value = text.strip();
                properties.put(key, value);
            }
            values.put(key, value);
        }
        ConfigCheck.Result result = ConfigCheck.check(describe(pid, properties), values, attributes);
        for (String key : result.invalid()) {
            properties.remove(key);
        }
        Set<String> lines = new HashSet<>(result.lines());
        Set<String> before = reported.put(pid, lines);
        for (String line : result.lines()) {
            if (before == null || !before.contains(line)) {
                report.accept(line);
            }
        }
    }

    private static boolean typed(List<Metatype.Attribute> attributes, String key) {
        for (Metatype.Attribute attribute : attributes) {
            if (attribute.id().equals(key)) {
                return !attribute.type().equalsIgnoreCase("String") && !attribute.type().equalsIgnoreCase("Password");
            }
        }
        return false;
    }

    /** The file a configuration came from, relative to the distribution when inside it, else its PID. */
    private String describe(String pid, Dictionary<String, Object> properties) {
        Object file = properties.get("felix.fileinstall.filename");
        if (file != null) {
            try {
                Path path = Path.of(URI.create(file.toString())).toAbsolutePath().normalize();
                return path.startsWith(home) ? home.relativize(path).toString() : path.toString();
            } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
                return file.toString();
            }
        }
        return "configuration " + pid;
    }

    /** The attributes the metatype of this bundle (else of any installed bundle) declares for the PID, or null. */
    private List<Metatype.Attribute> attributesOf(String pid, Bundle preferred) {
        if (preferred != null) {
            List<Metatype.Attribute> found = metatypeOf(preferred).get(pid);
            if (found != null) {
                return found;
            }
        }
        for (Bundle bundle : context.getBundles()) {
            List<Metatype.Attribute> found = metatypeOf(bundle).get(pid);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private Map<String, List<Metatype.Attribute>> metatypeOf(Bundle bundle) {
        if (bundle.getBundleId() == 0 || bundle.getState() == Bundle.UNINSTALLED) {
            return Map.of();
        }
        BundleMetatype known = metatypes.get(bundle.getBundleId());
        if (known != null && known.lastModified() == bundle.getLastModified()) {
            return known.byPid();
        }
        Map<String, List<Metatype.Attribute>> byPid = new HashMap<>();
        // getEntryPaths and getEntry read the jar without resolving the bundle.
        Enumeration<String> paths = bundle.getEntryPaths(METATYPE_DIRECTORY);
        while (paths != null && paths.hasMoreElements()) {
            String path = paths.nextElement();
            URL entry = path.endsWith(".xml") ? bundle.getEntry(path) : null;
            if (entry == null) {
                continue;
            }
            try (InputStream in = entry.openStream()) {
                byPid.putAll(Metatype.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            } catch (IOException e) {
                // An unreadable document describes nothing.
            }
        }
        metatypes.put(bundle.getBundleId(), new BundleMetatype(bundle.getLastModified(), byPid));
        return byPid;
    }
}
