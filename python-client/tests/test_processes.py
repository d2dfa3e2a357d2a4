"""Python workers are real, reused processes; neither sc.stop() nor a killed driver leaves a process behind."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from conftest import Driver, RunDriver, StartDriver
from ember import SparkContext
from proc_utils import cmdline_of, kill_if_alive, live_children_of, parent_of, pid_alive, wait_until_all_gone, \
    wait_until_gone


def worker_pids(sc: SparkContext, partitions: int = 4) -> list[int]:
    return sc.parallelize(list(range(partitions * 2)), partitions).mapPartitions(lambda it: [os.getpid()]).collect()


def test_workers_are_separate_processes_and_reused(sc: SparkContext) -> None:
    jvm_pid = sc._launched.process.pid
    jobs = [sorted(set(worker_pids(sc, 6))) for _ in range(5)]
    every = sorted({pid for job in jobs for pid in job})
    assert os.getpid() not in every
    assert jvm_pid not in every
    # local[2]: at most two workers, and the same ones serve job after job.
    assert 1 <= len(every) <= 2, jobs
    uses = Counter(pid for job in jobs for pid in job)
    assert max(uses.values()) >= 2, jobs
    for pid in every:
        assert pid_alive(pid)
        # Started by the JVM (pipe transport) or forked by the JVM's worker daemon (socket transports); never
        # forked from the driver.
        parent = parent_of(pid)
        assert jvm_pid in (parent, parent_of(parent))
        assert "ember.worker" in cmdline_of(pid) or "ember.daemon" in cmdline_of(pid)
    assert set(worker_pids(sc, 2)) <= set(every)


def test_local2_runs_two_tasks_at_once(sc: SparkContext, tmp_path: Path) -> None:
    """Each of two tasks waits (up to a deadline) for the other's marker file: both see it only if they overlap."""
    directory = str(tmp_path)

    def meet(index: int, iterator: Any) -> list:
        open(os.path.join(directory, f"arrived-{index}"), "w").close()
        other = os.path.join(directory, f"arrived-{1 - index}")
        deadline = time.monotonic() + 20
        while not os.path.exists(other) and time.monotonic() < deadline:
            time.sleep(0.01)
        return [(index, os.path.exists(other), os.getpid())]

    met = sc.parallelize([0, 1], 2).mapPartitionsWithIndex(meet).collect()
    assert [(i, seen) for i, seen, _ in met] == [(0, True), (1, True)]
    assert met[0][2] != met[1][2]


def _await_file(path: Path, driver: Driver, deadline: float) -> dict:
    while not path.exists():
        assert driver.proc.poll() is None, (f"the driver exited with code {driver.proc.returncode} before reporting "
                                            f"its pids; its output:\n{driver.output_text()}")
        assert time.monotonic() < deadline, f"the driver did not report its pids; its output:\n{driver.output_text()}"
        time.sleep(0.05)
    return json.loads(path.read_text())


def test_killed_driver_takes_the_jvm_and_workers_down(start_driver: StartDriver, tmp_path: Path) -> None:
    pids_file = tmp_path / "pids.json"
    driver = start_driver(f'''
        import json, os, time
        from ember import SparkContext
        sc = SparkContext("local[2]", "doomed-driver")
        workers = sorted(set(sc.parallelize(list(range(8)), 4).mapPartitions(lambda it: [os.getpid()]).collect()))
        tmp = {str(pids_file)!r} + ".tmp"
        with open(tmp, "w") as f:
            json.dump({{"jvm": sc._launched.process.pid, "workers": workers}}, f)
        os.replace(tmp, {str(pids_file)!r})
        time.sleep(300)
    ''')
    pids = _await_file(pids_file, driver, time.monotonic() + 60)
    jvm, workers = pids["jvm"], pids["workers"]
    try:
        assert workers and jvm not in workers
        assert pid_alive(jvm) and all(pid_alive(pid) for pid in workers)
        assert parent_of(jvm) == driver.proc.pid
        os.kill(driver.proc.pid, signal.SIGKILL)
        driver.proc.wait()
        killed_at = time.monotonic()
        assert wait_until_gone(jvm, killed_at + 5), f"the JVM (pid {jvm}) outlived its killed driver by 5 s"
        gone = wait_until_all_gone(workers, killed_at + 10)
        assert all(gone.values()), f"workers still running 10 s after the driver was killed: {gone}"
    finally:
        kill_if_alive([jvm, *workers])


