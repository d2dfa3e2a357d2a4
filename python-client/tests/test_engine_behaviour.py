"""The engine's behaviour under load and failure: spilling, stage reuse, retries after killed workers, cancelling."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections import defaultdict
from operator import add
from pathlib import Path

import pytest

from conftest import EMBER_DIST, RunDriver
from ember import PythonException, SparkContext, SparkJobError


def small_budget_distribution(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the distribution whose engine keeps at most 1 MB of shuffle data in memory."""
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    spill = tmp_path / "spill"
    config = home / "conf" / "dev.ember.engine.cfg"
    text = config.read_text()
    text = text.replace("shuffleMemoryMB = 512", "shuffleMemoryMB = 1")
    text = text.replace("spillDirectory =", f"spillDirectory = {spill}")
    config.write_text(text)
    return home, spill


def test_shuffle_ten_times_the_budget_spills_on_both_sides_and_cleans_up(tmp_path: Path,
                                                                        run_driver: RunDriver,
                                                                        result_of) -> None:
    home, spill = small_budget_distribution(tmp_path)
    proc = run_driver(f"""
        import glob, os
        from ember import SparkConf, SparkContext
        conf = SparkConf().set("spark.python.worker.memory", "4m")
        sc = SparkContext("local[2]", "spill", conf=conf)
        n = 300_000
        pairs = sc.range(n, numSlices=6).map(lambda i: (i % 2000, "v" * 40 + str(i)))
        grouped = pairs.groupByKey().mapValues(sorted).collectAsMap()
        expected = {{}}
        for i in range(n):
            expected.setdefault(i % 2000, []).append("v" * 40 + str(i))
        ok = grouped == {{k: sorted(v) for k, v in expected.items()}}
        spill_glob = os.path.join({str(spill)!r}, "ember-*", "spill-*", "*", "spill-*")
        files_while_running = glob.glob(spill_glob)
        # The shuffled RDDs are garbage now; the next job tells the engine to drop their output.
        import gc
        del pairs
        gc.collect()
        sc.range(3).count()
        files_after_release = glob.glob(spill_glob)
        log = open(sc._launched.log_path).read()
        sc.stop()
        left = [p for p in glob.glob(os.path.join({str(spill)!r}, "**"), recursive=True) if os.path.isfile(p)]
        report({{"ok": ok, "spill_files": len(files_while_running), "merge_spilled": "merge spilled" in log,
                "after_release": files_after_release, "left_after_stop": left}})
    """, env={"EMBER_HOME": str(home)}, timeout=180)
    result = result_of(proc)
    assert result["ok"]
    assert result["spill_files"] > 0, "the JVM kept a shuffle ten times its budget without spilling"
    assert result["merge_spilled"], "the Python merge never spilled under a 4 MB worker memory limit"
    assert result["after_release"] == [], "spill files outlived the RDDs that needed them"
    assert result["left_after_stop"] == []


def test_a_shuffle_is_not_recomputed_by_a_later_job(sc: SparkContext) -> None:
    computed = sc.accumulator(0)

    def count_and_key(x: int) -> tuple[int, int]:
        computed.add(1)
        return x % 7, x

    totals = sc.parallelize(list(range(1000)), 4).map(count_and_key).reduceByKey(add)
    expected = defaultdict(int)
    for x in range(1000):
        expected[x % 7] += x
    assert dict(totals.collect()) == expected
    assert computed.value == 1000
    assert dict(totals.mapValues(lambda v: v * 2).collect()) == {k: 2 * v for k, v in expected.items()}
    assert computed.value == 1000, "the map stage ran again although its shuffle output was complete"


def test_a_cached_rdd_is_computed_once_until_unpersisted(sc: SparkContext) -> None:
    computed = sc.accumulator(0)

    def counted(x: int) -> int:
        computed.add(1)
        return x * x

    squares = sc.parallelize(list(range(500)), 3).map(counted).cache()
    assert squares.sum() == sum(x * x for x in range(500))
    assert squares.count() == 500
    assert computed.value == 500
    squares.unpersist()
    assert squares.count() == 500
    assert computed.value == 1000


