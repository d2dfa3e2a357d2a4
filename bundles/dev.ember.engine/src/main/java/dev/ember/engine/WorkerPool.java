package dev.ember.engine;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.ember.api.WorkerChannel;
import dev.ember.api.WorkerInfo;
import dev.ember.api.WorkerSpec;
import dev.ember.api.WorkerTransport;

/**
 * Python workers kept between tasks, keyed by session (drivers never share a worker process, so one driver's code
 * and broadcasts never meet another's), by how they were started and by which transport reaches them. A worker that
 * finished a task cleanly goes back to the pool; one whose channel broke is closed.
 */
final class WorkerPool {

    /** How many command blobs the JVM assumes a worker still holds; the worker keeps more (see ember.worker). */
    static final int KNOWN_COMMANDS = 32;

    static final class PooledWorker {
        final String sessionId;
        final WorkerChannel channel;
        final WorkerTransport transport;
        final WorkerSpec spec;
        /** Broadcast variables this worker holds; only the thread running its task touches this. */
        final Set<Integer> knownBroadcasts = new HashSet<>();
        private final Map<String, Boolean> knownCommands = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > KNOWN_COMMANDS;
            }
        };
        long idleSince;
        int tasksServed;
        /** The resident memory, in bytes, at which the memory guard stopped this worker; 0 if it did not. */
        volatile long stoppedAtRss;

        PooledWorker(String sessionId, WorkerChannel channel, WorkerTransport transport, WorkerSpec spec) {
            this.sessionId = sessionId;
            this.channel = channel;
            this.transport = transport;
            this.spec = spec;
        }

        /** Records that the worker is about to get this command; returns whether it must be sent. */
        boolean needsCommand(String commandId) {
            return knownCommands.put(commandId, Boolean.TRUE) == null;
        }

        void forgetCommand(String commandId) {
            knownCommands.remove(commandId);
        }
    }

    private final Deque<PooledWorker> idle = new ArrayDeque<>();
    private final Set<PooledWorker> busy = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<WorkerTransport> retired = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<String> retiredSessions = new HashSet<>();
    private boolean closed;

    /** Takes an idle worker that matches, or starts a new one through the transport. */
    PooledWorker acquire(String sessionId, WorkerSpec spec, WorkerTransport transport) throws IOException {
        List<PooledWorker> dead = new ArrayList<>();
        PooledWorker found = null;
        synchronized (this) {
            if (closed) {
                throw new IOException("the engine is stopping");
            }
            for (Iterator<PooledWorker> it = idle.iterator(); it.hasNext();) {
                PooledWorker candidate = it.next();
                if (!candidate.channel.isAlive()) {
                    it.remove();
                    dead.add(candidate);
                } else if (candidate.transport == transport && candidate.sessionId.equals(sessionId)
                        && candidate.spec.equals(spec)) {
                    it.remove();
                    found = candidate;
                    break;
                }
            }
            if (found != null) {
                busy.add(found);
            }
        }
        dead.forEach(worker -> worker.channel.close());
        if (found != null) {
            return found;
        }
        PooledWorker started = new PooledWorker(sessionId, transport.open(spec), transport, spec);
        synchronized (this) {
            if (!closed && !retired.contains(transport)) {
                busy.add(started);
                return started;
            }
        }
        started.channel.close();
        throw new IOException("transport '" + transport.name() + "' went away while a worker was starting");
    }

    /** Returns a worker after a task; a worker that is not reusable is closed. */
    void release(PooledWorker worker, boolean reusable) {
        boolean keep;
        synchronized (this) {
            busy.remove(worker);
            keep = reusable && !closed && !retired.contains(worker.transport)
                    && !retiredSessions.contains(worker.sessionId) && worker.channel.isAlive();
            if (keep) {
                worker.tasksServed++;
                worker.idleSince = System.currentTimeMillis();
                idle.addFirst(worker);
            }
        }
        if (!keep) {
            worker.channel.close();
        }
    }

    /** A transport is going away: close its idle workers now and its busy ones when their task ends. */
    void retire(WorkerTransport transport) {
        List<PooledWorker> toClose = new ArrayList<>();
        synchronized (this) {
            retired.add(transport);
            idle.removeIf(worker -> worker.transport == transport && toClose.add(worker));
        }
        toClose.forEach(worker -> worker.channel.close());
    }

    synchronized boolean isRetired(WorkerTransport transport) {
        return retired.contains(transport);
    }

    /** A session closed: its idle workers stop now, its busy ones when their task ends. */
    void retireSession(String sessionId) {
        List<PooledWorker> toClose = new ArrayList<>();
        synchronized (this) {
            retiredSessions.add(sessionId);
            idle.removeIf(worker -> worker.sessionId.equals(sessionId) && toClose.add(worker));
        }
        toClose.forEach(worker -> worker.channel.close());
    }

    void stopIdleLongerThan(long millis) {
        long cutoff = System.currentTimeMillis() - millis;
        List<PooledWorker> toClose = new ArrayList<>();
        synchronized (this) {
            idle.removeIf(worker -> worker.idleSince < cutoff && toClose.add(worker));
        }
        toClose.forEach(worker -> worker.channel.close());
    }

    synchronized List<WorkerInfo> snapshot() {
        long now = System.currentTimeMillis();
        List<WorkerInfo> workers = new ArrayList<>();
        for (PooledWorker worker : busy) {
            workers.add(new WorkerInfo(worker.channel.pid(), worker.transport.name(), worker.sessionId,
                    worker.tasksServed, true, 0));
        }
        for (PooledWorker worker : idle) {
            workers.add(new WorkerInfo(worker.channel.pid(), worker.transport.name(), worker.sessionId,
                    worker.tasksServed, false, now - worker.idleSince));
        }
        workers.sort(java.util.Comparator.comparingLong(WorkerInfo::pid));
        return workers;
    }

    void closeAll() {
        List<PooledWorker> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(idle);
            toClose.addAll(busy);
            idle.clear();
            busy.clear();
        }
        toClose.parallelStream().forEach(worker -> worker.channel.close());
    }
}
