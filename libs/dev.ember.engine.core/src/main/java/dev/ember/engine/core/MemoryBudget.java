package dev.ember.engine.core;

import java.util.concurrent.atomic.AtomicLong;

/** Bytes of shuffle and cache data the engine keeps in memory; past the limit, data goes to disk. */
public final class MemoryBudget {

    private final AtomicLong used = new AtomicLong();
    private volatile long limit;

    public MemoryBudget(long limit) {
        this.limit = limit;
    }

    public void setLimit(long limit) {
        this.limit = limit;
    }

    /** Takes {@code bytes} from the budget if they fit; the caller spills otherwise. */
    boolean tryReserve(long bytes) {
        while (true) {
            long current = used.get();
            if (current + bytes > limit) {
                return false;
            }
            if (used.compareAndSet(current, current + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    long used() {
        return used.get();
    }
}
