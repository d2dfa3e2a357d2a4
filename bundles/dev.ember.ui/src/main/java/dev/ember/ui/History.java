package dev.ember.ui;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ember.api.engine.SessionInfo;
import dev.ember.api.monitor.JobStarted;
import dev.ember.api.monitor.StageStarted;
import dev.ember.api.monitor.TaskEnded;
import dev.ember.api.monitor.TaskStarted;

/**
 * What the engines reported, kept for the UI: sessions, the newest {@code retainedJobs} jobs (older finished jobs go,
 * with their stages and tasks), the stages and task attempts of those jobs. Fed from engine threads, read by the
 * HTTP threads; every method holds this object's lock only briefly and readers get copies.
 */
final class History {

    /** Ended sessions kept when none of their jobs is retained any more. */
    static final int RETAINED_ENDED_SESSIONS = 100;

    private final int retainedJobs;
    private final Map<String, App> apps = new LinkedHashMap<>();
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final Map<String, Stage> stages = new LinkedHashMap<>();

    History(int retainedJobs) {
        this.retainedJobs = Math.max(1, retainedJobs);
    }

    static final class App {
        final String id;
        final String name;
        final long driverPid;
        final String master;
        final long startTime;
        long endTime;

        App(String id, String name, long driverPid, String master, long startTime) {
            this.id = id;
            this.name = name;
            this.driverPid = driverPid;
            this.master = master;
            this.startTime = startTime;
        }

        App copy() {
            App copy = new App(id, name, driverPid, master, startTime);
            copy.endTime = endTime;
            return copy;
        }
    }

    static final class Job {
        final String sessionId;
        final int jobId;
        final String jobGroup;
        final String callSite;
        final int stageCount;
        final long submissionTime;
        long completionTime;
        /** RUNNING, SUCCEEDED or FAILED. */
        String status = "RUNNING";
        String error;
        final List<Integer> stageIds = new ArrayList<>();

        Job(JobStarted event) {
            this.sessionId = event.sessionId();
            this.jobId = event.jobId();
            this.jobGroup = event.jobGroup();
            this.callSite = event.callSite();
            this.stageCount = event.stageCount();
            this.submissionTime = event.timeMillis();
        }

        String name() {
            return callSite == null || callSite.isEmpty() ? "job " + jobId : callSite;
        }
    }

    static final class Stage {
        final String sessionId;
        final int jobId;
        final int stageId;
        final String kind;
        final int numTasks;
        final long submissionTime;
        final String jobName;
        long completionTime;
        /** ACTIVE, COMPLETE or FAILED. */
        String status = "ACTIVE";
        /** Task attempts in the order they started. */
        final Map<Long, Task> tasks = new LinkedHashMap<>();

        Stage(StageStarted event, String jobName) {
            this.sessionId = event.sessionId();
            this.jobId = event.jobId();
            this.stageId = event.stageId();
            this.kind = event.kind();
            this.numTasks = event.taskCount();
            this.submissionTime = event.timeMillis();
            this.jobName = jobName;
        }

        /** The job's call site for its result stage; what else a stage makes, after it. */
        String name() {
            return switch (kind) {
                case "shuffle" -> jobName + ": shuffle map";
                case "cache" -> jobName + ": cache";
                default -> jobName;
            };
        }
    }

    static final class Task {
        final long taskId;
        final int partition;
        final int attempt;
        long workerPid;
        String transport;
        long launchTime;
        /** RUNNING, SUCCESS, FAILED, LOST or KILLED. */
        String status = "RUNNING";
        TaskEnded end;

        Task(long taskId, int partition, int attempt) {
            this.taskId = taskId;
            this.partition = partition;
            this.attempt = attempt;
        }
    }

    private static String key(String sessionId, int id) {
        return sessionId + "/" + id;
    }

    private long nextTaskId;

    synchronized void sessionOpened(SessionInfo session) {
        apps.putIfAbsent(session.id(), new App(session.id(), session.appName(), session.driverPid(),
                session.master(), session.openedAt().toEpochMilli()));
    }

    synchronized void sessionClosed(String sessionId, long timeMillis) {
        App app = apps.get(sessionId);
        if (app != null) {
            app.endTime = timeMillis;
        }
        trimSessions();
    }

