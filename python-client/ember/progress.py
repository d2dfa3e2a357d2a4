"""Live job progress on the driver: a console bar in Spark's familiar form, and PySpark's status tracker, both fed
by the engine's job, stage and task events, which the gateway pushes down the result stream as they happen."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Optional


@dataclass
class SparkJobInfo:
    jobId: int
    stageIds: list[int]
    status: str  # RUNNING, SUCCEEDED or FAILED


@dataclass
class SparkStageInfo:
    stageId: int
    currentAttemptId: int
    name: str
    numTasks: int
    numActiveTasks: int
    numCompletedTasks: int
    numFailedTasks: int


@dataclass
class _Stage:
    stage_id: int
    tasks: int
    running: int = 0
    done: int = 0
    failed: int = 0
    active: bool = True


@dataclass
class _Job:
    job_id: int
    group: Optional[str]
    first_stage: int
    stages: dict[int, _Stage] = field(default_factory=dict)
    status: str = "RUNNING"
    heard: bool = False  # whether events came for this job (only while someone watches)


class JobTracker:
    """Every job of this context, known from its plan when it is submitted and followed live by the engine's
    events while someone watches (the data behind statusTracker and the bar). Stage ids are unique within the
    context, as Spark's are: a job's stages are numbered on from the previous job's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, _Job] = {}
        self._next_stage = 0

    def started(self, job_id: int, group: Optional[str], stage_tasks: list[int]) -> None:
        """A submitted job whose plan has stages with these task counts, in plan order."""
        with self._lock:
            job = _Job(job_id, group, self._next_stage)
            for index, tasks in enumerate(stage_tasks):
                stage_id = self._next_stage + index
                job.stages[stage_id] = _Stage(stage_id, tasks, active=False)
            self._next_stage += len(stage_tasks)
            self._jobs[job_id] = job

    def on_event(self, event: dict) -> None:
        with self._lock:
            job = self._jobs.get(event["job"])
            if job is None:
                return
            job.heard = True
            kind = event["event"]
            if kind == "jobEnd":
                job.status = "SUCCEEDED" if event["succeeded"] else "FAILED"
                for each in job.stages.values():
                    each.active = False
                return
            if "stage" not in event:  # every event but the job's end names its stage
                return
            stage_id: int = job.first_stage + event["stage"]
            if kind == "stageStart":
                job.stages[stage_id] = _Stage(stage_id, event["tasks"])
            elif kind == "taskStart":
                stage = job.stages.get(stage_id)
                if stage:
                    stage.running += 1
            elif kind == "taskEnd":
                stage = job.stages.get(stage_id)
                if stage:
                    stage.running = max(0, stage.running - 1)
                    if event["succeeded"]:
                        stage.done += 1
                    else:
                        stage.failed += 1
            elif kind == "stageEnd":
                stage = job.stages.get(stage_id)
                if stage:
                    stage.active = False

    def finished(self, job_id: int, succeeded: bool) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            if job.status == "RUNNING":
                job.status = "SUCCEEDED" if succeeded else "FAILED"
            for stage in job.stages.values():
                stage.active = False
                stage.running = 0
                if succeeded and not job.heard:
                    # Unwatched: no task events came, but a job that succeeded completed all its tasks.
                    stage.done = stage.tasks

    def active_stage(self, job_id: int) -> Optional[_Stage]:
        with self._lock:
            job = self._jobs.get(job_id)
            stages = [s for s in job.stages.values() if s.active] if job else []
            return _Stage(**vars(stages[-1])) if stages else None

    # The status tracker's questions.
    def job_ids(self, group: Optional[str] = None, status: Optional[str] = None) -> list[int]:
        with self._lock:
            return sorted(j.job_id for j in self._jobs.values()
                          if (group is None or j.group == group) and (status is None or j.status == status))

    def active_stage_ids(self) -> list[int]:
        with self._lock:
            return sorted(s.stage_id for j in self._jobs.values() for s in j.stages.values() if s.active)

    def job_info(self, job_id: int) -> Optional[SparkJobInfo]:
        with self._lock:
            job = self._jobs.get(job_id)
            return SparkJobInfo(job.job_id, sorted(job.stages), job.status) if job else None

    def stage_info(self, stage_id: int) -> Optional[SparkStageInfo]:
        with self._lock:
            for job in self._jobs.values():
                stage = job.stages.get(stage_id)
                if stage is not None:
                    return SparkStageInfo(stage.stage_id, 0, f"job {job.job_id} stage {stage.stage_id}", stage.tasks,
                                          stage.running, stage.done, stage.failed)
        return None