def test_killed_workers_are_replaced_and_results_and_accumulators_stay_exact(sc: SparkContext,
                                                                            tmp_path: Path) -> None:
    markers = tmp_path / "killed"
    markers.mkdir()
    seen = sc.accumulator(0)

    def crash_once_per_partition(split: int, iterator):
        for i, x in enumerate(iterator):
            seen.add(1)
            marker = markers / str(split)
            if i == 10 and split % 2 == 0 and not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)  # Dies mid-partition, after adding to the accumulator.
            yield x * 3

    data = list(range(6000))
    result = sc.parallelize(data, 6).mapPartitionsWithIndex(crash_once_per_partition).collect()
    assert result == [x * 3 for x in data]
    assert sorted(p.name for p in markers.iterdir()) == ["0", "2", "4"]
    assert seen.value == len(data), "a failed attempt's accumulator updates were counted"


def test_a_worker_killed_from_outside_mid_job_is_retried(sc: SparkContext, tmp_path: Path) -> None:
    started = tmp_path / "started"
    started.mkdir()

    def slow(split: int, iterator):
        (started / f"{split}-{os.getpid()}").touch()
        for x in iterator:
            time.sleep(0.0005)
            yield x + 1

    killed: list[int] = []

    def kill_first_worker() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            for entry in started.iterdir():
                pid = int(entry.name.split("-")[1])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_first_worker)
    killer.start()
    data = list(range(8000))
    result = sc.parallelize(data, 4).mapPartitionsWithIndex(slow).collect()
    killer.join()
    assert killed, "no worker was killed"
    assert result == [x + 1 for x in data]


