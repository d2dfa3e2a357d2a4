package dev.ember.engine.core;

import java.util.function.Consumer;

import com.google.gson.JsonObject;

import dev.ember.api.engine.StagePlan;

/**
 * One attempt of one task, as the stage loop hands it to a {@link TaskRunner}.
 *
 * @param job           the job it belongs to (fail it through {@link JobRun#failJob} for an error no retry mends)
 * @param session       the session whose datasets, broadcasts and stored outputs it reads
 * @param stage         the stage it runs
 * @param stageId       the stage's id in the session, as TaskContext reports it
 * @param partition     the partition it computes
 * @param attempt       the attempt number (0 first)
 * @param taskAttemptId the attempt's id in the session
 * @param barrier       for a barrier stage's task, how to reach the coordinator; else null
 * @param fileTarget    for a stage that writes files, the attempt's new file; else null
 * @param printed       where lines the task prints go when the job's listener wants them; else null
 * @param results       for a task of the job's result stage, where its result frames go; else null
 * @param started       to call once the attempt really starts (a worker took it), for the listener
 * @param metrics       for the runner to fill in when an engine monitor observes the job; else null
 */
public record TaskCall(JobRun job, SchedulerSession session, StagePlan stage, int stageId, int partition, int attempt,
        long taskAttemptId, JsonObject barrier, TaskAttempt.FileTarget fileTarget, Consumer<String> printed,
        ResultCollector results, Runnable started, TaskMetrics metrics) {
}
