package dev.ember.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.ember.engine.core.WorkerPool;
import dev.ember.engine.core.MemoryGuard;
import dev.ember.engine.core.StoppedWorkerGuard;
import dev.ember.engine.core.JobRun;
import dev.ember.engine.core.PartitionedOutput;
import dev.ember.engine.core.SchedulerContext;
import dev.ember.engine.core.SchedulerSession;
import dev.ember.engine.core.CodecRegistry;
import dev.ember.engine.core.TransportSlot;
import dev.ember.engine.core.MemoryBudget;
import dev.ember.engine.core.SpillRoot;
import dev.ember.engine.core.BarrierCoordinator;
import dev.ember.engine.core.Monitors;
import dev.ember.api.engine.CachedRdd;
import dev.ember.api.monitor.EngineMonitor;
import dev.ember.api.codec.Codec;
import dev.ember.api.engine.EmberEngine;
import dev.ember.api.engine.Engine;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.worker.WorkerInfo;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.SessionInfo;
import dev.ember.api.worker.WorkerPoolStatus;
import dev.ember.api.worker.WorkerSpec;
import dev.ember.api.worker.WorkerTransport;

/**
 * The local scheduler ({@code ember.engine=local}): runs every task on this machine's pool of Python workers, and
 * shows that pool as a {@link WorkerPoolStatus}. Binds whichever {@link WorkerTransport} ranks highest (or the one a {@code transport.target}
 * filter in {@code dev.ember.engine.cfg} selects) and every installed {@link Codec}; both may come and go while the
 * engine runs, and each new task uses what is bound at the moment it starts.
 */
// Immediate: the engine holds sessions, shuffles and workers, so it must not be disposed of when its last consumer
// (the gateway, say, being restarted) lets go of it.
@Component(immediate = true, configurationPid = LocalEngine.PID, service = { Engine.class,
        WorkerPoolStatus.class })
@EmberEngine(LocalEngine.NAME)
@Designate(ocd = LocalEngine.Config.class)
public final class LocalEngine implements Engine, WorkerPoolStatus, SchedulerContext {

    /** This engine's {@value Engine#NAME_PROPERTY}: what {@code local[...]} masters select. */
    public static final String NAME = "local";
    /** The ConfigAdmin PID of its configuration (conf/dev.ember.engine.cfg). */
    static final String PID = "dev.ember.engine";

    @ObjectClassDefinition(name = "Ember engine")
    public @interface Config {
        @AttributeDefinition(description = "Seconds an idle worker is kept before it is stopped")
        int workerIdleTimeoutSeconds() default 60;

        @AttributeDefinition(description = "Seconds a task waits for a worker transport to appear before failing "
                + "(covers start-up and a transport being swapped)")
        int transportWaitSeconds() default 10;

        @AttributeDefinition(description = "Megabytes of shuffle and cache data kept in memory; beyond that it "
                + "spills to disk")
        int shuffleMemoryMB() default 512;

        @AttributeDefinition(description = "Directory for spill files; empty means the system temp directory")
        String spillDirectory() default "";

        @AttributeDefinition(description = "Whether a new session's workers (as many as its parallelism, at most one "
                + "per core) start as it opens, so its first job does not wait for them; false starts each worker at "
                + "the first task that needs it")
        boolean startWorkersWithSession() default true;

        @AttributeDefinition(description = "Seconds a busy worker may stay stopped (SIGSTOP, a debugger) before it "
                + "is killed and its task retried; 0 waits for ever")
        int stoppedWorkerTimeoutSeconds() default 30;
    }

    private static final System.Logger LOG = System.getLogger(LocalEngine.class.getName());

    /** Every bound codec, by name: several bundles may provide one name; the best ranked serves (see codec()). */
    private final CodecRegistry codecs = new CodecRegistry();
    private final Set<SchedulerSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger sessionIds = new AtomicInteger();
    private final AtomicInteger jobIds = new AtomicInteger();

