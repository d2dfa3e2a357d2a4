package dev.ember.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * Starts an Ember distribution: Apache Felix through {@link FrameworkFactory}, then every jar in {@code bundle/} in a
 * fixed order (ConfigAdmin before SCR and FileInstall, Ember last), with FileInstall watching {@code load/} for
 * bundles and {@code conf/} for configurations.
 *
 * <pre>
 * ember [run|shell] [--exit-on-stdin-eof]
 * </pre>
 *
 * {@code shell} gives an interactive Gogo shell on the terminal; {@code run} (the default) is headless.
 * {@code --exit-on-stdin-eof} is what a driver that launched the JVM passes: when the driver dies its end of the
 * pipe closes, and the JVM stops instead of lingering.
 */
public final class Main {

    private static final long STOP_TIMEOUT_MILLIS = 10_000;
    /** The configuration PID of the cluster bundle's member component. */
    static final String CLUSTER_PID = "dev.ember.engine.cluster";

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        boolean interactive = false;
        boolean exitOnStdinEof = false;
        boolean exitAfterBoot = false;
        boolean withCluster = false;
        Path clusterConfig = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "run" -> interactive = false;
                case "shell" -> interactive = true;
                case "--exit-on-stdin-eof" -> exitOnStdinEof = true;
                // Boots completely, then stops: the build's training run for the class-data-sharing archive.
                case "--exit-after-boot" -> exitAfterBoot = true;
                // A driver of a cluster: the cluster engine and Hazelcast from extras/, as a client.
                case "--with-cluster" -> withCluster = true;
                // A member of a cluster, configured by this file.
                case "--cluster" -> {
                    if (i + 1 >= args.length) {
                        System.err.println("ember: --cluster needs the cluster configuration file (conf/cluster.cfg)");
                        System.exit(2);
                    }
                    clusterConfig = Path.of(args[++i]).toAbsolutePath();
                    withCluster = true;
                    if (!Files.isReadable(clusterConfig)) {
                        System.err.println("ember: cannot read the cluster configuration " + clusterConfig);
                        System.exit(2);
                    }
                }
                default -> {
                    System.err.println("ember: unknown argument '" + args[i] + "'\nusage: ember [run|shell] "
                            + "[--exit-on-stdin-eof] [--cluster conf/cluster.cfg | --with-cluster]");
                    System.exit(2);
                }
            }
        }
        trace("main");
        Path home = distributionHome();
        Path base = stateBase(home);
        // A JVM a driver launched serves that driver first: FileInstall and Gogo start a moment after the gateway,
        // off the path to its first result.
        Launch launch = new Launch(home, base, interactive, exitOnStdinEof && !exitAfterBoot, withCluster,
                clusterConfig);
        // Registered before the framework starts: a SIGTERM that arrives during the boot (say, right after the
        // gateway published run/gateway.json) must still stop the framework cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(launch::stop, "ember-shutdown"));
        try {
            launch.start();
        } catch (Exception e) {
            System.err.println("ember: the framework failed to start: " + e);
            e.printStackTrace();
            launch.stop();
            System.exit(1);
        }
        if (exitAfterBoot) {
            launch.stop();
            System.exit(0);
        }
        if (!launch.serviceGatewayUp()) {
            // A service nobody can reach (its port taken, say): the gateway logged why, in one line.
            System.err.println("ember: the service's gateway did not start (logs/ember.log says why); stopping");
            launch.stop();
            System.exit(1);
        }
        if (exitOnStdinEof) {
            watchStdin(launch);
        }
        launch.awaitStop();
        System.exit(0);
    }

    private static Path distributionHome() {
        String home = System.getProperty("ember.home");
        if (home == null) {
            System.err.println("ember: the system property ember.home is not set; start Ember through bin/ember");
            System.exit(2);
        }
        Path path = Path.of(home).toAbsolutePath().normalize();
        if (!Files.isDirectory(path.resolve("bundle"))) {
            System.err.println("ember: " + path + " is not an Ember distribution (no bundle/ directory)");
            System.exit(2);
        }
        return path;
    }

    /**
     * Where this distribution keeps what changes while it runs: {@code load/} and {@code conf/} (and, through
     * bin/ember, {@code run/} and {@code logs/}). The install itself by default; a separate directory when
     * bin/ember says so ({@code EMBER_BASE}, or a per-user one for a runtime installed with the Python wheel, whose
     * install directory is site-packages), as Karaf's {@code karaf.base} separates state from {@code karaf.home}.
     */
    private static Path stateBase(Path home) {
        String base = System.getProperty("ember.base");
        return base == null || base.isBlank() ? home : Path.of(base).toAbsolutePath().normalize();
    }

    private static void watchStdin(Launch launch) {
        Thread watcher = new Thread(() -> {
            try {
                InputStream in = System.in;
                byte[] buffer = new byte[256];
                while (in.read(buffer) >= 0) {
                    // The driver never writes; anything it sends is ignored.
                }
            } catch (IOException e) {
                // A broken pipe means the same as EOF: the driver is gone.
            }
            launch.stop();
            System.exit(0);
        }, "ember-stdin-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static final long TOOLS_DELAY_MS = 700;

    /** One framework instance with its bundle cache (a slot kept for later boots, or one of its own). */
    static final class Launch {
        private final Path home;
        /** Where load/ and conf/ are (see {@link #stateBase}). */
        private final Path base;
        private final boolean interactive;
        private BundleCache cache;
        private List<Path> deferred = List.of();
        private volatile Framework framework;
        private volatile boolean stopped;

        private final boolean deferTools;
        /** Whether the cluster engine and Hazelcast (extras/) are installed too. */
        private final boolean withCluster;
        /** A member's cluster configuration, loaded as the cluster bundle's; null for a driver or a plain node. */
        private final Path clusterConfig;

        Launch(Path home, Path base, boolean interactive, boolean deferTools, boolean withCluster,
               Path clusterConfig) {
            this.home = home;
            this.base = base;
            this.interactive = interactive;
            this.deferTools = deferTools;
            this.withCluster = withCluster;
            this.clusterConfig = clusterConfig;
        }

        void start() throws IOException, BundleException {
            Files.createDirectories(base.resolve("load"));
            Path parent = BundleCache.defaultParent();
            String stamp = BundleCache.stamp(home, (withCluster ? "cluster " : "") + (uiEnabled() ? "" : "no-ui"));
            cache = BundleCache.forBoot(parent, stamp);
            try {
                boot();
            } catch (BundleException | RuntimeException e) {
                if (!cache.reused || stopped) {
                    throw e;
                }
                // A cache an earlier JVM left in a state this one cannot read (killed while writing it, say).
                System.err.println("ember: the bundle cache of an earlier boot (" + cache.directory
                        + ") could not be used (" + e + "); booting with a fresh one");
                stopFramework();
                cache = cache.wiped();
                boot();
            }
            cache.completed(stamp);
            trace("boot complete, bundle cache " + cache.directory + (cache.reused ? " of an earlier boot" : ""));
            if (!deferred.isEmpty()) {
                Thread later = new Thread(() -> startLater(framework.getBundleContext(), deferred),
                        "ember-start-tools");
                later.setDaemon(true);
                later.start();
            }
            Thread cleaner = new Thread(() -> removeLeftoversLater(parent), "ember-cache-cleaner");
            cleaner.setDaemon(true);
            cleaner.start();
            new LoadCheck(base.resolve("load"), Main::report).watch(deferTools ? TOOLS_DELAY_MS : 0);
        }

        /**
         * In a service ({@code bin/ember start} sets {@code EMBER_GATEWAY_FILE}) whose gateway bundle is installed,
         * whether the gateway came up: it publishes that file, naming this JVM, as it activates during the boot.
         * True for every other kind of JVM.
         */
        boolean serviceGatewayUp() throws InterruptedException {
            String file = System.getenv("EMBER_GATEWAY_FILE");
            boolean gatewayInstalled = false;
            for (Bundle bundle : framework.getBundleContext().getBundles()) {
                gatewayInstalled |= "dev.ember.gateway.py4j".equals(bundle.getSymbolicName());
            }
            if (file == null || file.isEmpty() || !gatewayInstalled) {
                return true;
            }
            String pid = "\"pid\":" + ProcessHandle.current().pid() + ",";
            long deadline = System.nanoTime() + 2_000_000_000L;
            do {
                try {
                    if (Files.readString(Path.of(file)).contains(pid)) {
                        return true;
                    }
                } catch (IOException e) {
                    // Not (yet) there.
                }
                Thread.sleep(50);
            } while (System.nanoTime() < deadline);
            return false;
        }

        /** Creates, initialises and starts the framework in {@link #cache}, and starts the bundles in order. */
        private void boot() throws IOException, BundleException {
            Map<String, String> config = new HashMap<>();
            config.put(Constants.FRAMEWORK_STORAGE, cache.directory.toString());
            config.put("ember.home", home.toString());
            // SCR keeps the component descriptions it parsed in the cache, for the next boot that reuses it.
            config.put("ds.cache.metadata", "true");
            config.put("felix.fileinstall.dir", base.resolve("load") + "," + base.resolve("conf"));
            config.put("felix.fileinstall.noInitialDelay", "true");
            // Inside the bundle cache, which the next boot reuses or clears: FileInstall's default is a new
            // /tmp/fileinstall-<random> per boot, removed only at a clean exit (a killed JVM left one each time).
            config.put("felix.fileinstall.tmpdir", cache.directory.resolve("fileinstall").toString());
            // Bundles and configurations only: conf/ also holds spark-defaults.conf, which the Python driver reads.
            config.put("felix.fileinstall.filter", ".*\\.(jar|cfg|config)");
            config.put("felix.fileinstall.poll", "1000");
            config.put("felix.fileinstall.log.level", "2");
            // conf/ belongs to the operator: FileInstall must never write ConfigAdmin changes back into it.
            config.put("felix.fileinstall.enableConfigSave", "false");
            config.put("gosh.args", interactive ? "" : "--nointeractive --noshutdown");
            // Configurations live in memory: conf/ (loaded below at every boot) is where they come from.
            config.put("felix.cm.pm", "memory");
            // The web UI serves through the JDK's HTTP server (module jdk.httpserver), which Felix does not export.
            config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "com.sun.net.httpserver");
            if (withCluster) {
                // Hazelcast sets socket options through jdk.net, which no bundle can import.
                config.put(Constants.FRAMEWORK_BOOTDELEGATION, "jdk.net,jdk.net.*");
            }
            // Framework properties given as -D options (EMBER_JAVA_OPTS) override these, as Felix's own launcher does.
            for (String key : System.getProperties().stringPropertyNames()) {
                if (key.startsWith("felix.") || key.startsWith("org.osgi.framework.") || key.startsWith("ds.")) {
                    config.put(key, System.getProperty(key));
                }
            }

            FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path (lib/)"));
            framework = factory.newFramework(config);
            trace("framework created");
            framework.init();
            trace("framework initialised");
            BundleContext context = framework.getBundleContext();
            List<Path> jars;
            try (Stream<Path> listing = Files.list(home.resolve("bundle"))) {
                jars = new java.util.ArrayList<>(listing.filter(path -> path.toString().endsWith(".jar")).sorted()
                        .toList());
            }
            if (withCluster) {
                jars.addAll(clusterJars());
            }
            if (!uiEnabled()) {
                // spark.ui.enabled=false: the UI is not even installed (an earlier boot's copy is uninstalled below).
                jars.removeIf(jar -> nameOf(jar).equals("dev.ember.ui"));
            }
            if (cache.reused) {
                // The framework would start the bundles an earlier boot started, in its own order, as it starts;
                // the launcher's order below is the one that works (ConfigAdmin before FileInstall, conf/ loaded
                // before Ember's components). Bundles from load/ keep what FileInstall or an operator made of them.
                Set<String> ours = jars.stream().map(Main::location).collect(Collectors.toSet());
                for (Bundle bundle : context.getBundles()) {
                    if (ours.contains(bundle.getLocation())
                            && bundle.adapt(BundleStartLevel.class).isPersistentlyStarted()) {
                        bundle.stop();
                    } else if (bundle.getLocation().startsWith(LAUNCHER_LOCATION) && bundle.getBundleId() != 0) {
                        // Installed by an earlier boot of another kind (the cluster bundles of a --with-cluster boot)
                        // and not part of this one: it would start again with the cache.
                        trace("uninstalling " + bundle.getLocation() + ": not part of this boot");
                        bundle.uninstall();
                    } else if (removedFromLoad(bundle)) {
                        // Deleted from load/ while no JVM ran: FileInstall, which uninstalls what leaves load/
                        // while it watches, never sees it go, and the cache would start it again.
                        trace("uninstalling " + bundle.getLocation() + ": no longer in load/");
                        bundle.uninstall();
                    }
                }
            }
            // The tools (FileInstall, the shells) of a driver-launched JVM are not even installed until the gateway
            // is up: nothing at boot depends on them.
            deferred = jars.stream().filter(jar -> deferTools && startOrder(nameOf(jar)) >= TOOLS).toList();
            List<Bundle> bundles = jars.stream().filter(jar -> !deferred.contains(jar))
                    .map(jar -> install(context, jar)).toList();
            trace("bundles installed");
            framework.start();
            trace("framework started, " + bundles.size() + " bundles installed");
            boolean configured = false;
            for (Bundle bundle : bundles.stream().sorted(Comparator.comparingInt(Main::startOrder)).toList()) {
                if (!configured && startOrder(bundle) >= ENGINE_AND_TRANSPORTS) {
                    // Ember's components must see conf/ at their first activation (the gateway binds its address
                    // once); FileInstall, which watches the files afterwards, would deliver them a moment late.
                    // Every configuration, then and later, is checked against the components' metatype on its way.
                    ConfigGuard.register(context, base, Main::report);
                    trace("configuration check registered");
                    Configs.load(context, base.resolve("conf"));
                    if (clusterConfig != null) {
                        Configs.loadAs(context, clusterConfig, CLUSTER_PID);
                    }
                    configured = true;
                    trace("configurations loaded");
                }
                startUnlessFragment(bundle, "");
            }
        }

        /** Whether this boot has the web UI: not with spark.ui.enabled=false (-Dember.ui.enabled=false). */
        private static boolean uiEnabled() {
            return !"false".equalsIgnoreCase(System.getProperty("ember.ui.enabled", "true").trim());
        }

        /** The cluster engine and Hazelcast, from extras/. */
        private List<Path> clusterJars() throws IOException {
            List<Path> found;
            try (Stream<Path> listing = Files.list(home.resolve("extras"))) {
                found = listing.filter(path -> {
                    String name = path.getFileName().toString();
                    return name.endsWith(".jar") && (name.startsWith("dev.ember.engine.cluster-")
                            || name.startsWith("hazelcast-"));
                }).sorted().toList();
            }
            if (found.size() < 2) {
                throw new IllegalStateException("the cluster needs extras/dev.ember.engine.cluster-*.jar and "
                        + "extras/hazelcast-*.jar, and " + home.resolve("extras") + " has " + found);
            }
            return found;
        }

        /** A bundle FileInstall installed from a file of load/ that is not there any more. */
        private boolean removedFromLoad(Bundle bundle) {
            Path file = fileOf(bundle.getLocation());
            return file != null && file.startsWith(base.resolve("load").toAbsolutePath().normalize())
                    && !Files.exists(file);
        }

        /** The file a bundle location names (FileInstall's are file: URIs, the launcher's plain paths), or null. */
        private static Path fileOf(String location) {
            try {
                if (location.startsWith("file:")) {
                    return Path.of(java.net.URI.create(location)).toAbsolutePath().normalize();
                }
                return location.startsWith("/") ? Path.of(location).normalize() : null;
            } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
                return null;
            }
        }

        private void stopFramework() {
            try {
                if (framework != null) {
                    framework.stop();
                    framework.waitForStop(STOP_TIMEOUT_MILLIS);
                }
            } catch (BundleException | InterruptedException | RuntimeException e) {
                // Booting afresh anyway.
            }
        }

        private void removeLeftoversLater(Path parent) {
            try {
                Thread.sleep(deferTools ? TOOLS_DELAY_MS : 0);
            } catch (InterruptedException e) {
                return;
            }
            if (stopped) {
                return;
            }
            BundleCache.removeLeftovers(parent);
        }

        /** Installs and starts FileInstall and Gogo once the driver has had its first moments of the CPU to itself. */
        private void startLater(BundleContext context, List<Path> deferred) {
            try {
                Thread.sleep(TOOLS_DELAY_MS);
                if (stopped) {
                    return;
                }
                List<Bundle> bundles = deferred.stream().map(jar -> install(context, jar))
                        .sorted(Comparator.comparingInt(Main::startOrder)).toList();
                for (Bundle bundle : bundles) {
                    if (stopped) {
                        return;
                    }
                    startUnlessFragment(bundle, " (deferred)");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (BundleException | IllegalStateException e) {
                if (!stopped) {
                    System.err.println("ember: could not start a bundle after the boot: " + e);
                }
            }
        }

        /** Starts a bundle; fragments are not started, they attach to their host. */
        private static void startUnlessFragment(Bundle bundle, String traceNote) throws BundleException {
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                bundle.start();
                trace("started " + bundle.getSymbolicName() + traceNote);
            }
        }

        private static Bundle install(BundleContext context, Path jar) {
            try {
                return context.installBundle(location(jar));
            } catch (BundleException e) {
                throw new IllegalStateException("cannot install " + jar + ": " + e.getMessage(), e);
            }
        }

        void awaitStop() throws InterruptedException {
            FrameworkEvent event = framework.waitForStop(0);
            if (event.getType() == FrameworkEvent.ERROR) {
                System.err.println("ember: the framework stopped with an error: " + event.getThrowable());
            }
            releaseCache();
        }

        synchronized void stop() {
            if (stopped || framework == null) {
                return;
            }
            stopped = true;
            try {
                framework.stop();
                framework.waitForStop(STOP_TIMEOUT_MILLIS);
            } catch (BundleException | InterruptedException e) {
                PrintStream err = System.err;
                err.println("ember: stopping the framework: " + e);
            }
            // Workers are children of this JVM; make sure none outlives it even if a bundle failed to stop them.
            ProcessHandle.current().descendants().forEach(ProcessHandle::destroy);
            releaseCache();
        }

        private synchronized void releaseCache() {
            if (cache != null) {
                cache.release();
            }
        }
    }

    /**
     * How the launcher's own installs are located: reference: makes Felix use the jar where it is instead of copying
     * it into the cache (FileInstall's, from load/, are plain file: URIs).
     */
    static final String LAUNCHER_LOCATION = "reference:";

    static String location(Path jar) {
        return LAUNCHER_LOCATION + jar.toUri();
    }

    /**
     * Tells the operator about a problem with what they put in conf/ or load/, in one line: through the
     * distribution's log once Ember's log bundle took over java.util.logging (logs/ember.log in a service), else on
     * standard error.
     */
    static void report(String line) {
        for (java.util.logging.Handler handler : java.util.logging.Logger.getLogger("").getHandlers()) {
            if (handler.getClass().getName().startsWith("dev.ember.log.")) {
                System.getLogger("dev.ember.launcher").log(System.Logger.Level.WARNING, line);
                return;
            }
        }
        System.err.println("ember: " + line);
    }

    private static final boolean TRACE = System.getenv("EMBER_TRACE_START") != null;

    /**
     * With EMBER_TRACE_START set, prints the wall clock (milliseconds since the epoch) at each step of the boot, for
     * bench/startup.py to set against the moment the driver launched the JVM. Not the JVM's uptime: reading it loads
     * java.management, which would add ~30 ms to the boot being measured.
     */
    static void trace(String step) {
        if (TRACE) {
            System.err.println("ember-start @" + System.currentTimeMillis() + " ms: " + step);
        }
    }

    /** Start levels of the boot, lowest first; bundles of one level start in the order of their file names. */
    static final int LIBRARIES = 0;
    /** ConfigAdmin and the Log Service: FileInstall waits on its first scan if ConfigAdmin comes later. */
    static final int CONFIG_AND_LOG = 1;
    static final int SCR = 2;
    /** Ember's log bridge, before the rest of Ember so their first messages already go to the log. */
    static final int EMBER_LOG = 3;
    /**
     * The engine and the worker transports: the engine asks the transport to start the driver's worker daemon as it
     * binds it, and that Python start-up then overlaps the codecs' and the gateway's.
     */
    static final int ENGINE_AND_TRANSPORTS = 4;
    static final int EMBER = 5;
    /** Last of Ember's: once drivers can connect, the engine's transport and codecs are in place. */
    static final int GATEWAY = 6;
    /**
     * The web UI, right after the gateway (it is started while the driver connects, not before): it binds its port
     * and registers its engine monitor before the driver's first job.
     */
    static final int UI = 7;
    /**
     * After the gateway: the launcher has put conf/ into ConfigAdmin already, and FileInstall's first scan of load/
     * and conf/ need not delay the moment drivers can connect. From this level on, a driver-launched JVM installs
     * the bundles only after its gateway is up.
     */
    static final int TOOLS = 8;
    /** The shell (Gogo with Ember's commands) last, so its prompt appears once Ember is up. */
    static final int SHELL = 9;

    static int startOrder(Bundle bundle) {
        return startOrder(bundle.getSymbolicName() == null ? "" : bundle.getSymbolicName());
    }

    /** A jar's bundle name as the build names its files: the symbolic name, a dash, the version. */
    static String nameOf(Path jar) {
        return jar.getFileName().toString().replaceFirst("-\\d.*$", "").replaceFirst("\\.jar$", "");
    }

    static int startOrder(String name) {
        if (name.equals("org.apache.felix.configadmin") || name.equals("org.apache.felix.log")) {
            return CONFIG_AND_LOG;
        }
        if (name.equals("org.apache.felix.scr")) {
            return SCR;
        }
        if (name.equals("dev.ember.log")) {
            return EMBER_LOG;
        }
        if (name.equals("dev.ember.engine") || name.startsWith("dev.ember.transport.")) {
            return ENGINE_AND_TRANSPORTS;
        }
        if (name.equals("dev.ember.gateway.py4j")) {
            return GATEWAY;
        }
        if (name.equals("dev.ember.ui")) {
            return UI;
        }
        if (name.equals("org.apache.felix.fileinstall")) {
            return TOOLS;
        }
        if (name.startsWith("org.apache.felix.gogo") || name.equals("dev.ember.shell")) {
            // Ember's shell commands are of no use before Gogo runs; its remote shell serves services only.
            return SHELL;
        }
        if (name.startsWith("dev.ember.")) {
            return EMBER;
        }
        return LIBRARIES;
    }

}
