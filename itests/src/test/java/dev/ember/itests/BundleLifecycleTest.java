package dev.ember.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.osgi.util.tracker.ServiceTracker;

import dev.ember.api.engine.Engine;
import dev.ember.api.engine.EngineSession;
import dev.ember.api.engine.JobFailedException;
import dev.ember.api.engine.JobHandle;
import dev.ember.api.engine.JobListener;
import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.SessionConfig;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;
import dev.ember.api.worker.WorkerTransport;

/** Stops and restarts Ember bundles in the running framework; each test leaves every bundle active again. */
@ExtendWith({ BundleContextExtension.class, ServiceExtension.class })
class BundleLifecycleTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void stoppingTheTransportBundleUnregistersItsServiceAndStartingBringsItBack() throws Exception {
        Bundle tcp = bundle("dev.ember.transport.tcp");
        assertEquals(1, transports("(ember.transport=tcp)").size(), "the TCP transport is registered at first");
        tcp.stop();
        try {
            assertEquals(Bundle.RESOLVED, tcp.getState());
            assertTrue(transports("(ember.transport=tcp)").isEmpty(), "no TCP transport once the bundle is stopped");
        } finally {
            tcp.start();
        }
        assertEquals(1, transports("(ember.transport=tcp)").size(), "registered again after start");
    }

    @Test
    void aJobWithoutATransportWaitsAsConfiguredThenFailsNamingTheBundle(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine,
            @InjectService(timeout = 5000) ConfigurationAdmin configAdmin) throws Exception {
        Configuration engineConfig = configAdmin.getConfiguration("dev.ember.engine", "?");
        engineConfig.update(new Hashtable<>(Map.of("transportWaitSeconds", 1)));
        List<Bundle> transportBundles = Arrays.stream(context.getBundles())
                .filter(b -> b.getSymbolicName().startsWith("dev.ember.transport.")).toList();
        for (Bundle bundle : transportBundles) {
            bundle.stop();
        }
        try (EngineSession session = engine.openSession(new SessionConfig("itest", 1, "python3", Map.of(), 1))) {
            // ConfigAdmin delivers the new setting asynchronously; a job started before it arrives waits longer.
            String message = "";
            for (int attempt = 0; attempt < 5 && !message.contains("(waited 1 s)"); attempt++) {
                Thread.sleep(100);
                JobHandle job = session.submit(trivialPlan(), JobListener.NONE);
                JobFailedException failure = assertThrows(JobFailedException.class, () -> job.awaitResult(0));
                assertEquals(JobFailedException.Kind.SETUP, failure.kind());
                message = failure.getMessage();
            }
            assertTrue(message.contains("dev.ember.transport.tcp"), message);
            assertTrue(message.contains("(waited 1 s)"), message);
        } finally {
            for (Bundle bundle : transportBundles) {
                bundle.start();
            }
            engineConfig.delete();
        }
        assertNotNull(awaitService(WorkerTransport.class));
    }

    @Test
    void aJobWhoseCodecIsMissingFailsNamingTheBundle(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine) throws Exception {
        Bundle codec = bundle("dev.ember.codec.pickle");
        codec.stop();
        try (EngineSession session = engine.openSession(new SessionConfig("itest", 1, "python3", Map.of(), 1))) {
            JobHandle job = session.submit(trivialPlan(), JobListener.NONE);
            JobFailedException failure = assertThrows(JobFailedException.class, () -> job.awaitResult(0));
            assertEquals(JobFailedException.Kind.SETUP, failure.kind());
            assertTrue(failure.getMessage().contains("dev.ember.codec.pickle"), failure.getMessage());
        } finally {
            codec.start();
        }
    }

    @Test
    void aStoredDatasetMustMatchTheStage(@InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine) throws Exception {
        try (EngineSession session = engine.openSession(new SessionConfig("itest", 1, "python3", Map.of(), 1))) {
            int dataset = session.storeDataset(List.of(List.of(new byte[] { 1 }), List.of()));
            StagePlan stage = new StagePlan(0, "c", new byte[0], List.of(InputSegment.dataset(dataset, 3)),
                    StageOutput.result(), List.of(), "pickle", "pickle");
            JobHandle job = session.submit(new JobPlan(List.of(stage), new int[] { 0 }, null), JobListener.NONE);
            JobFailedException failure = assertThrows(JobFailedException.class, () -> job.awaitResult(0));
            assertTrue(failure.getMessage().contains("has 2 partitions"), failure.getMessage());
        }
    }

    private static JobPlan trivialPlan() {
        StagePlan stage = new StagePlan(0, "noop", new byte[0], List.of(InputSegment.empty(1)), StageOutput.result(),
                List.of(), "pickle", "pickle");
        return new JobPlan(List.of(stage), new int[] { 0 }, null);
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }

    private List<ServiceReference<WorkerTransport>> transports(String filter) throws Exception {
        return List.copyOf(context.getServiceReferences(WorkerTransport.class, filter));
    }

    private <T> T awaitService(Class<T> type) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context, type, null);
        tracker.open();
        try {
            return tracker.waitForService(5000);
        } finally {
            tracker.close();
        }
    }
}
