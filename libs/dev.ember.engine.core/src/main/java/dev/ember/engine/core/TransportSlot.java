package dev.ember.engine.core;

import java.util.concurrent.TimeUnit;

import dev.ember.api.worker.WorkerTransport;

/**
 * The worker transport a scheduler uses now: set when one is bound (a higher ranked or newly selected one replaces
 * it), cleared when it goes away; a task waits a while for one to come.
 */
public final class TransportSlot {

    private final Object lock = new Object();
    private WorkerTransport transport;

    public void set(WorkerTransport newTransport) {
        synchronized (lock) {
            transport = newTransport;
            lock.notifyAll();
        }
    }

    /** Clears the slot if it holds this transport. */
    public void clear(WorkerTransport oldTransport) {
        synchronized (lock) {
            if (transport == oldTransport) {
                transport = null;
            }
        }
    }

    /** The transport bound now, or null. */
    public WorkerTransport current() {
        synchronized (lock) {
            return transport;
        }
    }

    /** The bound transport, waiting up to this long for one; null if none came. */
    public WorkerTransport await(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (lock) {
            while (transport == null) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return null;
                }
                lock.wait(left);
            }
            return transport;
        }
    }
}