def test_stop_leaves_no_process_behind(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    result = result_of(run_driver('''
        import os, time
        from ember import SparkContext
        from proc_utils import live_children_of, pid_alive, wait_until_gone
        sc = SparkContext("local[2]", "stopping-driver")
        workers = sorted(set(sc.parallelize(list(range(8)), 4).mapPartitions(lambda it: [os.getpid()]).collect()))
        jvm = sc._launched.process.pid
        workdir = str(sc._launched.workdir)
        before = {"jvm": pid_alive(jvm), "workers": [pid_alive(p) for p in workers],
                  "children": live_children_of(os.getpid())}
        sc.stop()
        deadline = time.monotonic() + 5
        after = {"jvm": wait_until_gone(jvm, deadline), "workers": [wait_until_gone(p, deadline) for p in workers],
                 "children": live_children_of(os.getpid()), "workdir": os.path.exists(workdir)}
        sc.stop()  # a second stop is harmless
        report({"jvm": jvm, "pids": workers, "before": before, "after": after})
    '''))
    jvm, workers = result["jvm"], result["pids"]
    try:
        assert workers and jvm not in workers
        assert result["before"] == {"jvm": True, "workers": [True] * len(workers), "children": [jvm]}
        assert result["after"] == {"jvm": True, "workers": [True] * len(workers), "children": [], "workdir": False}
    finally:
        kill_if_alive([jvm, *workers])


def test_shared_context_still_healthy(sc: SparkContext) -> None:
    """The subprocess drivers above have their own JVMs; ours is untouched."""
    assert sc._launched.process.poll() is None
    assert sc._launched.process.pid in live_children_of(os.getpid())
    assert sc.parallelize(list(range(1000)), 3).sum() == sum(range(1000))


def test_worker_command_cache_stays_in_step_with_the_jvm(sc: SparkContext) -> None:
    """The JVM sends a worker each command once and then only its id, trusting the worker to keep the last 32 it
    used; the worker keeps 64. A command used, pushed out of the JVM's 32 by other jobs, re-sent, and then used
    again after 30 more jobs must still run."""
    token = uuid.uuid4().hex  # a command no worker has seen yet
    again = sc.range(3, numSlices=1).map(lambda x: (x * 1000, token, os.getpid()))

    def other(k: int) -> list:
        return sc.range(3, numSlices=1).map(lambda x: (x, k, token, os.getpid())).collect()

    expected = [(x * 1000, token) for x in range(3)]
    results = [again.collect()]
    pids = {pid for *_, pid in results[0]}
    for k in range(40):
        pids.update(pid for *_, pid in other(k))
    results.append(again.collect())
    for k in range(100, 130):
        pids.update(pid for *_, pid in other(k))
    pids.update(pid for *_, pid in results[-1])
    # The scenario needs one worker to see every job (single-partition jobs go to the last worker released).
    assert len(pids) == 1, f"jobs were spread over workers {pids}; the scenario did not happen"
    results.append(again.collect())
    assert [[(a, b) for a, b, _ in result] for result in results] == [expected] * 3


def test_a_sessions_workers_start_as_it_opens_and_serve_its_first_job(run_driver: RunDriver,
                                                                       result_of: Callable[..., Any]) -> None:
    """The engine starts a session's workers (local[2]: two) as the session opens, before any job asks; the first
    jobs run on exactly those workers instead of forking more."""
    result = result_of(run_driver('''
        import json, os, time
        from ember import SparkContext
        sc = SparkContext("local[2]", "warm-workers")
        def workers():
            return [w for w in json.loads(sc._entry.status())["workers"] if w["session"] == sc._session.id()]
        deadline = time.monotonic() + 20
        while len(workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = workers()
        first = sorted(set(sc.parallelize(list(range(8)), 2).mapPartitions(lambda it: [os.getpid()]).collect()))
        after = workers()
        sc.stop()
        report({"before": before, "first": first, "after": after})
    '''))
    before, first, after = result["before"], result["first"], result["after"]
    assert len(before) == 2, before
    assert all(w["tasks"] == 0 and not w["busy"] for w in before), before
    prestarted = sorted(w["pid"] for w in before)
    assert set(first) <= set(prestarted), (first, prestarted)
    assert sorted(w["pid"] for w in after) == prestarted, (after, prestarted)
    assert sum(w["tasks"] for w in after) == 2, after


def test_workers_collect_cyclic_garbage_within_a_task_though_less_often(sc: SparkContext) -> None:
    """Workers raise the cyclic collector's thresholds (a shuffle allocates millions of objects) and freeze what
    they hold before their first task; cycles a task drops are still collected while it runs."""

    def make_cycles(_: Any) -> list:
        import gc

        class Node:
            pass

        before = gc.get_stats()[0]["collected"]
        for _ in range(300_000):
            node = Node()
            node.self = node  # A cycle: only the cyclic collector frees it.
        # 300,000 cycles dropped: several collections of the youngest generation, at 50,000 allocations each.
        return [list(gc.get_threshold()), gc.get_freeze_count() > 0,
                gc.get_stats()[0]["collected"] - before >= 200_000]

    [result] = sc.parallelize([0], 1).mapPartitions(lambda it: [make_cycles(list(it))]).collect()
    assert result == [[50_000, 20, 10], True, True]


_LOAD_COMMANDS = """
import base64, pickle, sys
import cloudpickle
import ember.daemon  # What a worker has imported before its first task.
before = set(sys.modules)
for blob in sys.argv[1:]:
    job, inner = pickle.loads(base64.b64decode(blob))
    cloudpickle.loads(inner)
print(sorted(name for name in set(sys.modules) - before if name.startswith("ember")))
"""


def test_stage_commands_carry_embers_own_functions_by_name_and_need_no_driver_module(sc: SparkContext) -> None:
    """A worker unpickles its stage's command for every task: Ember's own functions (map, count, the composition of
    a stage's functions, a parallelized range's slices) travel as names, not as code to rebuild, and loading them
    imports no module a worker does not already have (ember.context and the gateway are the driver's)."""
    import subprocess
    import sys
    from operator import add

    from ember.plan import PlanBuilder
    rdds = [sc.parallelize(range(100), 4).map(str).filter(bool).mapPartitions(lambda it: [len(list(it))]),
            sc.parallelize(range(100), 4).map(lambda x: (x % 3, x)).reduceByKey(add),
            sc.parallelize([1, 2, 3], 2).flatMap(range).groupBy(lambda x: x % 2)]
    blobs = []
    for rdd in rdds:
        plan = PlanBuilder(sc).build(rdd, list(range(rdd.getNumPartitions())), None, None, "pickle")
        blobs += [stage["command"] for stage in plan["stages"]]
    run = subprocess.run([sys.executable, "-c", _LOAD_COMMANDS, *blobs], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    # The count's command: the user's lambda is the only code inside it.
    count_plan = PlanBuilder(sc).build(sc.parallelize(range(10), 2).map(lambda x: x + 1), [0, 1], None, None, "pickle")
    import base64
    import pickle
    _, inner = pickle.loads(base64.b64decode(count_plan["stages"][0]["command"]))
    assert len(inner) < 1500, f"the command of parallelize(range).map(f) is {len(inner)} bytes"


def test_workers_reuse_freed_memory_for_big_objects_instead_of_faulting_it_in_again(sc: SparkContext) -> None:
    """A task that makes and drops 1 MB objects (records, pickled batches) gets its pages back from the heap, not
    fresh from the kernel each time: a few hundred page faults for 400 MB allocated, where glibc's defaults fault in
    one of the two blocks anew every time (about 52,000)."""
    def churn(_: Any) -> list[int]:
        import pickle
        import resource
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for i in range(200):
            record = bytes([i % 256]) * (1 << 20)
            batch = pickle.dumps([record])  # As a worker writes a record out: the record and its pickle.
            del record, batch
        return [resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before]

    faults = sc.parallelize([0, 1], 2).mapPartitions(churn).collect()
    assert len(faults) == 2 and max(faults) < 5000, faults
