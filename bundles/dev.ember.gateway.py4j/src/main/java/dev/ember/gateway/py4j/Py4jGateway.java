package dev.ember.gateway.py4j;

import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.net.ServerSocketFactory;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
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

import com.google.gson.JsonObject;

import dev.ember.api.engine.Engine;
import dev.ember.api.gateway.Gateway;
import dev.ember.api.log.LogLevels;
import dev.ember.api.monitor.WebUi;
import dev.ember.api.worker.WorkerPoolStatus;
import dev.ember.security.Secrets;
import py4j.GatewayServer;
import py4j.Py4JNetworkException;
import py4j.reflection.ClassLoadingStrategy;
import py4j.reflection.ReflectionUtil;

/**
 * Serves the Ember entry point to Python drivers through Py4J, plus a side socket for bulk data. Both listen on
 * loopback with one random secret. When {@code EMBER_CONN_INFO_PATH} is set (a driver launched this JVM), the port
 * and secret are written to that path for the driver to read.
 */
@Component(immediate = true, configurationPid = "dev.ember.gateway.py4j",
        property = Gateway.NAME_PROPERTY + "=py4j")
@Designate(ocd = Py4jGateway.Config.class)
public final class Py4jGateway implements Gateway {

    @ObjectClassDefinition(name = "Ember Py4J gateway")
    public @interface Config {
        @AttributeDefinition(description = "Address the gateway listens on; loopback unless set")
        String bindAddress() default "127.0.0.1";

        @AttributeDefinition(description = "Py4J port of a JVM a driver launched (and of bin/ember run); 0 picks a "
                + "free one")
        int port() default 0;

        @AttributeDefinition(description = "Py4J port of a service (bin/ember start), fixed so clients can be "
                + "pointed at it once; 0 picks a free one")
        int servicePort() default DEFAULT_SERVICE_PORT;

        @AttributeDefinition(description = "Seconds a session may stay unattached (no driver holding its lease on "
                + "the side socket) before it is closed")
        int sessionAttachTimeoutSeconds() default 30;
    }

    /** Where a service listens unless {@code servicePort} says otherwise. */
    static final int DEFAULT_SERVICE_PORT = 7787;
    /**
     * A framework (or system) property that overrides {@code servicePort}: for tests that run a service-like
     * framework beside others (itests set it to 0).
     */
    static final String SERVICE_PORT_PROPERTY = "ember.gateway.servicePort";
    static final String CONN_INFO_ENV = "EMBER_CONN_INFO_PATH";
    /** Set by {@code bin/ember start}: where a service publishes how to reach it (owner-only, JSON). */
    static final String GATEWAY_FILE_ENV = "EMBER_GATEWAY_FILE";
    private static final Logger LOG = Logger.getLogger(Py4jGateway.class.getName());

    private final InetAddress bindAddress;
    /** The Py4J server; null when its port was taken (the log says so, and nothing is served). */
    private final GatewayServer server;
    private final SideChannel sideChannel;
    private volatile EntryPoint entryPoint;
    private final ClassLoadingStrategy previousStrategy;
    private Path serviceFile;

    /** Every installed engine; a session is opened on the one its driver's master selects (see Engines). */
    private final Engines engines = new Engines();

    /** This node's worker pool, for status calls, while there is one. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile WorkerPoolStatus workerPool;

    /** The web UI while it runs; guarded by itself, notified when it comes. */
    private final Object webUiLock = new Object();
    private WebUi webUi;
    private BundleContext bundleContext;