    synchronized void jobStarted(JobStarted event) {
        jobs.put(key(event.sessionId(), event.jobId()), new Job(event));
        if (!apps.containsKey(event.sessionId())) {
            // A session opened before this UI came, whose monitor call it missed.
            apps.put(event.sessionId(), new App(event.sessionId(), "", 0, "", event.timeMillis()));
        }
        trimJobs();
    }

    synchronized void stageStarted(StageStarted event) {
        Job job = jobs.get(key(event.sessionId(), event.jobId()));
        if (job == null) {
            return;
        }
        job.stageIds.add(event.stageId());
        stages.put(key(event.sessionId(), event.stageId()), new Stage(event, job.name()));
    }

    synchronized void taskStarted(TaskStarted event) {
        Stage stage = stages.get(key(event.sessionId(), event.stageId()));
        if (stage == null) {
            return;
        }
        Task task = new Task(nextTaskId++, event.partition(), event.attempt());
        task.workerPid = event.workerPid();
        task.transport = event.transport();
        task.launchTime = event.timeMillis();
        stage.tasks.put(attemptKey(event.partition(), event.attempt()), task);
    }

    synchronized void taskEnded(TaskEnded event) {
        Stage stage = stages.get(key(event.sessionId(), event.stageId()));
        if (stage == null) {
            return;
        }
        Task task = stage.tasks.computeIfAbsent(attemptKey(event.partition(), event.attempt()),
                k -> new Task(nextTaskId++, event.partition(), event.attempt()));
        task.workerPid = event.workerPid() != 0 ? event.workerPid() : task.workerPid;
        task.launchTime = event.launchMillis();
        task.status = event.status();
        task.end = event;
    }

    synchronized void stageEnded(String sessionId, int stageId, boolean succeeded, long timeMillis) {
        Stage stage = stages.get(key(sessionId, stageId));
        if (stage != null) {
            stage.status = succeeded ? "COMPLETE" : "FAILED";
            stage.completionTime = timeMillis;
        }
    }

    synchronized void jobEnded(String sessionId, int jobId, boolean succeeded, String error, long timeMillis) {
        Job job = jobs.get(key(sessionId, jobId));
        if (job != null) {
            job.status = succeeded ? "SUCCEEDED" : "FAILED";
            job.error = error;
            job.completionTime = timeMillis;
            // A stage still ACTIVE when its job failed (cancelled, or ended by one task) ends with it.
            for (int stageId : job.stageIds) {
                Stage stage = stages.get(key(sessionId, stageId));
                if (stage != null && "ACTIVE".equals(stage.status)) {
                    stage.status = succeeded ? "COMPLETE" : "FAILED";
                    stage.completionTime = timeMillis;
                }
            }
        }
    }

    private static long attemptKey(int partition, int attempt) {
        return ((long) partition << 20) | attempt;
    }

    /** Drops the oldest finished jobs beyond the limit, with their stages. */
    private void trimJobs() {
        Iterator<Job> oldest = jobs.values().iterator();
        int excess = jobs.size() - retainedJobs;
        while (excess > 0 && oldest.hasNext()) {
            Job job = oldest.next();
            if (!"RUNNING".equals(job.status) || jobs.size() > 2 * retainedJobs) {
                for (int stageId : job.stageIds) {
                    stages.remove(key(job.sessionId, stageId));
                }
                oldest.remove();
                excess--;
            }
        }
        trimSessions();
    }

    /** Forgets ended sessions none of whose jobs is kept, beyond {@link #RETAINED_ENDED_SESSIONS}. */
    private void trimSessions() {
        List<App> ended = apps.values().stream().filter(app -> app.endTime != 0).toList();
        int excess = ended.size() - RETAINED_ENDED_SESSIONS;
        for (App app : ended) {
            if (excess <= 0) {
                break;
            }
            if (jobs.values().stream().noneMatch(job -> job.sessionId.equals(app.id))) {
                apps.remove(app.id);
                excess--;
            }
        }
    }

    // Reads: copies made under the lock, so the HTTP threads render them without it.

    synchronized List<App> apps() {
        List<App> list = new ArrayList<>();
        apps.values().forEach(app -> list.add(app.copy()));
        list.sort(Comparator.comparingLong((App app) -> app.startTime).reversed());
        return list;
    }

    synchronized App app(String id) {
        App app = apps.get(id);
        return app == null ? null : app.copy();
    }

