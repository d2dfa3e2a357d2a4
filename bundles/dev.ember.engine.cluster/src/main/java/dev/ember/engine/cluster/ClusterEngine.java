package dev.ember.engine.cluster;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import com.google.gson.JsonObject;
import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;

import dev.ember.api.codec.Codec;
import dev.ember.api.engine.EmberEngine;
import dev.ember.api.engine.Engine;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.SessionInfo;
import dev.ember.engine.core.BarrierCoordinator;
import dev.ember.engine.core.CodecRegistry;
import dev.ember.engine.core.JobRun;
import dev.ember.engine.core.SchedulerContext;
import dev.ember.engine.core.SchedulerSession;
import dev.ember.security.Secrets;

/**
 * The cluster scheduler ({@code ember.engine=cluster}, what {@code ember-cluster://host:port} masters select): the
 * stage loop runs here, in the driver's JVM, and each task runs on a member of the Hazelcast cluster at that address
 * (see {@link ClusterTaskRunner}). The cluster's name and secret come from the driver's
 * {@code spark.ember.cluster.name} and {@code spark.ember.cluster.secret}, or from the cluster configuration file
 * named by {@code spark.ember.cluster.config} (by default {@code conf/cluster.cfg} of the distribution).
 */
@Component(immediate = true, service = { Engine.class, ClusterView.class })
@EmberEngine(ClusterEngine.NAME)
public final class ClusterEngine implements Engine, SchedulerContext, ClusterView {

    static final String NAME = "cluster";
    static final String SCHEME = "ember-cluster://";
    private static final System.Logger LOG = System.getLogger(ClusterEngine.class.getName());

    private final CodecRegistry codecs = new CodecRegistry();
    private final Set<SchedulerSession> sessions = ConcurrentHashMap.newKeySet();
    private final Map<SchedulerSession, ClusterConnection> sessionConnections = new ConcurrentHashMap<>();
    /** Each session's key on the members (its id and a random part: ids repeat across drivers). */
    private final Map<SchedulerSession, String> runnerKeys = new ConcurrentHashMap<>();
    private final Map<String, ClusterConnection> connections = new ConcurrentHashMap<>();
    private final AtomicInteger sessionIds = new AtomicInteger();
    private final AtomicInteger jobIds = new AtomicInteger();
    private final Object barrierLock = new Object();
    private BarrierCoordinator barriers;
    private ExecutorService taskThreads;
    private ExecutorService background;

    @Reference(name = "codec", service = Codec.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC)
    void bindCodec(ServiceReference<Codec> codec) {
        codecs.bind(codec);
    }

    void unbindCodec(ServiceReference<Codec> codec) {
        codecs.unbind(codec);
    }

    @Activate
    void activate(ComponentContext context) {
        codecs.setLocator(reference -> (Codec) context.locateService("codec", reference));
        taskThreads = Executors.newCachedThreadPool(MemberComponent.daemonThreads("ember-cluster-task"));
        background = Executors.newCachedThreadPool(MemberComponent.daemonThreads("ember-cluster-background"));
    }

    @Deactivate
    void deactivate() {
        for (SchedulerSession session : List.copyOf(sessions)) {
            session.close("the cluster scheduler (bundle dev.ember.engine.cluster) stopped; create a new SparkContext "
                    + "once it is back");
        }
        connections.values().forEach(ClusterConnection::close);
        connections.clear();
        synchronized (barrierLock) {
            if (barriers != null) {
                barriers.close();
            }
        }
        taskThreads.shutdownNow();
        background.shutdownNow();
    }

    @Override
    public EngineSession openSession(SessionConfig config) {
        List<String> addresses = addresses(config.master());
        Map<String, String> cluster = clusterSettings(config.settings());
        String name = cluster.get("name");
        String secret = cluster.get("secret");
        if (name == null || name.isBlank() || secret == null || secret.isBlank()) {
            throw new IllegalStateException("the cluster's name and secret are not known: set spark.ember.cluster.name "
                    + "and spark.ember.cluster.secret, or spark.ember.cluster.config to the cluster configuration "
                    + "file the members use (conf/cluster.cfg)");
        }
        String key = name + "@" + String.join(",", addresses);
        ClusterConnection connection = connections.computeIfAbsent(key, k -> connect(name, addresses, secret));
        List<Member> members = connection.node().members();
        if (members.isEmpty()) {
            throw new IllegalStateException("the cluster '" + name + "' at " + addresses + " has no members");
        }
        checkPython(connection, config.settings().get("ember.python.version"));
        String id = "c" + sessionIds.incrementAndGet();
        String sessionKey = id + "-" + Secrets.hex(8);
        ClusterTaskRunner runner = new ClusterTaskRunner(connection, sessionKey, background);
        SchedulerSession session = new SchedulerSession(this, id, config.withParallelism(connection.slots()), runner);
        sessions.add(session);
        sessionConnections.put(session, connection);
        connection.add(session);
        runnerKeys.put(session, sessionKey);
        LOG.log(System.Logger.Level.INFO, "session {0} opened on cluster ''{1}'': {2} members, {3} task slots", id,
                name, members.size(), connection.slots());
        return session;
    }

