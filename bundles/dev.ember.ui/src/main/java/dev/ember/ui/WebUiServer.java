package dev.ember.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.ember.api.engine.CachedRdd;
import dev.ember.api.engine.Engine;
import dev.ember.api.engine.SessionInfo;
import dev.ember.api.monitor.EngineMonitor;
import dev.ember.api.monitor.JobStarted;
import dev.ember.api.monitor.StageStarted;
import dev.ember.api.monitor.TaskEnded;
import dev.ember.api.monitor.TaskStarted;
import dev.ember.api.monitor.WebUi;
import dev.ember.api.worker.WorkerInfo;
import dev.ember.api.worker.WorkerPoolStatus;

/**
 * The web UI: an {@link EngineMonitor} that keeps what the engines report in a bounded {@link History}, and the JDK's
 * HTTP server serving it as pages (static files of this bundle) and JSON under {@code /api/v1}. Read-only. Binds
 * loopback by default; bound to any other address it wants the service's secret as a login token.
 */
@Component(immediate = true, configurationPid = WebUiServer.PID, service = { EngineMonitor.class, WebUi.class })
@Designate(ocd = WebUiServer.Config.class)
public final class WebUiServer implements EngineMonitor, WebUi {

    static final String PID = "dev.ember.ui";
    /** How many ports after the configured one are tried when it is taken (as Spark's spark.port.maxRetries). */
    static final int PORT_RETRIES = 16;
    static final String COOKIE = "ember_ui_token";

    @ObjectClassDefinition(name = "Ember web UI")
    public @interface Config {
        @AttributeDefinition(description = "Port of the UI; when taken, the next " + PORT_RETRIES + " are tried, then "
                + "any free one; 0 takes any free port. A driver's spark.ui.port overrides it for its own JVM")
        int port() default 4040;

        @AttributeDefinition(description = "Address the UI listens on; any other than loopback needs the service's "
                + "secret (run/gateway.json) as a login token")
        String bindAddress() default "127.0.0.1";

        @AttributeDefinition(description = "How many jobs the UI remembers (older finished ones are forgotten, with "
                + "their stages and tasks)")
        int retainedJobs() default 1000;
    }

    private static final System.Logger LOG = System.getLogger(WebUiServer.class.getName());

    private final List<Engine> engines = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile WorkerPoolStatus workerPool;

