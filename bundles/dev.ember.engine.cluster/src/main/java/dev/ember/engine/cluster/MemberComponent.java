package dev.ember.engine.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import com.hazelcast.client.Client;
import com.hazelcast.client.ClientListener;
import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import dev.ember.api.codec.Codec;
import dev.ember.api.worker.WorkerInfo;
import dev.ember.api.worker.WorkerPoolStatus;
import dev.ember.api.worker.WorkerTransport;
import dev.ember.engine.core.CodecRegistry;
import dev.ember.engine.core.TransportSlot;

/**
 * This node as a member of an Ember cluster: active only when a cluster configuration is given
 * ({@code bin/ember start --cluster conf/cluster.cfg} loads it as PID {@value #PID}). Starts a Hazelcast member
 * that joins the listed members and runs drivers' tasks on this node's Python workers (see {@link MemberRuntime}).
 */
@Component(immediate = true, configurationPid = MemberComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = { WorkerPoolStatus.class, ClusterView.class })
@Designate(ocd = MemberComponent.Settings.class)
public final class MemberComponent implements WorkerPoolStatus, ClusterView {

    static final String PID = "dev.ember.engine.cluster";

    @ObjectClassDefinition(name = "Ember cluster member")
    public @interface Settings {
        @AttributeDefinition(description = "The cluster's name: the same on every node, and different for each cluster")
        String cluster_name();

        @AttributeDefinition(description = "The secret every node signs its calls with (at least 16 characters; the "
                + "same on every node, readable only by the service user)")
        String cluster_secret();

        @AttributeDefinition(description = "The address this member listens on and tells the others")
        String bind() default "127.0.0.1";

        @AttributeDefinition(description = "This member's port")
        int member_port() default 5701;

        @AttributeDefinition(description = "The members to join, host:port, comma-separated (this one may be listed)")
        String members() default "";

        @AttributeDefinition(description = "The Python interpreter this node's workers run; empty: the driver's path")
        String python() default "";

        @AttributeDefinition(description = "How many tasks this member runs at once; 0: one per core")
        int slots() default 0;

        @AttributeDefinition(description = "Seconds between heartbeats to the other members")
        int heartbeatSeconds() default 1;

        @AttributeDefinition(description = "Seconds without a heartbeat after which a member counts as gone")
        int memberTimeoutSeconds() default 5;

        @AttributeDefinition(description = "Megabytes of shuffle output kept in memory; beyond that it spills")
        int shuffleMemoryMB() default 512;

        @AttributeDefinition(description = "Directory for spill files; empty: the system temp directory")
        String spillDirectory() default "";

        @AttributeDefinition(description = "Most bytes of stored output one fetch by another member carries")
        int fetchChunkBytes() default 4 * 1024 * 1024;
    }

    private static final System.Logger LOG = System.getLogger(MemberComponent.class.getName());

    private final CodecRegistry codecs = new CodecRegistry();
    private final TransportSlot transport = new TransportSlot();
    private volatile MemberRuntime runtime;
    private volatile HazelcastInstance hazelcast;
    private volatile ClusterNode node;
    private ExecutorService threads;
    private ScheduledExecutorService housekeeping;
    private int slots;

