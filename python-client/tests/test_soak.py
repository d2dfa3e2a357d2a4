"""A service soak (issue 23): two rounds of 8 client drivers at once against one service, each driver running 20
small jobs from 2 threads and checking every result against plain Python; the service's open files, threads, child
processes and resident memory stay flat from the first round to the second.

The service's cached thread pools (task threads, side-channel handlers, Java's process reapers) keep an idle thread
for 60 s after its last use, so how many of them a measurement finds is the peak concurrency of the round just run
(runs of the same round gave 111 to 140 threads in all), not a leak. The thread count compared is therefore the
JVM's threads (/proc/<pid>/status) less those idle pool threads, which a thread dump (jcmd Thread.print) shows parked
in ThreadPoolExecutor.getTask: a thread kept per session, or one stuck for good, still counts. All assertions are
counts: no timing.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from conftest import StartDriver, driver_result
from test_service import service, sessions_open  # noqa: F401 - the fixture

DRIVERS = 8
THREADS = 2
JOBS_PER_THREAD = 10
KINDS = ("reduceByKey", "cached", "accumulator", "broadcast")
# Flat means: fewer new descriptors or (non-idle) threads than there are drivers, so one kept per session shows;
# no more worker processes than after the first round (a pre-started worker or two aside); at most half again the
# resident memory (the heap grows until it first collects).
FD_TOLERANCE = 4
THREAD_TOLERANCE = 4
CHILD_TOLERANCE = 2
RSS_FACTOR = 1.5


def expected(kind: str, seed: int) -> Any:
    """What job ``kind`` with ``seed`` gives, in plain Python (the drivers run this same function to check
    themselves; the test checks their reports with it again)."""
    if kind == "reduceByKey":
        sums: dict[int, int] = {}
        for x in range(seed, seed + 300):
            sums[x % 7] = sums.get(x % 7, 0) + x
        return sorted(sums.items())
    if kind == "cached":
        return sum(3 * x for x in cached_data(seed) if (3 * x) % 2 == seed % 2)
    if kind == "accumulator":
        return sum(range(seed % 97 + 50))
    if kind == "broadcast":
        return sum((x % 10) * seed for x in range(60))
    raise ValueError(kind)


def cached_data(seed: int) -> list[int]:
    """The records of a driver's cached RDD (one per driver: the driver's base seed picks them)."""
    base = seed - seed % 1000
    return list(range(base, base + 200))


def seed_of(round_no: int, driver: int, thread: int, job: int) -> int:
    return round_no * 100_000 + driver * 1000 + thread * 100 + job


DRIVER = f"""
import os
import threading
import time
from operator import add
from pathlib import Path
from typing import Any

from ember import SparkContext

KINDS = {KINDS!r}
ROUND, INDEX = int(os.environ["SOAK_ROUND"]), int(os.environ["SOAK_DRIVER"])
{inspect.getsource(cached_data)}
{inspect.getsource(expected)}
{inspect.getsource(seed_of)}
sc = SparkContext(appName=f"soak-{{ROUND}}-{{INDEX}}")
# All drivers of the round hold a session before any runs a job, so the rounds really are 8 clients at once.
barrier = Path(os.environ["SOAK_BARRIER"])
(barrier / str(INDEX)).touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < {DRIVERS} and time.monotonic() < deadline:
    time.sleep(0.02)
together = len(list(barrier.iterdir())) == {DRIVERS}
own = cached_data(seed_of(ROUND, INDEX, 0, 0))
cached = sc.parallelize(own, 2).map(lambda x: 3 * x).cache()
done = []


def run(kind, seed):
    if kind == "reduceByKey":
        data = list(range(seed, seed + 300))
        return sorted(sc.parallelize(data, 3).map(lambda x: (x % 7, x)).reduceByKey(add).collect())
    if kind == "cached":
        return cached.filter(lambda x: x % 2 == seed % 2).sum()
    if kind == "accumulator":
        total = sc.accumulator(0)
        sc.parallelize(list(range(seed % 97 + 50)), 2).foreach(lambda x: total.add(x))
        return total.value
    table = sc.broadcast({{k: k * seed for k in range(10)}})
    value = sc.parallelize(list(range(60)), 2).map(lambda x: table.value[x % 10]).sum()
    table.destroy()
    return value


def thread_jobs(thread):
    for job in range({JOBS_PER_THREAD}):
        kind, seed = KINDS[(thread + job) % len(KINDS)], seed_of(ROUND, INDEX, thread, job)
        got = run(kind, seed)
        got = [list(pair) for pair in got] if kind == "reduceByKey" else got
        want = expected(kind, seed)
        want = [list(pair) for pair in want] if kind == "reduceByKey" else want
        done.append({{"thread": thread, "job": job, "kind": kind, "seed": seed, "got": got, "ok": got == want}})


