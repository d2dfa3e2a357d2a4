package dev.ember.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

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
import dev.ember.api.worker.WorkerChannel;
import dev.ember.api.worker.WorkerSpec;
import dev.ember.api.worker.WorkerTransport;

/**
 * Transports that misbehave in ways a real one might (issue 18): the engine must fail the job, clearly, instead of
 * waiting for ever or blaming a worker that was never there.
 */
@ExtendWith({ BundleContextExtension.class, ServiceExtension.class })
class FaultyTransportTest {

    @InjectBundleContext
    BundleContext context;

    private ServiceRegistration<WorkerTransport> install(WorkerTransport transport) throws InterruptedException {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(WorkerTransport.NAME_PROPERTY, transport.name());
        properties.put(Constants.SERVICE_RANKING, 1000); // above every real transport: the engine switches to it
        ServiceRegistration<WorkerTransport> registration =
                context.registerService(WorkerTransport.class, transport, properties);
        Thread.sleep(200); // the engine binds it dynamically
        return registration;
    }

    /** Runs a one-task job that needs no Python (the worker is never reached) and waits at most 60 s for it. */
    private static JobFailedException failureOf(Engine engine) throws Exception {
        try (EngineSession session = engine.openSession(new SessionConfig("faulty", 1, "python3", Map.of(), 1))) {
            JobPlan plan = new JobPlan(List.of(new StagePlan(0, "never-run", new byte[0],
                    List.of(InputSegment.empty(1)), StageOutput.result(), List.of(), "pickle", "pickle")),
                    new int[] {0}, null);
            JobHandle job = session.submit(plan, JobListener.NONE);
            CompletableFuture<Object> result = CompletableFuture.supplyAsync(() -> {
                try {
                    return job.awaitResult(0);
                } catch (JobFailedException e) {
                    return e;
                } catch (InterruptedException e) {
                    return e;
                }
            });
            Object outcome = result.get(60, TimeUnit.SECONDS); // a TimeoutException here is the hang of old
            assertTrue(outcome instanceof JobFailedException, String.valueOf(outcome));
            return (JobFailedException) outcome;
        }
    }

    @Test
    void aTransportWhoseOpenThrowsAnUncheckedExceptionFailsTheJobInsteadOfHangingIt(
            @InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine) throws Exception {
        AtomicInteger opened = new AtomicInteger();
        ServiceRegistration<WorkerTransport> registration = install(new WorkerTransport() {
            @Override
            public String name() {
                return "throwing";
            }

            @Override
            public WorkerChannel open(WorkerSpec spec) {
                opened.incrementAndGet();
                throw new NumberFormatException("For input string: \"a warning line\"");
            }
        });
        try {
            JobFailedException failure = failureOf(engine);
            assertEquals(JobFailedException.Kind.WORKER_LOST, failure.kind());
            assertTrue(failure.getMessage().contains("could not start a worker through transport 'throwing'")
                    && failure.getMessage().contains("a warning line"), failure.getMessage());
            assertTrue(opened.get() >= 4, "a worker that cannot start is tried again: " + opened.get());
        } finally {
            registration.unregister();
        }
    }

    @Test
    void anEngineErrorDuringATaskFailsTheJobAtOnceAndIsNotCalledALostWorker(
            @InjectService(timeout = 5000, filter = "(ember.engine=local)") Engine engine) throws Exception {
        AtomicInteger opened = new AtomicInteger();
        ServiceRegistration<WorkerTransport> registration = install(new WorkerTransport() {
            @Override
            public String name() {
                return "broken-streams";
            }

            @Override
            public WorkerChannel open(WorkerSpec spec) {
                opened.incrementAndGet();
                return new BrokenChannel();
            }
        });
        try {
            JobFailedException failure = failureOf(engine);
            assertEquals(JobFailedException.Kind.SETUP, failure.kind(), failure.getMessage());
            assertTrue(failure.getMessage().contains("failed inside the engine")
                    && failure.getMessage().contains("the channel broke its contract"), failure.getMessage());
            assertEquals(1, opened.get(), "an engine error is not retried");
        } finally {
            registration.unregister();
        }
    }

    /** A channel whose streams throw an unchecked exception on first use. */
    private static final class BrokenChannel implements WorkerChannel {
        private final DataOutputStream output = new DataOutputStream(new OutputStream() {
            @Override
            public void write(int b) {
                throw new IllegalStateException("the channel broke its contract");
            }
        });

        @Override
        public DataInputStream input() {
            return new DataInputStream(InputStream.nullInputStream());
        }

        @Override
        public DataOutputStream output() {
            return output;
        }

        @Override
        public long pid() {
            return 0;
        }

        @Override
        public String transport() {
            return "broken-streams";
        }

        @Override
        public boolean isAlive() {
            return true;
        }

        @Override
        public String stderrTail() {
            return "";
        }

        @Override
        public void close() {
        }

        @Override
        public void abort() {
        }
    }
}
