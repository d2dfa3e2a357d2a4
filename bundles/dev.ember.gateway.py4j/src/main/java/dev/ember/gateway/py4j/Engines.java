package dev.ember.gateway.py4j;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

import dev.ember.api.engine.Engine;

/**
 * The schedulers installed now, by their {@value Engine#NAME_PROPERTY} name; several may come and go while the
 * gateway runs. A session is opened on the engine its driver's master selects and stays on it.
 */
final class Engines {

    /** The engine a master selects when the driver names none: every master but a cluster's runs locally. */
    static final String LOCAL = "local";
    static final String CLUSTER = "cluster";
    static final String CLUSTER_SCHEME = "ember-cluster://";

    /** One bound engine service; of several with one name, the highest ranking (then the oldest) serves. */
    record Bound(Engine engine, String name, int ranking, long serviceId, String bundle) {
    }

    private final List<Bound> bound = new CopyOnWriteArrayList<>();

    void add(Engine engine, ServiceReference<Engine> reference) {
        Object name = reference.getProperty(Engine.NAME_PROPERTY);
        Object ranking = reference.getProperty(Constants.SERVICE_RANKING);
        Object serviceId = reference.getProperty(Constants.SERVICE_ID);
        bound.add(new Bound(engine, name == null ? "" : name.toString(),
                ranking instanceof Integer value ? value : 0,
                serviceId instanceof Long value ? value : Long.MAX_VALUE,
                reference.getBundle() == null ? "?" : reference.getBundle().getSymbolicName()));
    }

    /** Forgets an engine that went away and returns what was known of it, or null if it was not bound. */
    Bound remove(Engine engine) {
        for (Bound entry : bound) {
            if (entry.engine() == engine) {
                bound.remove(entry);
                return entry;
            }
        }
        return null;
    }

    /** The engine serving this name now, or null. */
    Engine select(String name) {
        return bound.stream().filter(entry -> entry.name().equals(name))
                .max(Comparator.comparingInt(Bound::ranking).thenComparing(Bound::serviceId, Comparator.reverseOrder()))
                .map(Bound::engine).orElse(null);
    }

    /** The engines bound now, by name. */
    List<Bound> all() {
        List<Bound> all = new ArrayList<>(bound);
        all.sort(Comparator.comparing(Bound::name));
        return all;
    }

    /**
     * The engine a session asks for: the one it names ({@code spark.ember.engine}), else {@value #CLUSTER} for an
     * {@code ember-cluster://} master and {@value #LOCAL} for every other ({@code local[...]}, a service's
     * {@code ember://}).
     */
    static String nameFor(String master, String requested) {
        if (requested != null && !requested.isBlank()) {
            return requested.trim();
        }
        return master != null && master.startsWith(CLUSTER_SCHEME) ? CLUSTER : LOCAL;
    }

    /** The bundle that provides an engine of this name. */
    static String bundleOf(String name) {
        return name.equals(LOCAL) ? "dev.ember.engine" : "dev.ember.engine." + name;
    }

    /** What a driver is told when the engine it needs is not installed. */
    String missing(String name, String master) {
        List<String> installed = all().stream().map(Bound::name).distinct().toList();
        String bundle = bundleOf(name);
        String install = name.equals(LOCAL) ? "start the bundle " + bundle
                : "copy " + bundle + "-*.jar (and what it needs, from extras/) into load/ of the distribution";
        return "no scheduler named '" + name + "' is installed" + (master == null ? "" : " (master " + master + ")")
                + ": it comes from the bundle " + bundle + "; " + install + ". Installed: "
                + (installed.isEmpty() ? "none" : String.join(", ", installed));
    }

    /** What a session's driver is told once the engine it ran on went away. */
    static String gone(Bound engine) {
        return "the scheduler '" + engine.name() + "' this SparkContext ran on (bundle " + engine.bundle()
                + ") was stopped: its jobs, cached data and shuffles are gone; stop this context and create a new one";
    }
}