    private final TransportSlot transport = new TransportSlot();
    private volatile Config config;
    private ExecutorService taskThreads;
    private final Object barrierLock = new Object();
    private BarrierCoordinator barriers;
    private ScheduledExecutorService housekeeping;
    private WorkerPool pool;
    private LocalTaskRunner runner;
    private MemoryBudget memoryBudget;
    private volatile SpillRoot spillRoot;
    /** Spill roots of earlier configurations, removed when the engine stops. */
    private final List<SpillRoot> retiredSpillRoots = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Reference(name = "transport", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindTransport(WorkerTransport newTransport) {
        transport.set(newTransport);
        LOG.log(System.Logger.Level.INFO, "worker transport now: {0}", newTransport.name());
        WorkerSpec expected = expectedWorkerSpec();
        if (expected != null) {
            newTransport.prepare(expected);
        }
    }

    /**
     * The workers the driver that launched this JVM will ask for ({@code EMBER_PREPARE_WORKER}: the interpreter,
     * then {@code KEY=VALUE} environment entries, separated by U+001F), so the transport can start them while the
     * rest of the distribution boots; null when there is no such driver (a service).
     */
    static WorkerSpec expectedWorkerSpec() {
        String encoded = System.getenv("EMBER_PREPARE_WORKER");
        if (encoded == null || encoded.isEmpty()) {
            return null;
        }
        String[] parts = encoded.split("\u001f", -1);
        Map<String, String> env = new java.util.HashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int equals = parts[i].indexOf('=');
            if (equals > 0) {
                env.put(parts[i].substring(0, equals), parts[i].substring(equals + 1));
            }
        }
        return new WorkerSpec(parts[0], env);
    }

    void unbindTransport(WorkerTransport oldTransport) {
        transport.clear(oldTransport);
        WorkerPool current = pool;
        if (current != null) {
            current.retire(oldTransport);
        }
    }

    /** Observers of every job (the web UI); none bound means no monitoring work at all. */
    private final Monitors monitors = new Monitors();

