package dev.ember.shell;

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

import dev.ember.api.Engine;
import dev.ember.api.JobInfo;
import dev.ember.api.WorkerInfo;
import dev.ember.api.WorkerTransport;

/**
 * Gogo commands for operators: {@code ember:transports}, {@code ember:use <name|auto>}, {@code ember:workers},
 * {@code ember:jobs}.
 */
@Component(service = EmberCommands.class, property = { "osgi.command.scope=ember",
        "osgi.command.function=transports", "osgi.command.function=use", "osgi.command.function=workers",
        "osgi.command.function=jobs" })
public final class EmberCommands {

    static final String ENGINE_PID = "dev.ember.engine";

    private final BundleContext context;
    private final Engine engine;
    private final ConfigurationAdmin configAdmin;

    @Activate
    public EmberCommands(BundleContext context, @Reference Engine engine, @Reference ConfigurationAdmin configAdmin) {
        this.context = context;
        this.engine = engine;
        this.configAdmin = configAdmin;
    }

    /** The installed transports, highest ranked first, and which one new tasks use. */
    public String transports() throws InvalidSyntaxException {
        String active = engine.activeTransport();
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
        Configuration config = configAdmin.getConfiguration(ENGINE_PID, "?");
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

    /** The engine's Python workers. */
    public String workers() {
        StringBuilder out = new StringBuilder(String.format("%-8s %-9s %-8s %-6s %s%n", "pid", "transport",
                "session", "tasks", "state"));
        for (WorkerInfo worker : engine.workers()) {
            out.append(String.format("%-8d %-9s %-8s %-6d %s%n", worker.pid(), worker.transport(), worker.sessionId(),
                    worker.tasksServed(), worker.busy() ? "busy" : "idle " + worker.idleMillis() / 1000 + " s"));
        }
        return out.toString();
    }

    /** The running jobs. */
    public String jobs() {
        List<JobInfo> jobs = engine.jobs();
        if (jobs.isEmpty()) {
            return "no running jobs\n";
        }
        StringBuilder out = new StringBuilder(String.format("%-6s %-8s %-12s %-8s %s%n", "job", "session", "group",
                "stage", "tasks"));
        for (JobInfo job : jobs) {
            out.append(String.format("%-6d %-8s %-12s %-8s %d/%d%n", job.jobId(), job.sessionId(),
                    job.jobGroup() == null ? "-" : job.jobGroup(), (job.stage() + 1) + "/" + job.stageCount(),
                    job.tasksDone(), job.tasksTotal()));
        }
        return out.toString();
    }

    private List<ServiceReference<WorkerTransport>> transportRefs() throws InvalidSyntaxException {
        List<ServiceReference<WorkerTransport>> refs = new ArrayList<>(
                context.getServiceReferences(WorkerTransport.class, null));
        refs.sort(Comparator.comparingInt(EmberCommands::ranking).reversed());
        return refs;
    }

    private static int ranking(ServiceReference<?> ref) {
        Object ranking = ref.getProperty("service.ranking");
        return ranking instanceof Integer value ? value : 0;
    }
}
