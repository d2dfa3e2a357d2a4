package dev.ember.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ember.api.engine.SessionInfo;
import dev.ember.api.monitor.JobStarted;
import dev.ember.api.monitor.StageStarted;
import dev.ember.api.monitor.TaskEnded;
import dev.ember.api.monitor.TaskStarted;

class HistoryTest {

    private static void runJob(History history, String session, int jobId, int stageId, int tasks, boolean ok) {
        history.jobStarted(new JobStarted(session, jobId, null, "count at job" + jobId + ".py:1", 2, 1000L * jobId));
        history.stageStarted(new StageStarted(session, jobId, stageId, "result", tasks, 1000L * jobId));
        for (int p = 0; p < tasks; p++) {
            history.taskStarted(new TaskStarted(session, jobId, stageId, p, 0, 100 + p % 2, "tcp", 1000L * jobId));
            boolean failed = !ok && p == 0;
            history.taskEnded(new TaskEnded(session, jobId, stageId, p, 0, 100 + p % 2, failed ? "FAILED" : "SUCCESS",
                    failed ? "ValueError: boom" : null, 1000L * jobId, 5, 10, 0, 20, 0, 0));
        }
        history.stageEnded(session, stageId, ok, 1000L * jobId + 5);
        history.jobEnded(session, jobId, ok, ok ? null : "Task failed: ValueError: boom", 1000L * jobId + 5);
    }

    @Test
    void countsTasksAndStagesOfAJobAndSkippedStages() {
        History history = new History(10);
        history.sessionOpened(new SessionInfo("s1", "app", 42, "local[2]", Instant.ofEpochMilli(5), 0));
        runJob(history, "s1", 1, 0, 3, true);
        History.JobView job = history.job("s1", 1);
        assertEquals("SUCCEEDED", job.status());
        assertEquals(3, job.numTasks());
        assertEquals(3, job.completedTasks());
        assertEquals(1, job.completedStages());
        assertEquals(1, job.skippedStages(), "the plan had 2 stages and ran 1");
        assertEquals("count at job1.py:1", job.name());
        assertEquals(3, history.stage("s1", 0).tasks().size());
        History.WorkerTotals worker100 = history.workerTotals("s1").get(100L);
        assertEquals(2, worker100.completed(), "partitions 0 and 2 ran on pid 100");
    }

    @Test
    void aFailedJobKeepsItsErrorAndCountsTheFailedTask() {
        History history = new History(10);
        runJob(history, "s1", 1, 0, 2, false);
        History.JobView job = history.job("s1", 1);
        assertEquals("FAILED", job.status());
        assertEquals("Task failed: ValueError: boom", job.error());
        assertEquals(1, job.failedTasks());
        assertEquals(1, job.failedStages());
        assertEquals("ValueError: boom", history.stage("s1", 0).tasks().get(0).end().error());
    }

    @Test
    void onlyTheNewestRetainedJobsAreKeptWithTheirStages() {
        History history = new History(3);
        for (int job = 1; job <= 5; job++) {
            runJob(history, "s1", job, job * 10, 1, true);
        }
        assertEquals(3, history.jobCount());
        assertNull(history.job("s1", 2));
        assertNull(history.stage("s1", 20), "a forgotten job's stages go with it");
        assertNotNull(history.job("s1", 5));
        List<History.JobView> jobs = history.jobs("s1");
        assertEquals(List.of(5, 4, 3), jobs.stream().map(History.JobView::jobId).toList(), "newest first");
    }

    @Test
    void aRunningJobIsNotForgottenForNewerOnes() {
        History history = new History(1);
        history.jobStarted(new JobStarted("s1", 1, null, null, 1, 1));
        runJob(history, "s1", 2, 20, 1, true);
        assertNotNull(history.job("s1", 1), "still running");
        assertEquals("job 1", history.job("s1", 1).name(), "no call site: named by its id");
    }
}