    /** A job's view: its fields and its stages' task counts, computed under the lock. */
    record JobView(String sessionId, int jobId, String name, String jobGroup, long submissionTime,
            long completionTime, String status, String error, List<Integer> stageIds, int numTasks, int activeTasks,
            int completedTasks, int failedTasks, int completedStages, int skippedStages, int failedStages,
            int activeStages) {
    }

    synchronized List<JobView> jobs(String sessionId) {
        List<JobView> views = new ArrayList<>();
        for (Job job : jobs.values()) {
            if (job.sessionId.equals(sessionId)) {
                views.add(view(job));
            }
        }
        views.sort(Comparator.comparingInt(JobView::jobId).reversed());
        return views;
    }

    synchronized JobView job(String sessionId, int jobId) {
        Job job = jobs.get(key(sessionId, jobId));
        return job == null ? null : view(job);
    }

    private JobView view(Job job) {
        int numTasks = 0;
        int active = 0;
        int completed = 0;
        int failed = 0;
        int completedStages = 0;
        int failedStages = 0;
        int activeStages = 0;
        for (int stageId : job.stageIds) {
            Stage stage = stages.get(key(job.sessionId, stageId));
            if (stage == null) {
                continue;
            }
            numTasks += stage.numTasks;
            for (Task task : stage.tasks.values()) {
                switch (task.status) {
                    case "RUNNING" -> active++;
                    case "SUCCESS" -> completed++;
                    case "KILLED" -> {
                    }
                    default -> failed++;
                }
            }
            switch (stage.status) {
                case "COMPLETE" -> completedStages++;
                case "FAILED" -> failedStages++;
                default -> activeStages++;
            }
        }
        int skipped = "RUNNING".equals(job.status) ? 0 : Math.max(0, job.stageCount - job.stageIds.size());
        return new JobView(job.sessionId, job.jobId, job.name(), job.jobGroup, job.submissionTime,
                job.completionTime, job.status, job.error, List.copyOf(job.stageIds), numTasks, active, completed,
                failed, completedStages, skipped, failedStages, activeStages);
    }

    /** A stage's view with copies of its task attempts. */
    record StageView(String sessionId, int jobId, int stageId, String name, String kind, String status, int numTasks,
            long submissionTime, long completionTime, List<TaskView> tasks) {
    }

    record TaskView(long taskId, int partition, int attempt, long workerPid, String transport, long launchTime,
            String status, TaskEnded end) {
    }

    synchronized List<StageView> stages(String sessionId) {
        List<StageView> views = new ArrayList<>();
        for (Stage stage : stages.values()) {
            if (stage.sessionId.equals(sessionId)) {
                views.add(view(stage));
            }
        }
        views.sort(Comparator.comparingInt(StageView::stageId).reversed());
        return views;
    }

    synchronized StageView stage(String sessionId, int stageId) {
        Stage stage = stages.get(key(sessionId, stageId));
        return stage == null ? null : view(stage);
    }

    private static StageView view(Stage stage) {
        List<TaskView> tasks = new ArrayList<>();
        for (Task task : stage.tasks.values()) {
            tasks.add(new TaskView(task.taskId, task.partition, task.attempt, task.workerPid, task.transport,
                    task.launchTime, task.status, task.end));
        }
        return new StageView(stage.sessionId, stage.jobId, stage.stageId, stage.name(), stage.kind, stage.status,
                stage.numTasks, stage.submissionTime, stage.completionTime, tasks);
    }

    /** Per worker pid of a session: tasks completed, failed, and their summed duration. */
    record WorkerTotals(int completed, int failed, long durationMillis) {
    }

    synchronized Map<Long, WorkerTotals> workerTotals(String sessionId) {
        Map<Long, WorkerTotals> totals = new LinkedHashMap<>();
        for (Stage stage : stages.values()) {
            if (!stage.sessionId.equals(sessionId)) {
                continue;
            }
            for (Task task : stage.tasks.values()) {
                if (task.end == null || task.workerPid == 0) {
                    continue;
                }
                WorkerTotals old = totals.getOrDefault(task.workerPid, new WorkerTotals(0, 0, 0));
                boolean ok = "SUCCESS".equals(task.status);
                totals.put(task.workerPid, new WorkerTotals(old.completed + (ok ? 1 : 0),
                        old.failed + (ok || "KILLED".equals(task.status) ? 0 : 1),
                        old.durationMillis + task.end.durationMillis()));
            }
        }
        return totals;
    }

    /** How many jobs are kept now (for tests of the bound). */
    synchronized int jobCount() {
        return jobs.size();
    }
}