    @Reference(name = "transport", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindTransport(WorkerTransport newTransport) {
        transport.set(newTransport);
    }

    void unbindTransport(WorkerTransport oldTransport) {
        transport.clear(oldTransport);
        MemberRuntime current = runtime;
        if (current != null) {
            current.pool().retire(oldTransport);
        }
    }

    @Reference(name = "codec", service = Codec.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC)
    void bindCodec(ServiceReference<Codec> codec) {
        codecs.bind(codec);
    }

    void unbindCodec(ServiceReference<Codec> codec) {
        codecs.unbind(codec);
    }

    @Activate
    void activate(ComponentContext context, Settings settings) throws IOException {
        codecs.setLocator(reference -> (Codec) context.locateService("codec", reference));
        Signer signer = new Signer(settings.cluster_secret());
        if (settings.cluster_name() == null || settings.cluster_name().isBlank()) {
            throw new IllegalArgumentException("cluster.name is not set in the cluster configuration");
        }
        slots = settings.slots() > 0 ? settings.slots() : Runtime.getRuntime().availableProcessors();
        threads = Executors.newCachedThreadPool(daemonThreads("ember-member-task"));
        housekeeping = Executors.newSingleThreadScheduledExecutor(daemonThreads("ember-member-housekeeping"));
        String python = settings.python().isBlank() ? "python3" : settings.python();
        runtime = new MemberRuntime(signer, settings, codecs, transport, threads, pythonVersion(python));
        ConcurrentMap<String, Object> userContext = new ConcurrentHashMap<>();
        userContext.put(ClusterCall.RUNTIME_KEY, runtime);
        hazelcast = Hazelcast.newHazelcastInstance(memberConfig(settings, userContext));
        node = new ClusterNode(hazelcast, signer, true);
        runtime.attach(node);
        hazelcast.getClientService().addClientListener(new ClientListener() {
            @Override
            public void clientConnected(Client client) {
            }

            @Override
            public void clientDisconnected(Client client) {
                // A driver that reconnects within the delay keeps its sessions.
                housekeeping.schedule(() -> {
                    boolean back = hazelcast.getClientService().getConnectedClients().stream()
                            .anyMatch(c -> c.getUuid().equals(client.getUuid()));
                    if (!back) {
                        runtime.clientGone(client.getUuid().toString());
                    }
                }, 30, TimeUnit.SECONDS);
            }
        });
        housekeeping.scheduleWithFixedDelay(runtime::closeIdleCursors, 10, 10, TimeUnit.SECONDS);
        housekeeping.scheduleWithFixedDelay(() -> runtime.pool().stopIdleLongerThan(60_000), 5, 5, TimeUnit.SECONDS);
        LOG.log(System.Logger.Level.INFO, "cluster member {0} of cluster ''{1}'' up with {2} task slots",
                node.describeSelf(), settings.cluster_name(), slots);
    }

    /** The member's Hazelcast configuration: TCP/IP join of the listed members only, fast failure detection. */
    static Config memberConfig(Settings settings, ConcurrentMap<String, Object> userContext) {
        Config config = new Config();
        config.setClusterName(settings.cluster_name());
        config.setInstanceName("ember-member-" + settings.bind() + "-" + settings.member_port());
        config.setClassLoader(MemberComponent.class.getClassLoader());
        ClusterSettings.common(config::setProperty, settings.heartbeatSeconds(), settings.memberTimeoutSeconds());
        config.setProperty("hazelcast.local.localAddress", settings.bind());
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(settings.member_port()).setPortAutoIncrement(false);
        network.setPublicAddress(settings.bind() + ":" + settings.member_port());
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        List<String> members = new ArrayList<>();
        for (String member : settings.members().split(",")) {
            if (!member.isBlank()) {
                members.add(member.trim());
            }
        }
        if (members.isEmpty()) {
            members.add(settings.bind() + ":" + settings.member_port());
        }
        join.getTcpIpConfig().setEnabled(true).setMembers(members);
        config.getMemberAttributeConfig().setAttribute(ClusterNode.SLOTS_ATTRIBUTE,
                String.valueOf(settings.slots() > 0 ? settings.slots() : Runtime.getRuntime().availableProcessors()));
        config.getExecutorConfig(ClusterNode.TASK_EXECUTOR).setPoolSize(64);
        config.getExecutorConfig(ClusterNode.FETCH_EXECUTOR).setPoolSize(16);
        config.getJetConfig().setEnabled(false);
        config.setUserContext(userContext);
        return config;
    }

    /** The interpreter's {@code major.minor}, to compare with a driver's; "?" when it cannot run. */
    static String pythonVersion(String python) {
        try {
            Process process = new ProcessBuilder(python, "-c",
                    "import sys; print('%d.%d' % sys.version_info[:2])").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return process.waitFor() == 0 ? out : "?";
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    @Deactivate
    void deactivate() {
        housekeeping.shutdownNow();
        if (hazelcast != null) {
            hazelcast.shutdown();
        }
        runtime.close();
        threads.shutdownNow();
    }

    @Override
    public String activeTransport() {
        WorkerTransport current = transport.current();
        return current == null ? null : current.name();
    }

    @Override
    public List<WorkerInfo> workers() {
        return runtime.pool().snapshot();
    }

    @Override
    public String role() {
        return "member " + node.describeSelf() + " (" + slots + " slots, " + runtime.runningTasks() + " tasks running)";
    }

    @Override
    public ClusterNode clusterNode() {
        return node;
    }

    static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