threads = [threading.Thread(target=thread_jobs, args=(t,)) for t in range({THREADS})]
for t in threads:
    t.start()
for t in threads:
    t.join()
sc.stop()
report({{"driver": INDEX, "round": ROUND, "together": together, "jobs": done}})
"""


def idle_pool_threads(pid: int) -> int:
    """How many of the JVM's threads are idle workers of a cached thread pool (parked in ThreadPoolExecutor.getTask
    on a SynchronousQueue, to end after their keep-alive), from a thread dump by the JDK's jcmd."""
    jcmd = Path(os.readlink(f"/proc/{pid}/exe")).parent / "jcmd"
    command = str(jcmd) if jcmd.exists() else shutil.which("jcmd")
    assert command, "jcmd (from the JDK that runs the service) is needed for a thread dump"
    dump = subprocess.run([command, str(pid), "Thread.print"], capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0, dump.stdout + dump.stderr
    threads = [block for block in re.split(r'\n(?=")', dump.stdout) if block.startswith('"')]
    assert threads, dump.stdout
    return sum(1 for block in threads if "ThreadPoolExecutor.getTask" in block and "SynchronousQueue" in block)


def jvm_usage(pid: int) -> dict[str, int]:
    """The service JVM's open file descriptors, threads (and how many of them are idle pool threads), child
    processes and resident memory (KiB), from /proc and a thread dump."""
    idle = idle_pool_threads(pid)
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    children = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue  # a process that ended while we looked
        if parent == str(pid):
            children += 1
    return {"fds": len(list(Path(f"/proc/{pid}/fd").iterdir())), "threads": int(status["Threads"]),
            "idle_pool_threads": idle, "children": children, "rss_kib": int(status["VmRSS"].split()[0])}


def run_round(round_no: int, env: dict[str, str], start_driver: StartDriver, info: dict,
              tmp_path: Path) -> list[dict]:
    barrier = tmp_path / f"barrier-{round_no}"
    barrier.mkdir()
    drivers = [start_driver(DRIVER, env={**env, "SOAK_ROUND": str(round_no), "SOAK_DRIVER": str(i),
                                         "SOAK_BARRIER": str(barrier)})
               for i in range(DRIVERS)]
    reports = []
    for driver in drivers:
        driver.proc.wait(timeout=120)
        reports.append(driver_result(subprocess.CompletedProcess([], driver.proc.returncode,
                                                                 driver.output_text(), "")))
    # Every driver stopped its context: wait for the service to close the sessions before measuring.
    deadline = time.monotonic() + 30
    while sessions_open(info) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sessions_open(info) == 0
    return reports


def check_round(round_no: int, reports: list[dict]) -> None:
    assert sorted(r["driver"] for r in reports) == list(range(DRIVERS))
    for report in reports:
        assert report["round"] == round_no and report["together"], report["driver"]
        jobs = report["jobs"]
        assert len(jobs) == THREADS * JOBS_PER_THREAD, report
        assert sorted((j["thread"], j["job"]) for j in jobs) == [
            (t, j) for t in range(THREADS) for j in range(JOBS_PER_THREAD)]
        assert {j["kind"] for j in jobs} == set(KINDS)
        for job in jobs:
            assert job["seed"] == seed_of(round_no, report["driver"], job["thread"], job["job"])
            want = expected(job["kind"], job["seed"])
            want = [list(pair) for pair in want] if job["kind"] == "reduceByKey" else want
            assert job["ok"] and job["got"] == want, (report["driver"], job)


def test_eight_drivers_twice_give_exact_results_and_leave_the_service_flat(service: tuple[Path, dict],
                                                                            start_driver: StartDriver,
                                                                            tmp_path: Path) -> None:
    home, info = service
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    pid = info["pid"]
    assert b"java" in Path(f"/proc/{pid}/cmdline").read_bytes()  # the service JVM itself, not a launcher script
    usage = {"start": jvm_usage(pid)}
    for round_no in (1, 2):
        check_round(round_no, run_round(round_no, env, start_driver, info, tmp_path))
        usage[f"round {round_no}"] = jvm_usage(pid)
    print(f"service JVM {pid}: {usage}")
    first, second = usage["round 1"], usage["round 2"]
    assert second["fds"] <= first["fds"] + FD_TOLERANCE, usage
    assert (second["threads"] - second["idle_pool_threads"]
            <= first["threads"] - first["idle_pool_threads"] + THREAD_TOLERANCE), usage
    assert second["children"] <= first["children"] + CHILD_TOLERANCE, usage
    assert second["rss_kib"] <= first["rss_kib"] * RSS_FACTOR, usage
