package dev.ember.api.engine;

import java.time.Instant;

/**
 * An open session, as the shell shows it.
 *
 * @param id          the session's id
 * @param appName     its driver's application name
 * @param driverPid   its driver's process id as the driver reported it, or 0 when unknown
 * @param master      the driver's master URL, or "" when unknown
 * @param openedAt    when it was opened
 * @param runningJobs how many of its jobs are running now
 */
public record SessionInfo(String id, String appName, long driverPid, String master, Instant openedAt,
        int runningJobs) {
}
