package dev.ember.transport.pipe;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import dev.ember.api.worker.WorkerChannel;
import dev.ember.api.worker.WorkerSpec;
import dev.ember.api.worker.WorkerTransport;
import dev.ember.transport.common.ChannelRegistry;
import dev.ember.transport.common.ChildProcesses;
import dev.ember.transport.common.OutputTail;
import dev.ember.transport.common.StreamWorkerChannel;

/**
 * Reaches each Python worker through its own stdin and stdout: no sockets at all. Every worker is a child process
 * of the JVM; its stderr (where the worker also sends anything user code prints) is drained separately.
 */
@Component(property = { WorkerTransport.NAME_PROPERTY + "=" + PipeWorkerTransport.NAME, "service.ranking:Integer=5" })
public final class PipeWorkerTransport implements WorkerTransport {

    static final String NAME = "pipe";

    private final ChannelRegistry channels = new ChannelRegistry();

    @Deactivate
    void deactivate() {
        channels.closeAll();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public WorkerChannel open(WorkerSpec spec) throws IOException {
        Process process = ChildProcesses.startPython(spec, "ember.worker", Map.of("EMBER_WORKER_TRANSPORT", NAME),
                false);
        OutputTail stderr = new OutputTail(process.getErrorStream(), "[python " + process.pid() + "] ",
                "ember-pipe-stderr-" + process.pid(), false);
        process.onExit().thenAccept(ended -> {
            int code = ended.exitValue();
            if (code > 128) {
                stderr.note("worker " + ended.pid() + " was killed by signal " + (code - 128));
            } else if (code != 0) {
                stderr.note("worker " + ended.pid() + " exited with code " + code);
            }
        });
        InputStream fromWorker = process.getInputStream();
        OutputStream toWorker = process.getOutputStream();
        try {
            // The worker's first word is its pid: proof that it started and owns its stdout.
            int pid = new java.io.DataInputStream(fromWorker).readInt();
            if (pid != process.pid()) {
                throw new IOException("worker announced pid " + pid + " but is process " + process.pid());
            }
        } catch (IOException e) {
            process.destroyForcibly();
            waitBriefly(process);
            throw new IOException("the Python worker did not start: " + e.getMessage()
                    + ChildProcesses.describeExit(process.toHandle(), process.isAlive() ? null : process.exitValue(),
                            stderr.lines()), e);
        }
        return channels.track(new StreamWorkerChannel(NAME, process.pid(), fromWorker, toWorker, () -> {
            toWorker.close();
            fromWorker.close();
        }, stderr::lines));
    }


    private static void waitBriefly(Process process) {
        try {
            process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
