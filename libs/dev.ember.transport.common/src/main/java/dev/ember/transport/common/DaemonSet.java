package dev.ember.transport.common;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.ember.api.worker.WorkerSpec;

/** One running daemon per worker spec (interpreter and environment), started on first use and restarted if it died. */
public final class DaemonSet {

    /** Starts a daemon for a spec. */
    public interface Starter {
        PythonDaemon start(WorkerSpec spec) throws IOException;
    }

    private final Map<WorkerSpec, PythonDaemon> daemons = new HashMap<>();
    private final Starter starter;
    private boolean stopped;

    public DaemonSet(Starter starter) {
        this.starter = starter;
    }

    public synchronized PythonDaemon get(WorkerSpec spec) throws IOException {
        if (stopped) {
            throw new IOException("the transport is stopping");
        }
        PythonDaemon daemon = daemons.get(spec);
        if (daemon == null || !daemon.isAlive()) {
            daemon = starter.start(spec);
            daemons.put(spec, daemon);
        }
        return daemon;
    }

    /** Starts the daemon of a spec on a background thread, unless it runs already; errors surface at get(). */
    public void prepare(WorkerSpec spec) {
        Thread starter = new Thread(() -> {
            try {
                get(spec);
            } catch (IOException | RuntimeException e) {
                // The first open() of this spec tries again and reports what goes wrong.
            }
        }, "ember-daemon-prepare");
        starter.setDaemon(true);
        starter.start();
    }

    public synchronized void stopAll() {
        stopped = true;
        List<PythonDaemon> all = new ArrayList<>(daemons.values());
        daemons.clear();
        all.parallelStream().forEach(PythonDaemon::stop);
    }
}
