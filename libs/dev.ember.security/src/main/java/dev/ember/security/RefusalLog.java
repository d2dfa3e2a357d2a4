package dev.ember.security;

import java.util.function.Consumer;

/**
 * Logs refused connections (wrong secret, oversized or slow handshakes) without letting a flood of them flood the
 * log: the first refusal of an interval is logged with what was suppressed since the last line, the rest only
 * counted.
 */
public final class RefusalLog {

    private final String what;
    private final long intervalNanos;
    private final Consumer<String> warn;
    private long total;
    private long suppressed;
    private long lastLogged = Long.MIN_VALUE;

    /**
     * @param what     what refuses, for the log line ("side socket", "gateway", ...)
     * @param interval seconds between log lines at most
     * @param warn     writes one line at WARN
     */
    public RefusalLog(String what, int interval, Consumer<String> warn) {
        this.what = what;
        this.intervalNanos = interval * 1_000_000_000L;
        this.warn = warn;
    }

    /** Counts a refusal and logs it unless a line went out less than an interval ago. */
    public void refused(String reason) {
        String line;
        synchronized (this) {
            total++;
            long now = System.nanoTime();
            if (lastLogged != Long.MIN_VALUE && now - lastLogged < intervalNanos) {
                suppressed++;
                return;
            }
            line = what + ": refused a connection: " + reason + " (" + total + " refused so far"
                    + (suppressed > 0 ? ", " + suppressed + " more since the last of these lines" : "") + ")";
            suppressed = 0;
            lastLogged = now;
        }
        warn.accept(line);
    }

    public synchronized long total() {
        return total;
    }
}