    @Reference(name = "monitor", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindMonitor(EngineMonitor monitor) {
        monitors.add(monitor);
        // Sessions opened before the monitor came (the UI starts after the gateway) are shown too.
        for (SchedulerSession session : sessions) {
            monitor.sessionOpened(session.info());
        }
    }

    void unbindMonitor(EngineMonitor monitor) {
        monitors.remove(monitor);
    }

    @Override
    public EngineMonitor monitor() {
        return monitors.orNull();
    }

    // Bound by reference: a codec's component (the JSON codec's Gson, say) is created when a job first uses it, not
    // while the distribution boots.
    @Reference(name = "codec", service = Codec.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC)
    void bindCodec(ServiceReference<Codec> codec) {
        codecs.bind(codec);
    }

    void unbindCodec(ServiceReference<Codec> codec) {
        codecs.unbind(codec);
    }

    @Activate
    void activate(ComponentContext context, Config config) {
        codecs.setLocator(reference -> (Codec) context.locateService("codec", reference));
        this.config = config;
        memoryBudget = new MemoryBudget(megabytes(config.shuffleMemoryMB()));
        spillRoot = spillRoot(config);
        taskThreads = Executors.newCachedThreadPool(daemonThreads("ember-task"));
        housekeeping = Executors.newSingleThreadScheduledExecutor(daemonThreads("ember-housekeeping"));
        pool = new WorkerPool();
        runner = new LocalTaskRunner(this);
        housekeeping.scheduleWithFixedDelay(() -> pool.stopIdleLongerThan(
                TimeUnit.SECONDS.toMillis(this.config.workerIdleTimeoutSeconds())), 5, 5, TimeUnit.SECONDS);
        housekeeping.scheduleWithFixedDelay(this::guardWorkerMemory, MemoryGuard.PERIOD_MS, MemoryGuard.PERIOD_MS,
                TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(this::guardStoppedWorkers, 1, 1, TimeUnit.SECONDS);
    }

    @Modified
    void modified(Config config) {
        this.config = config;
        memoryBudget.setLimit(megabytes(config.shuffleMemoryMB()));
        SpillRoot next = spillRoot(config);
        if (!next.base().equals(spillRoot.base())) {
            retiredSpillRoots.add(spillRoot);
            spillRoot = next;
        }
    }

    private static long megabytes(int mb) {
        return Math.max(0, mb) * 1024L * 1024L;
    }

    /** A private directory of this engine's own under the configured (or temp) directory (see SpillRoot). */
    private static SpillRoot spillRoot(Config config) {
        String base = config.spillDirectory().isBlank() ? System.getProperty("java.io.tmpdir") : config.spillDirectory();
        return new SpillRoot(Path.of(base));
    }

    @Deactivate
    void deactivate() {
        for (SchedulerSession session : sessions) {
            session.close("the local scheduler (bundle dev.ember.engine) stopped; create a new SparkContext once it "
                    + "is back");
        }
        housekeeping.shutdownNow();
        taskThreads.shutdownNow();
        pool.closeAll();
        synchronized (barrierLock) {
            if (barriers != null) {
                barriers.close();
                barriers = null;
            }
        }
        spillRoot.delete();
        retiredSpillRoots.forEach(SpillRoot::delete);
    }

    @Override
    public EngineSession openSession(SessionConfig sessionConfig) {
        String id = "s" + sessionIds.incrementAndGet();
        SchedulerSession session = new SchedulerSession(this, id, sessionConfig, runner);
        sessions.add(session);
        EngineMonitor monitor = monitors.orNull();
        if (monitor != null) {
            monitor.sessionOpened(session.info());
        }
        WorkerTransport current = transport.current();
        if (current != null) {
            // The session's first job is moments away: its workers' interpreter can start meanwhile.
            current.prepare(session.workerSpec());
            if (config.startWorkersWithSession()) {
                int count = Math.min(sessionConfig.parallelism(), Runtime.getRuntime().availableProcessors());
                pool.warm(id, session.workerSpec(), current, count, taskThreads);
            }
        }
        return session;
    }

    @Override
    public String activeTransport() {
        WorkerTransport current = transport.current();
        return current == null ? null : current.name();
    }

    @Override
    public List<WorkerInfo> workers() {
        return pool.snapshot();
    }

    @Override
    public List<JobInfo> jobs() {
        List<JobInfo> jobs = new ArrayList<>();
        for (SchedulerSession session : sessions) {
            for (JobRun job : session.runningJobs()) {
                jobs.add(job.info());
            }
        }
        jobs.sort(Comparator.comparingInt(JobInfo::jobId));
        return jobs;
    }

    @Override
    public List<SessionInfo> sessions() {
        List<SessionInfo> open = new ArrayList<>();
        for (SchedulerSession session : sessions) {
            open.add(session.info());
        }
        open.sort(Comparator.comparing(SessionInfo::openedAt));
        return open;
    }

    @Override
    public List<CachedRdd> storage() {
        List<CachedRdd> cached = new ArrayList<>();
        for (SchedulerSession session : sessions) {
            cached.addAll(session.cachedRdds());
        }
        return cached;
    }

    @Override
    public boolean cancelJob(int jobId, String reason) {
        boolean found = false;
        for (SchedulerSession session : sessions) {
            found |= session.cancelRunningJob(jobId, reason);
        }
        return found;
    }

    @Override
    public void sessionClosed(SchedulerSession session) {
        sessions.remove(session);
        EngineMonitor monitor = monitors.orNull();
        if (monitor != null) {
            monitor.sessionClosed(session.id(), System.currentTimeMillis());
        }
        spillRoot.deleteSession(session.id());
        pool.retireSession(session.id());
    }

    MemoryBudget memoryBudget() {
        return memoryBudget;
    }

    /** Where a session's tasks spill, made on the first spill. */
    PartitionedOutput.SpillDirectory spillDirectory(String sessionId) {
        SpillRoot root = spillRoot;
        return () -> root.session(sessionId);
    }

    /** The bound transport, waiting up to {@code transportWaitSeconds} for one; null if none came. */
    WorkerTransport awaitTransport() throws InterruptedException {
        return transport.await(config.transportWaitSeconds());
    }

    /** Kills busy workers that have been stopped longer than {@code stoppedWorkerTimeoutSeconds}. */
    private void guardStoppedWorkers() {
        int timeout = config.stoppedWorkerTimeoutSeconds();
        if (timeout <= 0) {
            return;
        }
        try {
            long now = System.nanoTime();
            runner.runningWorkers().forEach(worker -> StoppedWorkerGuard.check(worker, timeout, now));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "stopped-worker guard: " + e);
        }
    }

    /** Stops busy workers whose resident memory is over their session's limit (see {@link MemoryGuard}). */
    private void guardWorkerMemory() {
        try {
            for (SchedulerSession session : sessions) {
                long limit = session.config().workerMemoryLimit();
                if (limit > 0) {
                    for (JobRun job : session.runningJobs()) {
                        runner.runningWorkers(job).forEach(worker -> MemoryGuard.check(worker, limit));
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "memory guard: " + e);
        }
    }

    /**
     * The installed codec of this name with the highest service ranking (of equals, the oldest, as the framework
     * orders references), or null. Removing one provider of a name leaves the others serving it.
     */
    @Override
    public Codec codec(String name) {
        return codecs.codec(name);
    }

    Config config() {
        return config;
    }

    @Override
    public ExecutorService taskThreads() {
        return taskThreads;
    }

    WorkerPool pool() {
        return pool;
    }

    /** The barrier coordinator, started by the first barrier stage. */
    @Override
    public BarrierCoordinator barriers() throws IOException {
        synchronized (barrierLock) {
            if (barriers == null) {
                barriers = new BarrierCoordinator();
            }
            return barriers;
        }
    }

    @Override
    public int nextJobId() {
        return jobIds.incrementAndGet();
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
