package dev.ember.api.engine;

/**
 * A running job, as the shell and status calls show it.
 *
 * @param jobId      the job's id
 * @param sessionId  the session that submitted it
 * @param jobGroup   its job group, or null
 * @param stage      the index of the stage running now (0-based)
 * @param stageCount how many stages the plan has
 * @param tasksDone  tasks of the running stage that finished
 * @param tasksTotal tasks of the running stage
 * @param callSite   where the driver's program asked for it ({@link JobPlan#callSite()}), or null
 */
public record JobInfo(int jobId, String sessionId, String jobGroup, int stage, int stageCount, int tasksDone,
        int tasksTotal, String callSite) {

    /** A job whose call site is not known. */
    public JobInfo(int jobId, String sessionId, String jobGroup, int stage, int stageCount, int tasksDone,
            int tasksTotal) {
        this(jobId, sessionId, jobGroup, stage, stageCount, tasksDone, tasksTotal, null);
    }
}
