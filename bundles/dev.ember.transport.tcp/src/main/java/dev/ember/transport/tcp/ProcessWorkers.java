package dev.ember.transport.tcp;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.ember.api.WorkerChannel;
import dev.ember.api.WorkerSpec;

/** Starts worker processes and remembers the open channels, so that stopping the transport ends every worker. */
final class ProcessWorkers {

    interface Tracked extends WorkerChannel {
        WorkerProcess process();
    }

    private final Set<Tracked> open = ConcurrentHashMap.newKeySet();

    WorkerProcess start(ProcessBuilder builder, WorkerSpec spec) throws IOException {
        builder.redirectErrorStream(true);
        builder.redirectInput(Redirect.PIPE);
        try {
            return new WorkerProcess(builder.start());
        } catch (IOException e) {
            throw new IOException("cannot start Python worker '" + spec.pythonExec() + "': " + e.getMessage()
                    + " (set spark.pyspark.python or PYSPARK_PYTHON to a working interpreter)", e);
        }
    }

    void track(Tracked channel) {
        open.add(channel);
        channel.process().onExit(() -> open.remove(channel));
    }

    void closeAll() {
        List<Tracked> channels = new ArrayList<>(open);
        open.clear();
        channels.parallelStream().forEach(WorkerChannel::close);
    }
}
