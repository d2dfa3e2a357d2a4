package dev.ember.engine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ember.api.engine.SessionConfig;

/** The lines a scheduler logs for operators: sessions opening and closing, each job's end. */
class ServiceLogTest {

    private static SessionConfig driver(String appName, long pid) {
        return new SessionConfig(appName, 2, "python3", Map.of(), 1, 0, "local[2]", Map.of(), pid);
    }

    @Test
    void sessionsNameTheirAppAndDriver() {
        assertEquals("session s3 opened (app wordcount, driver pid 4242)",
                ServiceLog.session("s3", "opened", driver("wordcount", 4242)));
        assertEquals("session s3 closed (app wordcount, driver pid unknown)",
                ServiceLog.session("s3", "closed", driver("wordcount", 0)));
    }

    @Test
    void aJobsEndShowsItsCallSiteAndDurationInSeconds() {
        assertEquals("job 7 (collect at wordcount.py:12) succeeded in 0.42 s",
                ServiceLog.succeeded(7, "collect at wordcount.py:12", 420_000_000L));
        assertEquals("job 8 succeeded in 1.00 s", ServiceLog.succeeded(8, null, 999_999_999L));
        assertEquals("job 9 succeeded in 0.00 s", ServiceLog.succeeded(9, " ", 4_000_000L));
    }

    @Test
    void secondsAreRoundedToHundredths() {
        assertEquals("0.00", ServiceLog.seconds(0));
        assertEquals("0.01", ServiceLog.seconds(5_000_000L));
        assertEquals("0.05", ServiceLog.seconds(54_999_999L));
        assertEquals("12.35", ServiceLog.seconds(12_345_000_000L));
        assertEquals("0.00", ServiceLog.seconds(-3));
    }

    @Test
    void aFailureIsOneLineNamingTheExceptionOfAPythonTraceback() {
        String traceback = "Task for partition 1 of stage 0 (job 3) failed in Python:\n"
                + "Traceback (most recent call last):\n  File \"x.py\", line 3, in f\n    1 / 0\n"
                + "ZeroDivisionError: division by zero\n";
        assertEquals("job 3 (count at x.py:9) failed: Task for partition 1 of stage 0 (job 3) failed in Python: "
                + "ZeroDivisionError: division by zero", ServiceLog.failed(3, "count at x.py:9", traceback));
        assertEquals("job 4 failed: job 4 was cancelled: by the driver",
                ServiceLog.failed(4, null, "job 4 was cancelled: by the driver\nmore detail"));
        assertEquals("job 5 failed: (no message)", ServiceLog.failed(5, null, null));
    }

    @Test
    void driverTextCannotForgeLinesOrFloodTheLog() {
        assertEquals("session s1 opened (app evil?2026-01-01 ERROR forged, driver pid 1)",
                ServiceLog.session("s1", "opened", driver("evil\n2026-01-01 ERROR forged", 1)));
        String cleaned = ServiceLog.clean("x".repeat(500));
        assertEquals(ServiceLog.MAX_TEXT + 1, cleaned.length());
        assertEquals('…', cleaned.charAt(ServiceLog.MAX_TEXT));
    }
}
