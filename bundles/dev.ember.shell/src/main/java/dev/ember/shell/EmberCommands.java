package dev.ember.shell;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import dev.ember.api.engine.Engine;
import dev.ember.api.engine.JobInfo;

/**
 * Gogo commands for operators that hold whichever schedulers are installed: {@code ember:engines} and
 * {@code ember:jobs}. The local engine's pool commands ({@code ember:workers}, {@code ember:transports},
 * {@code ember:use}) come with the engine bundle.
 */
@Component(service = EmberCommands.class, property = { "osgi.command.scope=ember", "osgi.command.function=engines",
        "osgi.command.function=jobs" })
public final class EmberCommands {

    private final BundleContext context;

    @Activate
    public EmberCommands(BundleContext context) {
        this.context = context;
    }

    /** The installed schedulers: their names (what a master or {@code spark.ember.engine} selects) and bundles. */
    public String engines() throws InvalidSyntaxException {
        List<ServiceReference<Engine>> engines = engineRefs();
        if (engines.isEmpty()) {
            return "no scheduler is installed: drivers cannot open sessions (start the bundle dev.ember.engine)\n";
        }
        StringBuilder out = new StringBuilder(String.format("%-10s %-8s %s%n", "name", "ranking", "bundle"));
        for (ServiceReference<Engine> ref : engines) {
            out.append(String.format("%-10s %-8s %s%n", ref.getProperty(Engine.NAME_PROPERTY), ranking(ref),
                    ref.getBundle().getSymbolicName() + " " + ref.getBundle().getVersion()));
        }
        return out.toString();
    }

    /** The running jobs of every scheduler. */
    public String jobs() throws InvalidSyntaxException {
        StringBuilder out = new StringBuilder();
        for (ServiceReference<Engine> ref : engineRefs()) {
            Engine engine = context.getService(ref);
            if (engine == null) {
                continue;
            }
            try {
                for (JobInfo job : engine.jobs()) {
                    out.append(String.format("%-8s %-6d %-8s %-12s %-8s %d/%d%n", ref.getProperty(Engine.NAME_PROPERTY),
                            job.jobId(), job.sessionId(), job.jobGroup() == null ? "-" : job.jobGroup(),
                            (job.stage() + 1) + "/" + job.stageCount(), job.tasksDone(), job.tasksTotal()));
                }
            } finally {
                context.ungetService(ref);
            }
        }
        if (out.length() == 0) {
            return "no running jobs\n";
        }
        return String.format("%-8s %-6s %-8s %-12s %-8s %s%n", "engine", "job", "session", "group", "stage", "tasks")
                + out;
    }

    private List<ServiceReference<Engine>> engineRefs() throws InvalidSyntaxException {
        List<ServiceReference<Engine>> refs = new ArrayList<>(context.getServiceReferences(Engine.class, null));
        refs.sort(Comparator.comparing(ref -> String.valueOf(ref.getProperty(Engine.NAME_PROPERTY))));
        return refs;
    }

    private static int ranking(ServiceReference<?> ref) {
        Object ranking = ref.getProperty("service.ranking");
        return ranking instanceof Integer value ? value : 0;
    }
}
