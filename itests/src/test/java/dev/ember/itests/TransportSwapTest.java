package dev.ember.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

import dev.ember.api.codec.Codec;
import dev.ember.api.engine.Engine;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobInfo;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;
import dev.ember.api.worker.WorkerPoolStatus;

/**
 * Runs a real job through the engine and real Python workers while transport bundles are stopped, started,
 * uninstalled and installed again under it: every record and every accumulator update arrives exactly once.
 */
@ExtendWith({ BundleContextExtension.class, ServiceExtension.class })
class TransportSwapTest {

    private static final int PARTITIONS = 120;
    private static final int PER_PARTITION = 10;

    /** A task that sleeps a little, adds each record to accumulator 1 and returns it doubled. */
    private static final String COMMAND_SCRIPT = String.join("\n",
            "import base64, pickle, sys, time, cloudpickle",
            "from ember.shared import StageCommand, Accumulator, INT_ACCUMULATOR_PARAM, command_blob",
            "acc = Accumulator(1, 0, INT_ACCUMULATOR_PARAM)",
            "def double(split, it):",
            "    time.sleep(0.05)",
            "    for x in it:",
            "        acc.add(x)",
            "        yield x * 2",
            "blob = command_blob(cloudpickle.dumps(StageCommand(double)))",
            "sys.stdout.write(base64.b64encode(blob).decode())");

    @InjectBundleContext
    BundleContext context;

    @Test
    void aJobKeepsGoingWhileTransportsComeAndGo(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine,
            @InjectService(timeout = 5000) WorkerPoolStatus pool,
            @InjectService(timeout = 5000, filter = "(ember.codec=pickle)") Codec codec) throws Exception {
        String python = python();
        byte[] command = command(python);
        try (EngineSession session = engine.openSession(
                new SessionConfig("swap", 2, python, Map.of("PYTHONHASHSEED", "0"), 4))) {
            List<List<byte[]>> input = new ArrayList<>();
            List<Long> expected = new ArrayList<>();
            long expectedSum = 0;
            for (int p = 0; p < PARTITIONS; p++) {
                List<Integer> records = new ArrayList<>();
                for (int i = 0; i < PER_PARTITION; i++) {
                    int x = p * PER_PARTITION + i;
                    records.add(x);
                    expected.add(2L * x);
                    expectedSum += x;
                }
                input.add(List.of(codec.encode(records)));
            }
            int dataset = session.storeDataset(input);
            StagePlan stage = new StagePlan(0, "swap", command, List.of(InputSegment.dataset(dataset, PARTITIONS)),
                    StageOutput.result(), List.of(), "pickle", "pickle");
            int[] all = new int[PARTITIONS];
            Arrays.setAll(all, i -> i);
            assertEquals("uds", pool.activeTransport(), "with all three installed, the highest ranked wins");

            JobHandle job = session.submit(new JobPlan(List.of(stage), all, null), JobListener.NONE);
            Bundle uds = bundle("dev.ember.transport.uds");
            Bundle tcp = bundle("dev.ember.transport.tcp");
            Bundle pipe = bundle("dev.ember.transport.pipe");

            awaitProgress(engine, job, 8);
            uds.stop();
            assertEquals("tcp", pool.activeTransport());
            awaitProgress(engine, job, 24);
            tcp.stop();
            assertEquals("pipe", pool.activeTransport());
            awaitProgress(engine, job, 40);
            uds.start();
            awaitTrue(() -> "uds".equals(pool.activeTransport()), "uds back after start");
            awaitProgress(engine, job, 56);
            String pipeLocation = pipe.getLocation();
            pipe.uninstall();
            Bundle reinstalled = context.installBundle(pipeLocation);
            reinstalled.start();
            tcp.start();
            assertEquals("uds", pool.activeTransport(), "installing lower-ranked transports changes nothing");
            assertTrue(engine.jobs().stream().anyMatch(info -> info.jobId() == job.jobId()),
                    "the job was still running when the last swap happened");

            List<Long> results = new ArrayList<>();
            for (int position = 0; position < PARTITIONS; position++) {
                for (byte[] frame : job.awaitResult(position)) {
                    for (Object value : codec.decode(frame)) {
                        results.add(((Number) value).longValue());
                    }
                }
            }
            assertEquals(expected, results, "every record exactly once, in partition order");
            long accumulated = 0;
            for (byte[] update : job.awaitAccumulatorUpdates()) {
                for (Object map : codec.decode(update)) {
                    for (Object value : ((Map<?, ?>) map).values()) {
                        accumulated += ((Number) value).longValue();
                    }
                }
            }
            assertEquals(expectedSum, accumulated, "accumulator updates of successful attempts only");
        }
    }

