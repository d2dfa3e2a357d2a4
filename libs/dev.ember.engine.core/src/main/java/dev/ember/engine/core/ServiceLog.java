package dev.ember.engine.core;

import dev.ember.api.engine.SessionConfig;

/**
 * The lines a scheduler writes at INFO for operators of a service: a session opening and closing, and each job's
 * end with its call site and duration or cause. Text a driver supplied (its application name, a job's call site) is
 * cut short and stripped of control characters, so it can neither forge log lines nor flood the log.
 */
public final class ServiceLog {

    /** The most characters of driver-supplied text a line shows. */
    static final int MAX_TEXT = 200;

    private ServiceLog() {
    }

    /** {@code session s2 opened (app wordcount, driver pid 4242)}; {@code what} is "opened" or "closed". */
    public static String session(String id, String what, SessionConfig config) {
        return "session " + id + " " + what + " (app " + clean(config.appName()) + ", driver pid "
                + (config.driverPid() > 0 ? Long.toString(config.driverPid()) : "unknown") + ")";
    }

    /** {@code job 7 (collect at wordcount.py:12) succeeded in 0.42 s}. */
    public static String succeeded(int jobId, String callSite, long nanos) {
        return job(jobId, callSite) + " succeeded in " + seconds(nanos) + " s";
    }

    /** {@code job 7 (collect at wordcount.py:12) failed: CAUSE}, the cause in one line (see {@link #summary}). */
    public static String failed(int jobId, String callSite, String message) {
        return job(jobId, callSite) + " failed: " + summary(message);
    }

    private static String job(int jobId, String callSite) {
        return callSite == null || callSite.isBlank() ? "job " + jobId : "job " + jobId + " (" + clean(callSite) + ")";
    }

    /** Seconds with two decimals, rounded half up: 0.00 for 4 ms, 1.23 for 1234.5 ms. */
    static String seconds(long nanos) {
        long centis = (Math.max(0, nanos) + 5_000_000) / 10_000_000;
        long fraction = centis % 100;
        return centis / 100 + (fraction < 10 ? ".0" : ".") + fraction;
    }

    /**
     * A failure's message in one line: its first line, and when that announces more (it ends with ':', as "... failed
     * in Python:" before a traceback) the last non-blank line after it, which names the exception.
     */
    static String summary(String message) {
        if (message == null || message.isBlank()) {
            return "(no message)";
        }
        String text = message.strip();
        int newline = text.indexOf('\n');
        if (newline < 0) {
            return clean(text);
        }
        String first = text.substring(0, newline).strip();
        if (!first.endsWith(":")) {
            return clean(first);
        }
        String rest = text.substring(newline + 1).stripTrailing();
        String last = rest.substring(rest.lastIndexOf('\n') + 1).strip();
        return clean(last.isEmpty() ? first : first + " " + last);
    }

    /** At most {@link #MAX_TEXT} characters, control characters (line breaks too) shown as '?'. */
    public static String clean(String text) {
        if (text == null) {
            return "";
        }
        int length = Math.min(text.length(), MAX_TEXT);
        StringBuilder out = new StringBuilder(length + 1);
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        if (text.length() > MAX_TEXT) {
            out.append('…');
        }
        return out.toString();
    }
}