class StatusTracker:
    """PySpark's low-level status API, answered from the events this context received."""

    def __init__(self, tracker: JobTracker) -> None:
        self._tracker = tracker

    def getJobIdsForGroup(self, jobGroup: Optional[str] = None) -> list[int]:
        return self._tracker.job_ids(group=jobGroup) if jobGroup is not None else self._tracker.job_ids()

    def getActiveStageIds(self) -> list[int]:
        return self._tracker.active_stage_ids()

    def getActiveJobsIds(self) -> list[int]:
        return self._tracker.job_ids(status="RUNNING")

    def getJobInfo(self, jobId: int) -> Optional[SparkJobInfo]:
        return self._tracker.job_info(jobId)

    def getStageInfo(self, stageId: int) -> Optional[SparkStageInfo]:
        return self._tracker.stage_info(stageId)


class ConsoleProgressBar:
    """``[Stage 3:=====>          (42 + 2) / 100]`` on one terminal line, redrawn at most every 100 ms and
    cleared when the job ends."""

    WIDTH = 80

    def __init__(self, tracker: JobTracker, stream: IO[str] = sys.stderr) -> None:
        self.tracker = tracker
        self.stream = stream
        self._last_draw = 0.0
        self._drawn = False

    def update(self, job_id: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        stage = self.tracker.active_stage(job_id)
        if stage is None:
            return
        header = f"[Stage {stage.stage_id}:"
        tail = f"({stage.done} + {stage.running}) / {stage.tasks}]"
        room = max(self.WIDTH - len(header) - len(tail), 10)
        filled = room * stage.done // max(stage.tasks, 1)
        bar = "=" * filled + (">" if filled < room else "") + " " * max(room - filled - 1, 0)
        self.stream.write("\r" + header + bar + tail)
        self.stream.flush()
        self._last_draw = now
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self.WIDTH + "\r")
            self.stream.flush()
            self._drawn = False


class NotebookProgressBar:
    """The same progress under a notebook's IPython kernel, whose stderr is no terminal: an HTML bar in the output of
    the cell that runs the job, redrawn in place at most every 100 ms. The bar of a finished job stays, showing where
    it ended."""

    def __init__(self, tracker: JobTracker) -> None:
        from IPython.display import HTML, display  # Only ever made under IPython (see make_progress_bar).
        self.tracker = tracker
        self._html = HTML
        self._display = display
        self._handle: Any = None
        self._last_draw = 0.0
        self._drawn: Optional[tuple[int, _Stage]] = None
        self._latest: Optional[tuple[int, _Stage]] = None  # The newest state, drawn or not (see clear).

    def update(self, job_id: int, force: bool = False) -> None:
        stage = self.tracker.active_stage(job_id)
        if stage is None:
            return
        self._latest = (job_id, stage)
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self._draw(job_id, stage)

    def _draw(self, job_id: int, stage: "_Stage") -> None:
        self._drawn = (job_id, stage)
        content = self._html(self.render(job_id, stage))
        if self._handle is None:
            self._handle = self._display(content, display_id=True)
        else:
            self._handle.update(content)

    @staticmethod
    def render(job_id: int, stage: "_Stage") -> str:
        share = 100 * stage.done // max(stage.tasks, 1)
        return (f'<div class="ember-progress"><code>Job {job_id}, stage {stage.stage_id}: {stage.done} + '
                f'{stage.running} / {stage.tasks} tasks</code> <progress value="{stage.done}" max="{stage.tasks}" '
                f'style="width: 40em">{share}%</progress></div>')

    def clear(self) -> None:
        # The last tasks often end within 100 ms of the previous redraw: the bar that stays must show the end.
        if self._handle is not None and self._latest is not None and self._latest != self._drawn:
            self._draw(*self._latest)
        self._handle = None  # The next job draws a bar of its own.
        self._drawn = self._latest = None


def in_notebook() -> bool:
    """Whether this runs in a notebook's IPython kernel (Jupyter, VS Code), not a terminal IPython."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return False
    shell = ipython_module.get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def make_progress_bar(tracker: JobTracker, setting: Optional[str]) -> Optional[Any]:
    """The progress display spark.ui.showConsoleProgress asks for: unset, a console bar when stderr is a terminal and
    an HTML bar in a notebook; "true", whichever fits; "false", none."""
    if setting is not None and setting.strip().lower() != "true":
        return None
    if in_notebook():
        return NotebookProgressBar(tracker)
    if setting is not None or sys.stderr.isatty():
        return ConsoleProgressBar(tracker)
    return None
