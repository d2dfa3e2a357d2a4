package dev.ember.engine.core;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import org.osgi.framework.ServiceReference;

import dev.ember.api.codec.Codec;

/**
 * The codecs a scheduler component has bound, by their {@code ember.codec} name. Several bundles may provide one
 * name: the best ranked serves, and removing one provider leaves the others serving. Services are held by reference
 * and looked up when first used, so a codec's component is created when a job needs it, not at boot.
 */
public final class CodecRegistry {

    private static final System.Logger LOG = System.getLogger(CodecRegistry.class.getName());

    private final Map<String, Set<ServiceReference<Codec>>> byName = new ConcurrentHashMap<>();
    private volatile Function<ServiceReference<Codec>, Codec> locator;

    /** How to get the service behind a reference (for a DS component, its {@code locateService}). */
    public void setLocator(Function<ServiceReference<Codec>, Codec> locator) {
        this.locator = locator;
    }

    public void bind(ServiceReference<Codec> codec) {
        Object name = codec.getProperty(Codec.NAME_PROPERTY);
        if (name != null) {
            byName.computeIfAbsent(name.toString(), key -> ConcurrentHashMap.newKeySet()).add(codec);
        } else {
            LOG.log(System.Logger.Level.WARNING, "a Codec service without the {0} property is ignored (bundle {1})",
                    Codec.NAME_PROPERTY, codec.getBundle().getSymbolicName());
        }
    }

    public void unbind(ServiceReference<Codec> codec) {
        byName.values().forEach(bound -> bound.remove(codec));
    }

    /**
     * The installed codec of this name with the highest service ranking (of equals, the oldest, as the framework
     * orders references), or null.
     */
    public Codec codec(String name) {
        Set<ServiceReference<Codec>> bound = byName.get(name);
        Function<ServiceReference<Codec>, Codec> current = locator;
        if (bound == null || current == null) {
            return null;
        }
        ServiceReference<Codec> best = null;
        for (ServiceReference<Codec> reference : bound) {
            if (best == null || reference.compareTo(best) > 0) {
                best = reference;
            }
        }
        return best == null ? null : current.apply(best);
    }
}
