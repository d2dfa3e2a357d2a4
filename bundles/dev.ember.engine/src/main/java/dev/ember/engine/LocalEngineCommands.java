package dev.ember.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.ember.api.worker.WorkerInfo;
import dev.ember.api.worker.WorkerPoolStatus;
import dev.ember.api.worker.WorkerTransport;

/**
 * Gogo commands about the local scheduler's worker pool: {@code ember:transports}, {@code ember:use <name|auto>},
 * {@code ember:workers}. They live with the engine they describe, so a distribution without the local engine has
 * none of them.
 */
@Component(service = LocalEngineCommands.class, property = { "osgi.command.scope=ember",
        "osgi.command.function=transports", "osgi.command.function=use", "osgi.command.function=workers" })
public final class LocalEngineCommands {

    private final BundleContext context;
    private final WorkerPoolStatus pool;
    private final ConfigurationAdmin configAdmin;

    @Activate
    public LocalEngineCommands(BundleContext context,
            @Reference(target = "(" + dev.ember.api.engine.Engine.NAME_PROPERTY + "=" + LocalEngine.NAME + ")")
            WorkerPoolStatus pool, @Reference ConfigurationAdmin configAdmin) {
        this.context = context;
        this.pool = pool;
        this.configAdmin = configAdmin;
    }

    /** The installed transports, highest ranked first, and which one new tasks use. */
    public String transports() throws InvalidSyntaxException {
        String active = pool.activeTransport();
        StringBuilder out = new StringBuilder(String.format("%-8s %-8s %-7s %s%n", "name", "ranking", "active",
                "bundle"));
        for (ServiceReference<WorkerTransport> ref : transportRefs()) {
            String name = String.valueOf(ref.getProperty(WorkerTransport.NAME_PROPERTY));
            out.append(String.format("%-8s %-8s %-7s %s%n", name, ranking(ref), name.equals(active) ? "*" : "",
                    ref.getBundle().getSymbolicName() + " " + ref.getBundle().getVersion()));
        }
        if (active == null) {
            out.append("no transport is bound: new tasks wait, then fail\n");
        }
        return out.toString();
    }

    /** Makes the engine use the named transport for new tasks; {@code auto} goes back to the highest ranked. */
    public String use(String name) throws IOException, InvalidSyntaxException {
        List<String> installed = new ArrayList<>();
        for (ServiceReference<WorkerTransport> ref : transportRefs()) {
            installed.add(String.valueOf(ref.getProperty(WorkerTransport.NAME_PROPERTY)));
        }
        if (!name.equals("auto") && !installed.contains(name)) {
            return "no transport named '" + name + "' is installed (installed: " + installed
                    + "); copy its bundle from extras/ into load/ first";
        }
        Configuration config = configAdmin.getConfiguration(LocalEngine.PID, "?");
        Dictionary<String, Object> properties = config.getProperties();
        if (properties == null) {
            properties = new Hashtable<>();
        }
        if (name.equals("auto")) {
            properties.remove("transport.target");
        } else {
            properties.put("transport.target", "(" + WorkerTransport.NAME_PROPERTY + "=" + name + ")");
        }
        config.update(properties);
        return name.equals("auto") ? "new tasks use the highest-ranked transport"
                : "new tasks use transport '" + name + "'";
    }

    /** The pool's Python workers. */
    public String workers() {
        StringBuilder out = new StringBuilder(String.format("%-8s %-9s %-8s %-6s %s%n", "pid", "transport",
                "session", "tasks", "state"));
        for (WorkerInfo worker : pool.workers()) {
            out.append(String.format("%-8d %-9s %-8s %-6d %s%n", worker.pid(), worker.transport(), worker.sessionId(),
                    worker.tasksServed(), worker.busy() ? "busy" : "idle " + worker.idleMillis() / 1000 + " s"));
        }
        return out.toString();
    }

    private List<ServiceReference<WorkerTransport>> transportRefs() throws InvalidSyntaxException {
        List<ServiceReference<WorkerTransport>> refs = new ArrayList<>(
                context.getServiceReferences(WorkerTransport.class, null));
        refs.sort(Comparator.comparingInt(LocalEngineCommands::ranking).reversed());
        return refs;
    }

    private static int ranking(ServiceReference<?> ref) {
        Object ranking = ref.getProperty("service.ranking");
        return ranking instanceof Integer value ? value : 0;
    }
}
