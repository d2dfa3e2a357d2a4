"""Progress the user can see: Spark's console bar on a terminal (and nowhere else), and the status tracker."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from conftest import RunDriver, _write_driver, driver_env, driver_result
from ember import SparkContext

SLOW_JOB = """
    import time
    from ember import SparkContext
    sc = SparkContext("local[2]", "progress")
    total = sc.parallelize(list(range(40)), 20).map(lambda x: time.sleep(0.05) or x).sum()
    sc.stop()
    print("TOTAL", total)
"""


def test_the_bar_appears_on_a_terminal(tmp_path: Path) -> None:
    script = _write_driver(tmp_path / "drivers", SLOW_JOB)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(script)], env=driver_env(), stdin=subprocess.DEVNULL,
                            stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break  # The driver exited and closed the terminal.
        if not chunk:
            break
        output += chunk
    proc.wait(timeout=30)
    os.close(controller)
    text = output.decode(errors="replace")
    assert "TOTAL 780" in text
    assert "[Stage 0:" in text and "/ 20]" in text, text[-2000:]


def test_no_bar_when_stderr_is_a_file(run_driver: RunDriver) -> None:
    proc = run_driver(SLOW_JOB)
    assert "TOTAL 780" in proc.stdout
    assert "[Stage" not in proc.stderr and "[Stage" not in proc.stdout


def test_the_status_tracker_reports_jobs_and_stages(sc: SparkContext) -> None:
    tracker = sc.statusTracker()
    sc.setJobGroup("tracked", "a job to look at")
    try:
        assert sc.parallelize(list(range(30)), 6).map(lambda x: x + 1).sum() == sum(range(1, 31))
    finally:
        sc.setJobGroup(None, None)  # type: ignore[arg-type]
    jobs = tracker.getJobIdsForGroup("tracked")
    assert len(jobs) == 1
    info = tracker.getJobInfo(jobs[0])
    assert info.status == "SUCCEEDED" and len(info.stageIds) == 1
    stage = tracker.getStageInfo(info.stageIds[0])
    assert (stage.numTasks, stage.numCompletedTasks, stage.numActiveTasks) == (6, 6, 0)
    assert tracker.getActiveJobsIds() == [] and tracker.getActiveStageIds() == []


def test_jobs_before_the_first_tracker_call_are_known_and_stage_ids_are_unique(run_driver: RunDriver) -> None:
    proc = run_driver("""
from ember import SparkContext
sc = SparkContext("local[2]", "tracked-late")
sc.setJobGroup("early", "before anyone asked")
words = sc.parallelize(["a", "b", "a", "c"] * 5, 4)
assert words.count() == 20
counts = dict(words.map(lambda w: (w, 1)).reduceByKey(lambda x, y: x + y, 3).collect())
tracker = sc.statusTracker()
jobs = tracker.getJobIdsForGroup("early")
infos = [tracker.getJobInfo(j) for j in jobs]
stages = [[vars(tracker.getStageInfo(s)) for s in info.stageIds] for info in infos]
report({"counts": counts, "jobs": len(jobs), "status": [i.status for i in infos],
        "stageIds": [i.stageIds for i in infos], "stages": stages})
""")
    result = driver_result(proc)
    assert result["counts"] == {"a": 10, "b": 5, "c": 5}
    assert result["jobs"] == 2 and result["status"] == ["SUCCEEDED", "SUCCEEDED"]
    first, second = result["stageIds"]
    assert len(first) == 1 and len(second) == 2, result  # count: one stage; reduceByKey: map and reduce
    assert min(second) > max(first), "stage ids go on from job to job, as Spark's do"
    tasks = [[(s["numTasks"], s["numCompletedTasks"], s["numActiveTasks"]) for s in job] for job in result["stages"]]
    assert tasks == [[(4, 4, 0)], [(4, 4, 0), (3, 3, 0)]]