    /** The member addresses of an {@code ember-cluster://host:port[,host:port]} master. */
    static List<String> addresses(String master) {
        if (master == null || !master.startsWith(SCHEME)) {
            throw new IllegalArgumentException("the cluster scheduler needs an ember-cluster://host:port master, got '"
                    + master + "'");
        }
        List<String> addresses = new ArrayList<>();
        for (String address : master.substring(SCHEME.length()).replaceAll("/+$", "").split(",")) {
            if (!address.isBlank()) {
                addresses.add(address.trim());
            }
        }
        return addresses;
    }

    /** The cluster's name and secret: from the driver's settings, else from the cluster configuration file. */
    static Map<String, String> clusterSettings(Map<String, String> settings) {
        Map<String, String> cluster = new java.util.HashMap<>();
        String file = settings.get("spark.ember.cluster.config");
        Path path = file != null ? Path.of(file)
                : System.getProperty("ember.home") == null ? null
                        : Path.of(System.getProperty("ember.home"), "conf", "cluster.cfg");
        if (path != null && Files.isReadable(path)) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the cluster configuration " + path + ": " + e, e);
            }
            cluster.put("name", properties.getProperty("cluster.name", "").trim());
            cluster.put("secret", properties.getProperty("cluster.secret", "").trim());
        } else if (file != null) {
            throw new IllegalStateException("the cluster configuration " + file + " (spark.ember.cluster.config) "
                    + "cannot be read");
        }
        if (settings.containsKey("spark.ember.cluster.name")) {
            cluster.put("name", settings.get("spark.ember.cluster.name"));
        }
        if (settings.containsKey("spark.ember.cluster.secret")) {
            cluster.put("secret", settings.get("spark.ember.cluster.secret"));
        }
        return cluster;
    }

    private ClusterConnection connect(String name, List<String> addresses, String secret) {
        Signer signer = new Signer(secret);
        ClientConfig config = new ClientConfig();
        config.setClusterName(name);
        config.setInstanceName("ember-driver-" + Secrets.hex(6));
        config.setClassLoader(ClusterEngine.class.getClassLoader());
        ClusterSettings.common(config::setProperty, 1, 5);
        config.setProperty("hazelcast.client.heartbeat.interval", "1000");
        config.setProperty("hazelcast.client.heartbeat.timeout", "5000");
        config.getNetworkConfig().setAddresses(addresses);
        config.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(15_000);
        // A driver's terminal is no place for Hazelcast's start-up banner.
        Logger.getLogger("com.hazelcast").setLevel(Level.WARNING);
        try {
            HazelcastInstance client = HazelcastClient.newHazelcastClient(config);
            return new ClusterConnection("'" + name + "' at " + String.join(",", addresses), client, signer,
                    background);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot reach the cluster '" + name + "' at " + addresses + " within 15 s ("
                    + e.getMessage() + "): are its members running (bin/ember start --cluster conf/cluster.cfg), "
                    + "and is the cluster name right?", e);
        }
    }

    /** Every member must run the driver's Python minor version: pickled code does not cross versions. */
    private void checkPython(ClusterConnection connection, String driverVersion) {
        if (driverVersion == null) {
            return;
        }
        List<String> mismatched = new ArrayList<>();
        for (Member member : connection.node().members()) {
            try {
                ClusterReply reply = connection.node().call(member, ClusterNode.FETCH_EXECUTOR, "hello",
                        new JsonObject(), List.of());
                String version = reply.header().get("python").getAsString();
                if (!version.equals(driverVersion)) {
                    mismatched.add(ClusterNode.describe(member) + " runs Python " + version);
                }
            } catch (ClusterNode.MemberGone e) {
                // It left; the others decide.
            }
        }
        if (!mismatched.isEmpty()) {
            throw new IllegalStateException("the driver runs Python " + driverVersion + " but " + String.join(", ",
                    mismatched) + ": set python in each member's cluster configuration to a Python " + driverVersion
                    + " with the same packages");
        }
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
    public boolean cancelJob(int jobId, String reason) {
        boolean found = false;
        for (SchedulerSession session : sessions) {
            found |= session.cancelRunningJob(jobId, reason);
        }
        return found;
    }

    @Override
    public Codec codec(String name) {
        return codecs.codec(name);
    }

    @Override
    public ExecutorService taskThreads() {
        return taskThreads;
    }

    @Override
    public int nextJobId() {
        return jobIds.incrementAndGet();
    }

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
    public void sessionClosed(SchedulerSession session) {
        sessions.remove(session);
        ClusterConnection connection = sessionConnections.remove(session);
        String key = runnerKeys.remove(session);
        if (connection != null) {
            connection.remove(session);
            if (key != null) {
                connection.endSession(key);
            }
        }
    }

    @Override
    public String role() {
        return connections.isEmpty() ? "driver, not connected to a cluster"
                : "driver of " + connections.size() + " cluster(s): "
                        + String.join("; ", connections.values().stream().map(ClusterConnection::description).toList());
    }

    @Override
    public ClusterNode clusterNode() {
        return connections.values().stream().findFirst().map(ClusterConnection::node).orElse(null);
    }
}