    @Reference(name = "webUi", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindWebUi(WebUi ui) {
        synchronized (webUiLock) {
            webUi = ui;
            webUiLock.notifyAll();
        }
    }

    void unbindWebUi(WebUi ui) {
        synchronized (webUiLock) {
            if (webUi == ui) {
                webUi = null;
            }
        }
    }

    /** How long a driver's uiWebUrl() waits for a UI bundle that is installed but not serving yet. */
    private static final long WEB_UI_WAIT_MS = 3000;
    /** Once that bundle is active, how long its component may take to register. */
    private static final long WEB_UI_ACTIVATION_MS = 500;

    /** The UI's URL; waits while the dev.ember.ui bundle is starting, null when it is absent or does not serve. */
    private String webUiUrl() {
        long deadline = System.currentTimeMillis() + WEB_UI_WAIT_MS;
        long activeSince = 0;
        synchronized (webUiLock) {
            while (webUi == null) {
                org.osgi.framework.Bundle bundle = uiBundle();
                long now = System.currentTimeMillis();
                if (bundle == null || now >= deadline) {
                    return null;
                }
                if (bundle.getState() == org.osgi.framework.Bundle.ACTIVE) {
                    activeSince = activeSince == 0 ? now : activeSince;
                    if (now - activeSince >= WEB_UI_ACTIVATION_MS) {
                        return null;
                    }
                } else if (bundle.getState() != org.osgi.framework.Bundle.STARTING
                        && bundle.getState() != org.osgi.framework.Bundle.RESOLVED
                        && bundle.getState() != org.osgi.framework.Bundle.INSTALLED) {
                    return null;
                }
                try {
                    webUiLock.wait(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
            return webUi.url();
        }
    }

    private org.osgi.framework.Bundle uiBundle() {
        BundleContext context = bundleContext;
        if (context == null) {
            return null;
        }
        try {
            for (org.osgi.framework.Bundle bundle : context.getBundles()) {
                if ("dev.ember.ui".equals(bundle.getSymbolicName())) {
                    return bundle;
                }
            }
        } catch (IllegalStateException e) {
            // This bundle is stopping.
        }
        return null;
    }

    /** The logging bundle's level control, while it is there; it may come and go without restarting the gateway. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile LogLevels logLevels;

    // Engines come and go while the gateway and its drivers stay: a driver whose engine went away is told so, and the
    // others carry on. SCR calls this after the constructor, for the engines there at activation and for later ones.
    @Reference(name = "engine", service = Engine.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC)
    void bindEngine(Engine engine, ServiceReference<Engine> reference) {
        engines.add(engine, reference);
    }

    void unbindEngine(Engine engine) {
        Engines.Bound gone = engines.remove(engine);
        EntryPoint current = entryPoint;
        if (gone != null && current != null && server != null) {
            current.engineRemoved(engine, Engines.gone(gone));
            LOG.info("scheduler '" + gone.name() + "' (bundle " + gone.bundle() + ") went away; its driver sessions "
                    + "fail from now on, the others carry on");
        }
    }

    @Activate
    public Py4jGateway(Config config, BundleContext context) throws IOException {
        String connInfoPath = System.getenv(CONN_INFO_ENV);
        String gatewayFile = System.getenv(GATEWAY_FILE_ENV);
        serviceFile = gatewayFile == null || gatewayFile.isEmpty() ? null : Path.of(gatewayFile);
        // A service (bin/ember start publishes run/gateway.json) listens where its clients were told to connect; a
        // JVM a driver launched takes any free port, which it tells that driver alone.
        boolean service = serviceFile != null;
        String override = context.getProperty(SERVICE_PORT_PROPERTY);
        int port = service ? servicePort(config, override) : config.port();
        String portKey = service ? "servicePort" : "port";
        try {
            // Py4J logs every connection at INFO; only problems matter here.
            Logger.getLogger("py4j").setLevel(Level.WARNING);
            String secret = Secrets.base64(32);
            bindAddress = InetAddress.getByName(config.bindAddress());
            entryPoint = new EntryPoint(engines, () -> workerPool, this::setLogLevel,
                    config.sessionAttachTimeoutSeconds());
            bundleContext = context;
            entryPoint.setWebUiUrl(this::webUiUrl);
            sideChannel = new SideChannel(bindAddress, secret, entryPoint.sessions());
            entryPoint.setSidePort(sideChannel.port());

            previousStrategy = ReflectionUtil.getClassLoadingStrategy();
            ReflectionUtil.setClassLoadingStrategy(new BundleClassLoading(Py4jGateway.class.getClassLoader()));
            LockedGateway gateway = new LockedGateway(entryPoint);
            entryPoint.setObjectCount(gateway::objectCount);
            GatewayServer started = new LockedGatewayServer(gateway, bindAddress, port, secret,
                    new NoDelayServerSocketFactory());
            String taken = null;
            try {
                started.start(true);
            } catch (Py4JNetworkException e) {
                if (!(e.getCause() instanceof BindException)) {
                    throw e;
                }
                // One line that says what to change, instead of a stack trace; nothing is served.
                taken = portInUse(bindAddress.getHostAddress(), port, portKey);
                started = null;
                sideChannel.close();
                ReflectionUtil.setClassLoadingStrategy(previousStrategy);
                LOG.severe(taken);
            }
            server = started;
            if (connInfoPath != null && !connInfoPath.isEmpty()) {
                writeConnInfo(Path.of(connInfoPath), server == null ? -1 : server.getListeningPort(),
                        server == null ? taken : secret);
            }
            if (server == null) {
                // A service stops: bin/ember's launcher finds no run/gateway.json of its own and exits with an error.
                return;
            }
            if (serviceFile != null) {
                writeServiceFile(serviceFile, bindAddress.getHostAddress(), server.getListeningPort(), secret);
            }
        } catch (IOException | RuntimeException e) {
            // A driver waiting for the conn-info file learns at once why, instead of timing out.
            if (connInfoPath != null && !connInfoPath.isEmpty()) {
                writeConnInfo(Path.of(connInfoPath), -1, "the Ember gateway failed to start: " + e);
            }
            throw e;
        }
        LOG.info("Ember gateway listening on " + bindAddress.getHostAddress() + ":" + server.getListeningPort()
                + (!service ? "" : override != null && !override.isBlank() ? " (" + SERVICE_PORT_PROPERTY + ")"
                        : " (servicePort in conf/dev.ember.gateway.py4j.cfg)"));
    }

    /** The port a service listens on: the override property if set (an integer), else {@code servicePort}. */
    static int servicePort(Config config, String override) {
        if (override != null && !override.isBlank()) {
            try {
                return Integer.parseInt(override.strip());
            } catch (NumberFormatException e) {
                LOG.warning(SERVICE_PORT_PROPERTY + " = \"" + override + "\" is not an integer; using servicePort "
                        + config.servicePort() + " from conf/dev.ember.gateway.py4j.cfg");
            }
        }
        return config.servicePort();
    }

    /** What a gateway whose port is taken says, in one line. */
    static String portInUse(String address, int port, String key) {
        return "the gateway cannot listen on " + address + ":" + port + ": the port is in use (another Ember "
                + "service, or another program); set " + key + " in conf/dev.ember.gateway.py4j.cfg to a free port "
                + "(0 picks one)";
    }

    /** Address and port are bound once; a changed configuration takes effect when the bundle restarts. */
    @Modified
    void modified(Config config) {
        LOG.info("gateway configuration changed; restart the dev.ember.gateway.py4j bundle to apply it");
    }

    private void setLogLevel(String level) {
        LogLevels current = logLevels;
        if (current == null) {
            throw new IllegalStateException("the logging bundle dev.ember.log is not running, so the log level "
                    + "cannot change");
        }
        current.set(level);
        LOG.info("log level set to " + level + " by a driver");
    }

    @Deactivate
    void deactivate() {
        if (server == null) {
            entryPoint.closeAll();
            return;
        }
        if (serviceFile != null) {
            try {
                Files.deleteIfExists(serviceFile);
            } catch (IOException e) {
                LOG.warning("could not remove " + serviceFile + ": " + e);
            }
        }
        server.shutdown();
        sideChannel.close();
        entryPoint.closeAll();
        ReflectionUtil.setClassLoadingStrategy(previousStrategy);
    }

    @Override
    public String bindAddress() {
        return bindAddress.getHostAddress();
    }

    @Override
    public int port() {
        return server == null ? -1 : server.getListeningPort();
    }

    @Override
    public int sessionCount() {
        return entryPoint.sessions().size();
    }

    /**
     * Writes {@code int32 port, int32 secret length, secret} to a temp file and renames it onto the path. A port of
     * -1 reports a failure, with the reason in place of the secret.
     */

    static void writeConnInfo(Path target, int port, String secret) throws IOException {
        byte[] secretBytes = secret.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + secretBytes.length);
        buffer.putInt(port).putInt(secretBytes.length).put(secretBytes);
        Path dir = target.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, ".conn-info", ".tmp");
        try (OutputStream out = Files.newOutputStream(temp)) {
            out.write(buffer.array());
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Writes {@code {"host":…,"port":…,"pid":…,"secret":…}} on one line to a file only its owner can read, through a
     * temp file renamed onto the path, so a reader never sees half of it.
     */
    static void writeServiceFile(Path target, String host, int port, String secret) throws IOException {
        JsonObject info = new JsonObject();
        info.addProperty("host", host);
        info.addProperty("port", port);
        info.addProperty("pid", ProcessHandle.current().pid());
        info.addProperty("secret", secret);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, ".gateway", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temp, info + "\n");
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Loads the classes Py4J looks up by name through this bundle, and only this package's: a client reaching for
     * {@code gateway.jvm.java.lang.Runtime} finds nothing.
     */
    private record BundleClassLoading(ClassLoader loader) implements ClassLoadingStrategy {
        private static final String SERVED_PACKAGE = Py4jGateway.class.getPackageName() + ".";

        @Override
        public Class<?> classForName(String className) throws ClassNotFoundException {
            if (!className.startsWith(SERVED_PACKAGE)) {
                throw new ClassNotFoundException(className + " is not served by the Ember gateway");
            }
            return Class.forName(className, true, loader);
        }

        @Override
        public ClassLoader getClassLoader() {
            return loader;
        }
    }

    /** Py4J replies can exceed one packet; without TCP_NODELAY each would wait on Nagle's algorithm. */
    private static final class NoDelayServerSocketFactory extends ServerSocketFactory {
        @Override
        public ServerSocket createServerSocket() throws IOException {
            return new NoDelayServerSocket();
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return createServerSocket(port, 50, null);
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog) throws IOException {
            return createServerSocket(port, backlog, null);
        }

        @Override
        public ServerSocket createServerSocket(int port, int backlog, InetAddress address) throws IOException {
            NoDelayServerSocket socket = new NoDelayServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(address, port), backlog);
            return socket;
        }
    }

    private static final class NoDelayServerSocket extends ServerSocket {
        NoDelayServerSocket() throws IOException {
            super();
        }

        @Override
        public Socket accept() throws IOException {
            Socket socket = super.accept();
            socket.setTcpNoDelay(true);
            return socket;
        }
    }
}
