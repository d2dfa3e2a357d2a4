package dev.ember.shell;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
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
import dev.ember.api.engine.SessionInfo;

/**
 * Gogo commands for operators that hold whichever schedulers are installed: {@code ember:engines},
 * {@code ember:sessions}, {@code ember:jobs} and {@code ember:cancel}. The local engine's pool commands
 * ({@code ember:workers}, {@code ember:transports}, {@code ember:use}) come with the engine bundle.
 */
@Component(service = EmberCommands.class, property = { "osgi.command.scope=ember", "osgi.command.function=engines",
        "osgi.command.function=sessions", "osgi.command.function=jobs", "osgi.command.function=cancel" })
public final class EmberCommands {

    /** What a driver whose job an operator cancelled is told (after "job N was cancelled: "). */
    static final String CANCEL_REASON = "cancelled by an operator in the service's shell (ember:cancel)";
    private static final DateTimeFormatter OPENED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneId.systemDefault());

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
                    out.append(String.format("%-8s %-6d %-8s %-12s %-8s %-8s %s", ref.getProperty(Engine.NAME_PROPERTY),
                            job.jobId(), job.sessionId(), job.jobGroup() == null ? "-" : printable(job.jobGroup()),
                            (job.stage() + 1) + "/" + job.stageCount(), job.tasksDone() + "/" + job.tasksTotal(),
                            job.callSite() == null ? "-" : printable(job.callSite())).stripTrailing()).append('\n');
                }
            } finally {
                context.ungetService(ref);
            }
        }
        if (out.length() == 0) {
            return "no running jobs\n";
        }
        return String.format("%-8s %-6s %-8s %-12s %-8s %-8s %s%n", "engine", "job", "session", "group", "stage", "tasks",
                "call site") + out;
    }

    /** The open sessions of every scheduler: their drivers, when they opened and how many jobs they run. */
    public String sessions() throws InvalidSyntaxException {
        StringBuilder out = new StringBuilder();
        for (ServiceReference<Engine> ref : engineRefs()) {
            Engine engine = context.getService(ref);
            if (engine == null) {
                continue;
            }
            try {
                for (SessionInfo session : engine.sessions()) {
                    out.append(String.format("%-8s %-8s %-20s %-10s %-24s %-19s %d%n",
                            ref.getProperty(Engine.NAME_PROPERTY), session.id(), printable(session.appName()),
                            session.driverPid() > 0 ? Long.toString(session.driverPid()) : "-",
                            session.master().isEmpty() ? "-" : printable(session.master()),
                            OPENED.format(session.openedAt()), session.runningJobs()));
                }
            } finally {
                context.ungetService(ref);
            }
        }
        if (out.length() == 0) {
            return "no open sessions\n";
        }
        return String.format("%-8s %-8s %-20s %-10s %-24s %-19s %s%n", "engine", "session", "app", "driver pid",
                "master", "opened at", "jobs") + out;
    }

    /** Cancels the running job of this id, whichever session runs it. */
    public String cancel(String job) throws InvalidSyntaxException {
        return cancel(null, job);
    }

    /** Cancels the running job of this id on the named scheduler (job ids are per scheduler). */
    public String cancel(String engineName, String job) throws InvalidSyntaxException {
        int jobId;
        try {
            jobId = Integer.parseInt(job.strip());
        } catch (NumberFormatException e) {
            return "ember:cancel: '" + printable(job) + "' is not a job id; ember:jobs lists the running jobs\n";
        }
        List<ServiceReference<Engine>> holding = new ArrayList<>();
        for (ServiceReference<Engine> ref : engineRefs()) {
            if (engineName == null || engineName.equals(ref.getProperty(Engine.NAME_PROPERTY))) {
                Engine engine = context.getService(ref);
                try {
                    if (engine != null && engine.jobs().stream().anyMatch(info -> info.jobId() == jobId)) {
                        holding.add(ref);
                    }
                } finally {
                    context.ungetService(ref);
                }
            }
        }
        if (holding.isEmpty()) {
            return "ember:cancel: no running job " + jobId + (engineName == null ? "" : " on engine " + engineName)
                    + "; ember:jobs lists the running jobs\n";
        }
        if (holding.size() > 1) {
            return "ember:cancel: job " + jobId + " runs on several engines ("
                    + String.join(", ", holding.stream().map(ref -> String.valueOf(ref.getProperty(Engine.NAME_PROPERTY)))
                            .toList())
                    + "); name one: ember:cancel <engine> " + jobId + "\n";
        }
        ServiceReference<Engine> ref = holding.get(0);
        Engine engine = context.getService(ref);
        if (engine == null) {
            return "ember:cancel: the engine of job " + jobId + " went away\n";
        }
        try {
            JobInfo info = engine.jobs().stream().filter(candidate -> candidate.jobId() == jobId).findFirst()
                    .orElse(null);
            SessionInfo session = info == null ? null : engine.sessions().stream()
                    .filter(candidate -> candidate.id().equals(info.sessionId())).findFirst().orElse(null);
            if (info == null || !engine.cancelJob(jobId, CANCEL_REASON)) {
                return "ember:cancel: job " + jobId + " ended before it could be cancelled\n";
            }
            return "cancelled job " + jobId + (info.callSite() == null ? "" : " (" + printable(info.callSite()) + ")")
                    + " of session " + info.sessionId()
                    + (session == null ? "" : " (app " + printable(session.appName()) + ", driver pid "
                            + (session.driverPid() > 0 ? Long.toString(session.driverPid()) : "unknown") + ")")
                    + " on engine " + ref.getProperty(Engine.NAME_PROPERTY) + "\n";
        } finally {
            context.ungetService(ref);
        }
    }

    /** A driver's text in one line of a listing: control characters (line breaks too) as '?', at most 60 chars. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && i < 60; i++) {
            char c = text.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        return text.length() > 60 ? out.append('…').toString() : out.toString();
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
