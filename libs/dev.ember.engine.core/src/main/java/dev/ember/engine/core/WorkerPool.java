package dev.ember.engine.core;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import dev.ember.api.worker.WorkerChannel;
import dev.ember.api.worker.WorkerInfo;
import dev.ember.api.worker.WorkerSpec;
import dev.ember.api.worker.WorkerTransport;

/**
 * Python workers kept between tasks, keyed by session (drivers never share a worker process, so one driver's code
 * and broadcasts never meet another's), by how they were started and by which transport reaches them. A worker that
 * finished a task cleanly goes back to the pool; one whose channel broke is closed.
 */
public final class WorkerPool {

    private static final System.Logger LOG = System.getLogger(WorkerPool.class.getName());

    /** How many command blobs the JVM assumes a worker still holds; the worker keeps more (see ember.worker). */
    static final int KNOWN_COMMANDS = 32;

    public static final class PooledWorker {
        final String sessionId;
        public final WorkerChannel channel;
        public final WorkerTransport transport;
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
        public volatile long stoppedAtRss;
        /** Since when (System.nanoTime) the worker's process has been seen stopped; 0 while it runs. */
        volatile long stoppedSince;
        /** How many seconds the worker had been stopped when the guard killed it; 0 if it did not. */
        public volatile long killedAfterStoppedSeconds;

        public PooledWorker(String sessionId, WorkerChannel channel, WorkerTransport transport, WorkerSpec spec) {
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
    /** Per session: workers being started ahead of its tasks ({@link #warm}), and tasks waiting for one of them. */
    private final Map<String, int[]> warming = new HashMap<>();
    private boolean closed;

    /** The longest a task waits for a worker being started ahead of it before it starts one of its own. */
    private static final long WARM_WAIT_MILLIS = TimeUnit.SECONDS.toMillis(30);

    /**
     * Starts {@code count} workers for a session before its first task asks, on the given threads, and keeps them
     * idle for it. A task that finds none idle while some are on their way waits for one instead of starting another,
     * so the session's first job does not pay for forking and connecting its workers. A worker that cannot be
     * started here is only logged: the task that needs it starts its own and reports the failure.
     */
    public void warm(String sessionId, WorkerSpec spec, WorkerTransport transport, int count, Executor threads) {
        synchronized (this) {
            if (closed || count <= 0 || retired.contains(transport) || retiredSessions.contains(sessionId)) {
                return;
            }
            warming.computeIfAbsent(sessionId, id -> new int[2])[0] += count;
        }
        for (int i = 0; i < count; i++) {
            threads.execute(() -> {
                PooledWorker started = null;
                try {
                    started = new PooledWorker(sessionId, transport.open(spec), transport, spec);
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "could not start a worker ahead of session {0}''s tasks: {1}",
                            sessionId, e.getMessage());
                }
                synchronized (this) {
                    int[] counts = warming.get(sessionId);
                    if (counts != null && --counts[0] <= 0 && counts[1] == 0) {
                        warming.remove(sessionId);
                    }
                    if (started != null && !closed && !retired.contains(transport)
                            && !retiredSessions.contains(sessionId)) {
                        started.idleSince = System.currentTimeMillis();
                        idle.addFirst(started);
                        started = null;
                    }
                    notifyAll();
                }
                if (started != null) {
                    started.channel.close();
                }
            });
        }
    }

    /** Takes an idle worker that matches, or starts a new one through the transport. */
    public PooledWorker acquire(String sessionId, WorkerSpec spec, WorkerTransport transport) throws IOException {
        List<PooledWorker> dead = new ArrayList<>();
        PooledWorker found = null;
        synchronized (this) {
            long deadline = System.currentTimeMillis() + WARM_WAIT_MILLIS;
            while (true) {
                if (closed) {
                    throw new IOException("the engine is stopping");
                }
                found = takeIdle(sessionId, spec, transport, dead);
                int[] counts = warming.get(sessionId);
                long left = deadline - System.currentTimeMillis();
                // Wait only for a worker on its way that no other waiting task will take.
                if (found != null || counts == null || counts[0] <= counts[1] || left <= 0) {
                    break;
                }
                counts[1]++;
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for a worker", e);
                } finally {
                    counts[1]--;
                    if (counts[0] <= 0 && counts[1] == 0) {
                        warming.remove(sessionId, counts);
                    }
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

    /** Removes and returns an idle worker that fits; dead idle workers found on the way go to {@code dead}. */
    private PooledWorker takeIdle(String sessionId, WorkerSpec spec, WorkerTransport transport,
            List<PooledWorker> dead) {
        for (Iterator<PooledWorker> it = idle.iterator(); it.hasNext();) {
            PooledWorker candidate = it.next();
            if (!candidate.channel.isAlive()) {
                it.remove();
                dead.add(candidate);
            } else if (candidate.transport == transport && candidate.sessionId.equals(sessionId)
                    && candidate.spec.equals(spec)) {
                it.remove();
                return candidate;
            }
        }
        return null;
    }

    /** Returns a worker after a task; a worker that is not reusable is closed. */
    public void release(PooledWorker worker, boolean reusable) {
        boolean keep;
        synchronized (this) {
            busy.remove(worker);
            // Not asked whether its process is alive: it has just answered, and takeIdle asks before reuse.
            keep = reusable && !closed && !retired.contains(worker.transport)
                    && !retiredSessions.contains(worker.sessionId);
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
    public void retire(WorkerTransport transport) {
        List<PooledWorker> toClose = new ArrayList<>();
        synchronized (this) {
            retired.add(transport);
            idle.removeIf(worker -> worker.transport == transport && toClose.add(worker));
        }
        toClose.forEach(worker -> worker.channel.close());
    }

    public synchronized boolean isRetired(WorkerTransport transport) {
        return retired.contains(transport);
    }

    /** A session closed: its idle workers stop now, its busy ones when their task ends. */
    public void retireSession(String sessionId) {
        List<PooledWorker> toClose = new ArrayList<>();
        synchronized (this) {
            retiredSessions.add(sessionId);
            idle.removeIf(worker -> worker.sessionId.equals(sessionId) && toClose.add(worker));
        }
        toClose.forEach(worker -> worker.channel.close());
    }

    public void stopIdleLongerThan(long millis) {
        long cutoff = System.currentTimeMillis() - millis;
        List<PooledWorker> toClose = new ArrayList<>();
        synchronized (this) {
            idle.removeIf(worker -> worker.idleSince < cutoff && toClose.add(worker));
        }
        toClose.forEach(worker -> worker.channel.close());
    }

    public synchronized List<WorkerInfo> snapshot() {
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

    public void closeAll() {
        List<PooledWorker> toClose;
        synchronized (this) {
            closed = true;
            notifyAll();
            toClose = new ArrayList<>(idle);
            toClose.addAll(busy);
            idle.clear();
            busy.clear();
        }
        toClose.parallelStream().forEach(worker -> worker.channel.close());
    }
}