    @Test
    void theEngineReportsJobStageAndTaskEventsToTheListener(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine,
            @InjectService(timeout = 5000, filter = "(ember.codec=pickle)") Codec codec) throws Exception {
        String python = python();
        byte[] command = command(python);
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        JobListener recorder = new JobListener() {
            @Override
            public void onJobStart(int jobId, int stageCount) {
                events.add("job-start " + stageCount);
            }

            @Override
            public void onStageStart(int jobId, int stageId, int taskCount) {
                events.add("stage-start " + stageId + " " + taskCount);
            }

            @Override
            public void onTaskStart(int jobId, int stageId, int partition, int attempt) {
                events.add("task-start " + partition);
            }

            @Override
            public void onTaskEnd(int jobId, int stageId, int partition, boolean succeeded) {
                events.add("task-end " + partition + " " + succeeded);
            }

            @Override
            public void onStageEnd(int jobId, int stageId, boolean succeeded) {
                events.add("stage-end " + stageId + " " + succeeded);
            }

            @Override
            public void onJobEnd(int jobId, boolean succeeded) {
                events.add("job-end " + succeeded);
            }
        };
        try (EngineSession session = engine.openSession(
                new SessionConfig("events", 2, python, Map.of("PYTHONHASHSEED", "0"), 1))) {
            int dataset = session.storeDataset(List.of(List.of(codec.encode(List.of(1, 2))),
                    List.of(codec.encode(List.of(3))), List.of(codec.encode(List.of()))));
            StagePlan stage = new StagePlan(0, "events", command, List.of(InputSegment.dataset(dataset, 3)),
                    StageOutput.result(), List.of(), "pickle", "pickle");
            JobHandle job = session.submit(new JobPlan(List.of(stage), new int[] { 0, 1, 2 }, null), recorder);
            job.awaitAccumulatorUpdates();
            awaitTrue(() -> events.contains("job-end true"), "the job's end event");
        }
        assertEquals("job-start 1", events.get(0));
        assertEquals("stage-start 0 3", events.get(1));
        for (int partition = 0; partition < 3; partition++) {
            assertTrue(events.contains("task-start " + partition), events.toString());
            assertTrue(events.contains("task-end " + partition + " true"), events.toString());
        }
        assertEquals(List.of("stage-end 0 true", "job-end true"), events.subList(events.size() - 2, events.size()));
        assertEquals(10, events.size(), events.toString());
    }

    private static String python() {
        String python = System.getProperty("ember.python");
        assertTrue(python != null && Files.isExecutable(Path.of(python)),
                "ember.python must name a Python with the ember client (run ./scripts/make-venv.sh): " + python);
        return python;
    }

    private static byte[] command(String python) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(python, "-c", COMMAND_SCRIPT).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0, output);
        return Base64.getDecoder().decode(output.trim());
    }

    private static void awaitProgress(Engine engine, JobHandle job, int tasksDone) throws InterruptedException {
        awaitTrue(() -> engine.jobs().stream().filter(info -> info.jobId() == job.jobId())
                .mapToInt(JobInfo::tasksDone).max().orElse(Integer.MAX_VALUE) >= tasksDone,
                "job reached " + tasksDone + " tasks");
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!condition.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting: " + what);
            Thread.sleep(10);
        }
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }
}
