package dev.ember.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.osgi.util.tracker.ServiceTracker;

import dev.ember.api.codec.Codec;
import dev.ember.api.engine.Engine;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;

/**
 * The JSON codec bundle uninstalled, installed again and updated while the framework runs: a job reading a JSON
 * file through it fails at once with a message naming the bundle while it is missing, and succeeds again, with
 * real Python workers parsing what the JVM read, as soon as it is back.
 */
@ExtendWith({ BundleContextExtension.class, ServiceExtension.class })
class CodecSwapTest {

    private static final String IDENTITY_SCRIPT = String.join("\n",
            "import base64, pickle, sys, cloudpickle",
            "from ember.shared import StageCommand, command_blob",
            "def ident(split, it):",
            "    return it",
            "blob = command_blob(cloudpickle.dumps(StageCommand(ident)))",
            "sys.stdout.write(base64.b64encode(blob).decode())");

    @InjectBundleContext
    BundleContext context;

    @TempDir
    Path dir;

    @Test
    void uninstallingTheJsonCodecFailsJobsClearlyAndReinstallingItHeals(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine,
            @InjectService(timeout = 5000, filter = "(ember.codec=pickle)") Codec pickle,
            @InjectService(timeout = 5000, filter = "(ember.codec=json)") Codec json) throws Exception {
        String python = System.getProperty("ember.python");
        assertTrue(python != null && Files.isExecutable(Path.of(python)), "ember.python: " + python);
        byte[] command = command(python);
        Path file = dir.resolve("data.json");
        Files.writeString(file, "{\"a\": [1, \"\u00e9\"]}\n7\n\nnull\n\"x\"\n");
        try (EngineSession session = engine.openSession(
                new SessionConfig("codecs", 2, python, Map.of("PYTHONHASHSEED", "0"), 1))) {
            int input = session.openFiles(file.toString(), 2, "json", Map.of());
            int splits = session.fileSplits(input).size();
            JobPlan plan = new JobPlan(List.of(new StagePlan(0, "ident", command,
                    List.of(InputSegment.files(input, splits)), StageOutput.result(), List.of(), "pickle", "pickle")),
                    range(splits), null);
            List<Object> expected = Arrays.asList(Map.of("a", List.of(1, "\u00e9")), 7, null, "x");
            assertEquals(expected, run(session, plan, pickle));

            Bundle bundle = Arrays.stream(context.getBundles())
                    .filter(b -> "dev.ember.codec.json".equals(b.getSymbolicName())).findFirst().orElseThrow();
            String location = bundle.getLocation();
            bundle.uninstall();

            JobFailedException failure = assertThrows(JobFailedException.class, () -> run(session, plan, pickle));
            assertEquals(JobFailedException.Kind.SETUP, failure.kind());
            assertTrue(failure.getMessage().contains("codec 'json' is not installed")
                    && failure.getMessage().contains("dev.ember.codec.json"), failure.getMessage());
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> session.openFiles(file.toString(), 2, "json", Map.of()));
            assertTrue(refused.getMessage().contains("dev.ember.codec.json"), refused.getMessage());

            Bundle reinstalled = context.installBundle(location);
            reinstalled.start();
            awaitCodec("json");
            assertEquals(expected, run(session, plan, pickle), "the same job after reinstalling");

            reinstalled.update();
            awaitCodec("json");
            assertEquals(expected, run(session, plan, pickle), "the same job after an update");
        }
    }

    @Test
    void removingTheNewerOfTwoProvidersOfACodecLeavesTheOlderServing(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine,
            @InjectService(timeout = 5000, filter = "(ember.codec=pickle)") Codec pickle,
            @InjectService(timeout = 5000, filter = "(ember.codec=json)") Codec json) throws Exception {
        String python = System.getProperty("ember.python");
        byte[] command = command(python);
        Path file = dir.resolve("more.json");
        Files.writeString(file, "1\n2\n3\n");
        // A second provider of "json" (delegating to the first), ranked higher, then taken away again.
        Codec second = (Codec) java.lang.reflect.Proxy.newProxyInstance(Codec.class.getClassLoader(),
                new Class<?>[] {Codec.class}, (proxy, method, args) -> method.invoke(json, args));
        java.util.Hashtable<String, Object> properties = new java.util.Hashtable<>();
        properties.put(Codec.NAME_PROPERTY, "json");
        properties.put(org.osgi.framework.Constants.SERVICE_RANKING, 5);
        org.osgi.framework.ServiceRegistration<Codec> registration =
                context.registerService(Codec.class, second, properties);
        try (EngineSession session = engine.openSession(
                new SessionConfig("two-codecs", 2, python, Map.of("PYTHONHASHSEED", "0"), 1))) {
            Thread.sleep(100); // the engine binds it dynamically
            assertEquals(List.of(1, 2, 3), run(session, jsonJob(session, file, command), pickle));
            registration.unregister();
            registration = null;
            Thread.sleep(100);
            assertEquals(List.of(1, 2, 3), run(session, jsonJob(session, file, command), pickle),
                    "the first provider serves again");
        } finally {
            if (registration != null) {
                registration.unregister();
            }
        }
    }

    private static JobPlan jsonJob(EngineSession session, Path file, byte[] command) throws IOException {
        int input = session.openFiles(file.toString(), 1, "json", Map.of());
        int splits = session.fileSplits(input).size();
        return new JobPlan(List.of(new StagePlan(0, "ident", command, List.of(InputSegment.files(input, splits)),
                StageOutput.result(), List.of(), "pickle", "pickle")), range(splits), null);
    }

    private void awaitCodec(String name) throws Exception {
        ServiceTracker<Codec, Codec> tracker = new ServiceTracker<>(context,
                context.createFilter("(&(objectClass=" + Codec.class.getName() + ")(ember.codec=" + name + "))"),
                null);
        tracker.open();
        try {
            assertTrue(tracker.waitForService(10_000) != null, "codec " + name + " registered");
        } finally {
            tracker.close();
        }
        // The engine binds it dynamically, a moment after registration.
        Thread.sleep(100);
    }

    private static List<Object> run(EngineSession session, JobPlan plan, Codec pickle) throws Exception {
        JobHandle job = session.submit(plan, JobListener.NONE);
        List<Object> records = new ArrayList<>();
        for (int position = 0; position < job.resultCount(); position++) {
            for (byte[] frame : job.awaitResult(position)) {
                records.addAll(pickle.decode(frame));
            }
        }
        job.awaitAccumulatorUpdates();
        return records;
    }

    private static int[] range(int count) {
        int[] all = new int[count];
        Arrays.setAll(all, i -> i);
        return all;
    }

    private static byte[] command(String python) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(python, "-c", IDENTITY_SCRIPT).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0, output);
        return Base64.getDecoder().decode(output.trim());
    }
}
