package dev.ember.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.ember.api.engine.Engine;
import dev.ember.api.gateway.Gateway;

/**
 * Two schedulers side by side: the local engine and the echo engine ({@code ember.engine=cluster}, from the test
 * bundle dev.ember.itests.echoengine, which returns a job's input unchanged). Real Python drivers connect to the
 * gateway in this framework; each session runs on the engine its settings select, jobs of both run at once, and
 * stopping the echo bundle fails only the sessions on it, with a message naming the bundle.
 */
@ExtendWith({ BundleContextExtension.class, ServiceExtension.class })
class EngineSelectionTest {

    /**
     * A driver: runs {@code parallelize(list(range(6)), 3).map(slow * 10)} and prints the result as JSON; then, for each
     * line on stdin, runs {@code parallelize([1, 2]).map(+1)} and prints the result or the error.
     */
    private static final String DRIVER = String.join("\n",
            "import json, sys, time",
            "from ember import SparkConf, SparkContext",
            "port, secret, engine, sleep = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])",
            "conf = SparkConf().setMaster(f'ember://127.0.0.1:{port}').setAppName('select-' + engine)",
            "conf.set('spark.ember.secret', secret).set('spark.ui.showConsoleProgress', 'false')",
            "if engine != 'default':",
            "    conf.set('spark.ember.engine', engine)",
            "try:",
            "    sc = SparkContext(conf=conf)",
            "except Exception as e:",
            "    print(json.dumps({'error': type(e).__name__, 'message': str(e)}), flush=True)",
            "    sys.exit(0)",
            "def slow(x):",
            "    time.sleep(sleep)",
            "    return x * 10",
            "print(json.dumps({'result': sc.parallelize(list(range(6)), 3).map(slow).collect()}), flush=True)",
            "for line in sys.stdin:",
            "    try:",
            "        print(json.dumps({'result': sc.parallelize([1, 2], 2).map(lambda x: x + 1).collect()}), flush=True)",
            "    except Exception as e:",
            "        print(json.dumps({'error': type(e).__name__, 'message': str(e)}), flush=True)",
            "sc.stop()");

    @InjectBundleContext
    BundleContext context;

    @Test
    void eachSessionRunsOnTheEngineItsDriverSelects(
            @InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine local,
            @InjectService(timeout = 5000, filter = "(ember.engine=cluster)") Engine echo,
            @InjectService(timeout = 5000) Gateway gateway) throws Exception {
        ServiceReference<Gateway> gatewayBefore = context.getServiceReference(Gateway.class);
        JsonObject info = gatewayInfo(gateway.port());
        String port = String.valueOf(gateway.port());
        String secret = info.get("secret").getAsString();
        Bundle echoBundle = bundle("dev.ember.itests.echoengine");

        // Tasks of the local job sleep, so it is still running when the echo driver's job comes.
        Driver onLocal = Driver.start(port, secret, "default", 1.0);
        Driver onEcho = null;
        try {
            awaitTrue(() -> !local.jobs().isEmpty(), "the local driver's job is running");
            onEcho = Driver.start(port, secret, "cluster", 0);
            boolean together = false;
            for (int i = 0; i < 1500 && !together; i++) {
                together = !local.jobs().isEmpty() && !echo.jobs().isEmpty();
                Thread.sleep(10);
            }
            if (!together) {
                throw new AssertionError("a local job and an echo job did not run at the same time; the local driver: "
                        + onLocal.next() + "; the echo driver: " + onEcho.next());
            }

            // The local engine ran the Python function; the echo engine returned the input as it was.
            assertEquals("[0, 10, 20, 30, 40, 50]", onLocal.next().get("result").toString().replace(",", ", "));
            assertEquals("[0, 1, 2, 3, 4, 5]", onEcho.next().get("result").toString().replace(",", ", "));

            echoBundle.stop();
            JsonObject echoAfter = onEcho.ask();
            assertTrue(echoAfter.has("error"), "a session on the stopped engine fails: " + echoAfter);
            String message = echoAfter.get("message").getAsString();
            assertTrue(message.contains("was stopped") && message.contains("dev.ember.itests.echoengine"), message);
            assertEquals("[2, 3]", onLocal.ask().get("result").toString().replace(",", ", "),
                    "the local session carries on");
            assertSame(gateway, context.getService(gatewayBefore), "the gateway itself was not restarted");
            context.ungetService(gatewayBefore);
        } finally {
            if (echoBundle.getState() != Bundle.ACTIVE) {
                echoBundle.start();
            }
            onLocal.close();
            if (onEcho != null) {
                onEcho.close();
            }
        }
    }

    @Test
    void aDriverAskingForAMissingEngineIsToldWhichBundleToInstall(@InjectService(timeout = 5000) Gateway gateway)
            throws Exception {
        JsonObject info = gatewayInfo(gateway.port());
        Driver driver = Driver.start(String.valueOf(gateway.port()), info.get("secret").getAsString(), "nosuch", 0);
        try {
            JsonObject answer = driver.next();
            assertEquals("EmberStartError", answer.get("error").getAsString(), answer.toString());
            String message = answer.get("message").getAsString();
            assertTrue(message.contains("no scheduler named 'nosuch'") && message.contains("dev.ember.engine.nosuch")
                    && message.contains("cluster") && message.contains("local"), message);
        } finally {
            driver.close();
        }
    }

    /** The gateway's service file (EMBER_GATEWAY_FILE in itest.bndrun), once it names the running gateway. */
    private static JsonObject gatewayInfo(int port) throws Exception {
        Path file = Path.of(System.getProperty("ember.itest.gatewayFile"));
        for (int i = 0; i < 500; i++) {
            if (Files.exists(file)) {
                JsonObject info = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
                if (info.get("port").getAsInt() == port) {
                    return info;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the gateway did not publish port " + port + " in " + file);
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        for (int i = 0; i < 3000; i++) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("timed out waiting until " + what);
    }

    /** A real Python driver process running {@link #DRIVER}; it answers one JSON line per request. */
    private record Driver(Process process, BufferedReader out, Path log) implements AutoCloseable {

        static Driver start(String port, String secret, String engine, double sleep) throws IOException {
            String python = System.getProperty("ember.python");
            assertNotNull(python, "ember.python is not set");
            Path log = Files.createTempFile("ember-driver", ".log");
            ProcessBuilder builder = new ProcessBuilder(python, "-c", DRIVER, port, secret, engine,
                    String.valueOf(sleep)).redirectError(log.toFile());
            builder.environment().put("PYTHONHASHSEED", "0");
            Process process = builder.start();
            return new Driver(process, new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)), log);
        }

        JsonObject next() throws IOException {
            String line = out.readLine();
            if (line == null) {
                throw new AssertionError("the driver ended without answering; its stderr:\n" + Files.readString(log));
            }
            return JsonParser.parseString(line).getAsJsonObject();
        }

        /** Asks for the second job and returns what came of it. */
        JsonObject ask() throws IOException {
            OutputStream in = process.getOutputStream();
            in.write('\n');
            in.flush();
            return next();
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(log);
        }
    }
}