    @Reference(name = "engine", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindEngine(Engine engine) {
        engines.add(engine);
    }

    void unbindEngine(Engine engine) {
        engines.remove(engine);
    }

    private History history;
    private HttpServer server;
    private ExecutorService threads;
    private String url;
    /** The login token when bound beyond loopback, else null. */
    private byte[] token;
    /** Nulls are written ("errorMessage": null), as Spark's API does. */
    private final Gson gson = new com.google.gson.GsonBuilder().serializeNulls().create();

    @Activate
    void activate(BundleContext context, Config config) throws IOException {
        history = new History(config.retainedJobs());
        String bind = property(context, "ember.ui.bindAddress", config.bindAddress());
        InetAddress address = InetAddress.getByName(bind);
        if (!address.isLoopbackAddress()) {
            String secret = serviceSecret();
            if (secret == null) {
                throw new IllegalStateException("the web UI is configured to listen on " + bind + ", beyond this "
                        + "machine, but there is no service secret to protect it with (only a service started with "
                        + "'bin/ember start' has one, in run/gateway.json): set bindAddress = 127.0.0.1 in "
                        + "conf/dev.ember.ui.cfg, or run Ember as a service");
            }
            token = secret.getBytes(StandardCharsets.UTF_8);
        }
        int port = Integer.parseInt(property(context, "ember.ui.port", Integer.toString(config.port())));
        server = bind(address, port);
        threads = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "ember-ui");
            thread.setDaemon(true);
            return thread;
        });
        String version = context.getBundle().getVersion().toString();
        Api api = new Api(history, this::storage, this::workers, version);
        server.setExecutor(threads);
        server.createContext("/api/v1/", exchange -> serveApi(exchange, api));
        server.createContext("/login", this::login);
        server.createContext("/", this::serveStatic);
        server.start();
        String host = address.isAnyLocalAddress() ? InetAddress.getLocalHost().getHostName()
                : address.getHostAddress().contains(":") ? "[" + address.getHostAddress() + "]"
                        : address.getHostAddress();
        url = "http://" + host + ":" + server.getAddress().getPort();
        LOG.log(System.Logger.Level.INFO, "web UI at " + url + (token == null ? "" : " (log in with "
                + url + "/login?token=<the secret in run/gateway.json>)"));
    }

    private static String property(BundleContext context, String key, String fallback) {
        String value = context.getProperty(key);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    /** The configured port, else the next ones, else any: the UI is a convenience and must not stop a driver. */
    private static HttpServer bind(InetAddress address, int port) throws IOException {
        if (port != 0) {
            for (int candidate = port; candidate <= port + PORT_RETRIES && candidate < 65536; candidate++) {
                try {
                    return HttpServer.create(new InetSocketAddress(address, candidate), 16);
                } catch (BindException e) {
                    // Taken (another driver's UI, say): the next one.
                }
            }
            LOG.log(System.Logger.Level.WARNING, "ports " + port + " to " + (port + PORT_RETRIES) + " are taken; the "
                    + "web UI takes a free port instead");
        }
        return HttpServer.create(new InetSocketAddress(address, 0), 16);
    }

    /** The secret of the service this JVM runs as (bin/ember start names its gateway file), or null. */
    private static String serviceSecret() {
        String file = System.getenv("EMBER_GATEWAY_FILE");
        if (file == null || file.isEmpty()) {
            return null;
        }
        // The gateway writes the file as it activates; the UI starts after it.
        for (int i = 0; i < 50; i++) {
            try {
                JsonObject published = new Gson().fromJson(Files.readString(Path.of(file)), JsonObject.class);
                if (published != null && published.has("secret")) {
                    return published.get("secret").getAsString();
                }
            } catch (IOException | RuntimeException e) {
                // Not written yet.
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    @Deactivate
    void deactivate() {
        if (server != null) {
            server.stop(0);
        }
        if (threads != null) {
            threads.shutdownNow();
        }
    }

    @Override
    public String url() {
        return url;
    }

    private List<CachedRdd> storage() {
        List<CachedRdd> all = new ArrayList<>();
        for (Engine engine : engines) {
            all.addAll(engine.storage());
        }
        return all;
    }

    private List<WorkerInfo> workers() {
        WorkerPoolStatus pool = workerPool;
        return pool == null ? List.of() : pool.workers();
    }

    // Engine events, straight into the history.

    @Override
    public void sessionOpened(SessionInfo session) {
        history.sessionOpened(session);
    }

    @Override
    public void sessionClosed(String sessionId, long timeMillis) {
        history.sessionClosed(sessionId, timeMillis);
    }

    @Override
    public void jobStarted(JobStarted job) {
        history.jobStarted(job);
    }

    @Override
    public void stageStarted(StageStarted stage) {
        history.stageStarted(stage);
    }

    @Override
    public void taskStarted(TaskStarted task) {
        history.taskStarted(task);
    }

    @Override
    public void taskEnded(TaskEnded task) {
        history.taskEnded(task);
    }

    @Override
    public void stageEnded(String sessionId, int jobId, int stageId, boolean succeeded, long timeMillis) {
        history.stageEnded(sessionId, stageId, succeeded, timeMillis);
    }

    @Override
    public void jobEnded(String sessionId, int jobId, boolean succeeded, String error, long timeMillis) {
        history.jobEnded(sessionId, jobId, succeeded, error, timeMillis);
    }

    // HTTP.

    private void serveApi(HttpExchange exchange, Api api) throws IOException {
        try (exchange) {
            if (!allowed(exchange)) {
                sendJson(exchange, 401, error("log in first: open " + url + "/login?token=<the secret in "
                        + "run/gateway.json>, or send it as 'Authorization: Bearer <secret>'"));
                return;
            }
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                sendJson(exchange, 405, error("the API is read-only: GET only"));
                return;
            }
            String path = exchange.getRequestURI().getPath().substring("/api/v1".length());
            JsonElement body;
            try {
                body = api.get(path);
            } catch (Api.NotFound e) {
                sendJson(exchange, 404, error(e.getMessage()));
                return;
            }
            if (body == null) {
                sendJson(exchange, 404, error("no such resource: " + exchange.getRequestURI().getPath()
                        + " (see the bundle's README for the API)"));
                return;
            }
            sendJson(exchange, 200, body);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "web UI request " + exchange.getRequestURI() + " failed", e);
        }
    }

    private static JsonObject error(String message) {
        JsonObject body = new JsonObject();
        body.addProperty("error", message);
        return body;
    }

    private void sendJson(HttpExchange exchange, int status, JsonElement body) throws IOException {
        send(exchange, status, "application/json; charset=utf-8", gson.toJson(body).getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Loopback needs nothing; otherwise the token as a bearer header or the login cookie. */
    private boolean allowed(HttpExchange exchange) {
        if (token == null) {
            return true;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header != null && header.startsWith("Bearer ") && matches(header.substring(7).trim())) {
            return true;
        }
        for (String cookies : exchange.getRequestHeaders().getOrDefault("Cookie", List.of())) {
            for (String cookie : cookies.split(";")) {
                String[] pair = cookie.trim().split("=", 2);
                if (pair.length == 2 && pair[0].equals(COOKIE) && matches(pair[1])) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean matches(String offered) {
        return MessageDigest.isEqual(offered.getBytes(StandardCharsets.UTF_8), token);
    }

    /** {@code /login?token=...}: sets the cookie the pages then send, and goes to the UI. */
    private void login(HttpExchange exchange) throws IOException {
        try (exchange) {
            String offered = null;
            String query = exchange.getRequestURI().getRawQuery();
            if (query != null) {
                for (String pair : query.split("&")) {
                    if (pair.startsWith("token=")) {
                        offered = URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8);
                    }
                }
            }
            if (token != null && (offered == null || !matches(offered))) {
                LOG.log(System.Logger.Level.WARNING, "web UI: a login with a wrong or missing token from "
                        + exchange.getRemoteAddress().getAddress().getHostAddress() + " was refused");
                send(exchange, 401, "text/plain; charset=utf-8", ("wrong or missing token: open /login?token=<the "
                        + "secret in the service's run/gateway.json>\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (token != null) {
                exchange.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + offered
                        + "; Path=/; HttpOnly; SameSite=Strict");
            }
            exchange.getResponseHeaders().set("Location", "/");
            exchange.sendResponseHeaders(303, -1);
        }
    }

    private void serveStatic(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String name = switch (path) {
                case "/", "/index.html" -> "index.html";
                case "/ui.js" -> "ui.js";
                case "/ui.css" -> "ui.css";
                default -> null;
            };
            if (name == null) {
                send(exchange, 404, "text/plain; charset=utf-8", ("not found: " + path + "\n")
                        .getBytes(StandardCharsets.UTF_8));
                return;
            }
            byte[] body;
            try (InputStream in = WebUiServer.class.getResourceAsStream("static/" + name)) {
                if (in == null) {
                    send(exchange, 500, "text/plain; charset=utf-8", ("the UI bundle lacks " + name + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                    return;
                }
                body = in.readAllBytes();
            }
            String type = name.endsWith(".js") ? "text/javascript; charset=utf-8"
                    : name.endsWith(".css") ? "text/css; charset=utf-8" : "text/html; charset=utf-8";
            // The page itself needs no token (it holds no data); its API calls do.
            send(exchange, 200, type, body);
        }
    }
}