def test_on_local_n_a_failing_task_fails_the_job_at_once_as_in_spark(sc: SparkContext, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    attempts.mkdir()

    def always(x: int) -> int:
        (attempts / str(len(list(attempts.iterdir())))).touch()
        raise KeyError("always")

    with pytest.raises(PythonException, match="KeyError: 'always'") as raised:
        sc.parallelize([1], 1).map(always).collect()
    assert "failed 4 times" not in str(raised.value)
    assert len(list(attempts.iterdir())) == 1  # local[2]: one attempt per task, as Spark's local mode


def test_local_n_f_retries_a_flaky_task_and_a_deterministic_error_fails_after_all_attempts(run_driver, result_of,
                                                                                         tmp_path: Path) -> None:
    proc = run_driver(f"""
        from pathlib import Path
        from ember import SparkContext
        marker = Path({str(tmp_path / "failed-once")!r})
        attempts = Path({str(tmp_path / "attempts")!r})
        attempts.mkdir()
        sc = SparkContext("local[2, 4]", "retries")

        def flaky(x):
            if x == 5 and not marker.exists():
                marker.touch()
                raise RuntimeError("transient")
            return x

        def always(x):
            (attempts / str(len(list(attempts.iterdir())))).touch()
            raise KeyError("always")

        flaky_result = sc.parallelize(list(range(10)), 2).map(flaky).collect()
        try:
            sc.parallelize([1], 1).map(always).collect()
            error = None
        except KeyError as e:
            error = str(e)
        report({{"flaky": flaky_result, "error": error, "attempts": len(list(attempts.iterdir()))}})
        sc.stop()
    """)
    result = result_of(proc)
    assert result["flaky"] == list(range(10))
    assert "failed 4 times" in result["error"] and "KeyError: 'always'" in result["error"]
    assert result["attempts"] == 4  # local[2, 4]: four attempts per task


def test_cancelling_a_job_group_stops_its_job_and_the_context_stays_usable(sc: SparkContext,
                                                                          tmp_path: Path) -> None:
    started = tmp_path / "started"
    outcome: dict[str, BaseException] = {}

    def sleepy(x: int) -> int:
        started.touch()
        time.sleep(1)
        return x

    def run_group() -> None:
        sc.setJobGroup("slow-group", "a job to cancel")
        try:
            sc.parallelize(list(range(120)), 4).map(sleepy).collect()
        except BaseException as e:  # noqa: B036 - the outcome is what the test checks
            outcome["error"] = e

    runner = threading.Thread(target=run_group)
    runner.start()
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists(), "the job never started"
    sc.cancelJobGroup("slow-group")
    runner.join(timeout=30)
    assert not runner.is_alive(), "the cancelled job kept running (120 one-second tasks)"
    error = outcome.get("error")
    assert isinstance(error, SparkJobError) and error.kind == "CANCELLED", repr(error)
    assert sc.parallelize([1, 2, 3]).sum() == 6


def test_a_job_cancelled_before_its_tasks_have_workers_runs_none_of_them(run_driver: RunDriver, result_of) -> None:
    # A new context's first tasks wait for workers to start: a cancel then used to miss them, and they ran to their
    # end (here two minutes of sleep). Each round's cancel comes as soon as the job is active; the aborted workers of
    # the round before make the next round's tasks wait for new ones too.
    proc = run_driver("""
        import threading, time
        from ember import SparkContext
        sc = SparkContext("local[2]", "cancel-early")
        rounds = []
        for round in range(3):
            outcome = {}
            def slow_job():
                sc.setJobGroup("early", "cancelled at once")
                try:
                    sc.parallelize(range(2), 2).foreach(lambda _: time.sleep(120))
                except Exception as e:
                    outcome["error"] = type(e).__name__
            runner = threading.Thread(target=slow_job)
            runner.start()
            while not sc.statusTracker().getActiveJobsIds():
                time.sleep(0.005)
            sc.cancelJobGroup("early")
            runner.join(timeout=30)
            rounds.append([runner.is_alive(), outcome.get("error")])
            if runner.is_alive():
                break
        kept_running = any(alive for alive, _ in rounds)
        report({"rounds": rounds, "after": None if kept_running else sc.parallelize([1, 2, 3], 2).sum()})
        import os
        os._exit(0)  # Without waiting for a job that kept running.
    """, timeout=120)
    result = result_of(proc)
    assert result["rounds"] == [[False, "SparkJobError"]] * 3, result["rounds"]
    assert result["after"] == 6


def test_ctrl_c_in_the_driver_cancels_the_running_job(run_driver: RunDriver, result_of) -> None:
    proc = run_driver("""
        import os, signal, threading, time
        # As in a terminal. A test run started in the background ignores SIGINT, and its drivers inherit that.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from ember import SparkContext
        sc = SparkContext("local[2]", "ctrl-c")
        def slow(x):
            time.sleep(1)
            return x
        # Interrupt the main thread once the job is under way, as Ctrl-C in a terminal would.
        threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        interrupted = False
        try:
            sc.parallelize(list(range(200)), 4).map(slow).collect()
        except KeyboardInterrupt:
            interrupted = True
        after = sc.parallelize(list(range(10)), 2).map(lambda x: x * x).collect()
        sc.stop()
        report({"interrupted": interrupted, "after": after})
    """, timeout=60)
    result = result_of(proc)
    assert result["interrupted"]
    assert result["after"] == [x * x for x in range(10)]


def test_ctrl_c_while_the_job_is_being_submitted_cancels_it(run_driver: RunDriver, result_of) -> None:
    # The interrupt lands after the gateway has taken the job but before its id reached the driver: without the
    # driver holding it back, the job would go on unseen and the next one would wait ~100 s behind it.
    proc = run_driver("""
        import os, signal, time
        signal.signal(signal.SIGINT, signal.default_int_handler)  # As in a terminal (see the test above).
        from ember import SparkContext
        sc = SparkContext("local[2]", "ctrl-c-submit")
        session = sc._session
        submit = session.submitJob
        class Interrupting:
            def __getattr__(self, name):
                return getattr(session, name)
            def submitJob(self, *args):
                job_id = submit(*args)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # Where Python would raise KeyboardInterrupt with its own handler in place.
                return job_id
        sc._session = Interrupting()
        def slow(x):
            time.sleep(1)
            return x
        interrupted = False
        slow_numbers = sc.parallelize(list(range(200)), 4).map(slow)  # Kept: dropping its data would end the job.
        try:
            slow_numbers.collect()
        except KeyboardInterrupt:
            interrupted = True
        sc._session = session
        after = sc.parallelize(list(range(10)), 2).map(lambda x: x * x).collect()
        # The engine's own view (the web UI's JSON): the interrupted job must end, not run on unseen.
        import json, urllib.request
        def jobs():
            api = sc.uiWebUrl + "/api/v1/applications"
            app = json.load(urllib.request.urlopen(api))[0]["id"]
            return json.load(urllib.request.urlopen(f"{api}/{app}/jobs"))
        deadline = time.monotonic() + 10
        while any(job["status"] == "RUNNING" for job in jobs()) and time.monotonic() < deadline:
            time.sleep(0.1)
        statuses = sorted((job["jobId"], job["status"]) for job in jobs())
        sc.stop()
        report({"interrupted": interrupted, "after": after, "statuses": statuses})
    """, timeout=60)
    result = result_of(proc)
    assert result["interrupted"]
    assert result["after"] == [x * x for x in range(10)]
    assert [status for _, status in result["statuses"]] == ["FAILED", "SUCCEEDED"]
