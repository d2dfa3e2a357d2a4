"""Ember on a cluster (issue 19): real member JVMs on loopback (Hazelcast between them, each with its own Python
workers) run the same programs as local mode, with the same results, and keep them exact when a member is killed,
stopped for a moment or joins while a job runs.

One cluster (a per-run name, secret and port block) serves the whole module; a test that kills a member starts it
again before it ends.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

from conftest import EMBER_DIST, TESTS_DIR, StartDriver, driver_env, driver_result

SLOTS_PER_MEMBER = 2
MEMBERS = 3

#: The RDD API corpus: every test file whose tests need no single process (no worker pids, no local-only paths).
CORPUS = ["test_api_actions.py", "test_api_pairs.py", "test_api_transformations.py", "test_rdd_results.py",
          "test_api_context.py", "test_shared_variables.py", "test_taskcontext.py", "test_files.py",
          "test_files_checkpoints.py", "test_pyspark_compat.py"]


def _free_port_block(size: int) -> int:
    """The first port of ``size`` consecutive free loopback ports."""
    for _ in range(200):
        base = 20000 + secrets.randbelow(30000)
        sockets = []
        try:
            for port in range(base, base + size):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free block of loopback ports")


class Cluster:
    """Member JVMs of one distribution, started with ``bin/ember run --cluster <file>``."""

    def __init__(self, home: Path, workdir: Path, size: int) -> None:
        self.home = home
        self.workdir = workdir
        self.name = "ember-test-" + secrets.token_hex(4)
        self.secret = secrets.token_hex(16)
        self.base = _free_port_block(size + 1)  # one more for a member that joins later
        self.members = ",".join(f"127.0.0.1:{self.base + i}" for i in range(size))
        self.processes: dict[int, subprocess.Popen] = {}
        self.master = f"ember-cluster://127.0.0.1:{self.base}"
        # Drivers find the cluster's name and secret in conf/cluster.cfg of their distribution.
        (home / "conf" / "cluster.cfg").write_text(self.config(0))

    def config(self, index: int) -> str:
        return (f"cluster.name = {self.name}\ncluster.secret = {self.secret}\nmember.port = {self.base + index}\n"
                f"members = {self.members}\npython = {sys.executable}\nslots = {SLOTS_PER_MEMBER}\n")

    def log(self, index: int) -> Path:
        return self.workdir / f"member-{index}.log"

    def start(self, index: int) -> None:
        config = self.workdir / f"member-{index}.cfg"
        config.write_text(self.config(index))
        with open(self.log(index), "ab") as log:
            self.processes[index] = subprocess.Popen(
                [str(self.home / "bin" / "ember"), "run", "--cluster", str(config)], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, env=driver_env(None))

    def pid(self, index: int) -> int:
        return self.processes[index].pid

    def await_size(self, size: int, timeout: float = 90) -> None:
        """Waits until every running member's last membership line says ``size`` members."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [i for i, p in self.processes.items() if p.poll() is None]
            if len(running) == size and all(self._last_size(i) == size for i in running):
                return
            time.sleep(0.2)
        raise AssertionError(f"the cluster did not reach {size} members: "
                             + "; ".join(f"member {i}: {self._last_size(i)}" for i in self.processes)
                             + "\n" + self.log(0).read_text(errors="replace")[-3000:])

    def _last_size(self, index: int) -> Optional[int]:
        text = self.log(index).read_text(errors="replace") if self.log(index).exists() else ""
        position = text.rfind("Members {size:")
        if position < 0:
            return None
        return int(text[position + len("Members {size:"):].split(",")[0])

    def kill(self, index: int, sig: int = signal.SIGKILL) -> None:
        self.processes[index].send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self.processes[index].wait(30)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("cluster")
    home = workdir / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    nodes = Cluster(home, workdir, MEMBERS)
    try:
        for index in range(MEMBERS):
            nodes.start(index)
        nodes.await_size(MEMBERS)
        yield nodes
    finally:
        nodes.stop_all()


def _env(cluster: Cluster) -> dict[str, str]:
    return {"EMBER_HOME": str(cluster.home)}


def _await_file(path: Path, driver, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert driver.proc.poll() is None, driver.output_text()
        assert time.monotonic() < deadline, f"{path.name} did not appear: {driver.output_text()}"
        time.sleep(0.02)


def _finish(driver, timeout: float = 120):
    driver.proc.wait(timeout)
    proc = subprocess.CompletedProcess(driver.proc.args, driver.proc.returncode, driver.output_text(), "")
    return driver_result(proc)


# What a task reports as the member it ran on: its worker's daemon is a child of the member's JVM.
MEMBER_OF_TASK = ('member_pid = lambda: int(open(f"/proc/{os.getppid()}/stat").read().rsplit(")", 1)[1].split()[1])')


def test_the_api_corpus_runs_on_three_members_as_in_local_mode(cluster: Cluster) -> None:
    env = driver_env({"EMBER_HOME": str(cluster.home), "EMBER_TEST_MASTER": cluster.master,
                      "EMBER_TEST_PARALLELISM": str(MEMBERS * SLOTS_PER_MEMBER)})
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CORPUS],
                          cwd=str(TESTS_DIR), env=env, capture_output=True, text=True, timeout=600)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary, summary
    assert int(summary.split(" passed")[0].split()[-1]) > 400, summary


def test_a_job_uses_every_member(cluster: Cluster, run_driver, result_of) -> None:
    proc = run_driver(f"""
        import os, time
        from ember import SparkContext
        {MEMBER_OF_TASK}
        sc = SparkContext({cluster.master!r}, "spread")
        def where(x):
            time.sleep(0.05)
            return member_pid()
        report({{"members": sorted(set(sc.parallelize(range(60), 12).map(where).collect())),
                "parallelism": sc.defaultParallelism}})
        sc.stop()
    """, env=_env(cluster), timeout=120)
    result = result_of(proc)
    assert result["members"] == sorted(cluster.pid(i) for i in range(MEMBERS))
    assert result["parallelism"] == MEMBERS * SLOTS_PER_MEMBER


FAULT_JOB = """
    import os, time
    from operator import add
    from pathlib import Path
    from ember import SparkContext
    sc = SparkContext({master!r}, "fault")
    mapped = sc.accumulator(0)
    reduced = sc.accumulator(0)
    def slow_map(x):
        mapped.add(1)
        Path({marker!r} + "-map").touch()
        time.sleep({map_sleep})
        return (x % 97, x)
    def slow_reduce(kv):
        reduced.add(1)
        Path({marker!r} + "-reduce").touch()
        time.sleep({reduce_sleep})
        return kv
    result = sc.parallelize(range(3000), 12).map(slow_map).reduceByKey(add, 12).map(slow_reduce).collectAsMap()
    report({{"result": sorted(result.items()), "mapped": mapped.value, "reduced": reduced.value}})
    sc.stop()
"""


def _expected_fault_result() -> list[list[int]]:
    sums: dict[int, int] = {}
    for x in range(3000):
        sums[x % 97] = sums.get(x % 97, 0) + x
    return [[k, v] for k, v in sorted(sums.items())]


@pytest.mark.parametrize("stage", ["map", "reduce"])
def test_a_member_killed_during_a_stage_leaves_results_and_accumulators_exact(cluster: Cluster,
                                                                              start_driver: StartDriver,
                                                                              tmp_path: Path, stage: str) -> None:
    marker = str(tmp_path / "started")
    driver = start_driver(FAULT_JOB.format(master=cluster.master, marker=marker,
                                           map_sleep=0.01 if stage == "map" else 0,
                                           reduce_sleep=0.05 if stage == "reduce" else 0), env=_env(cluster))
    _await_file(Path(marker + "-" + stage), driver)
    victim = 1 if stage == "map" else 2
    cluster.kill(victim)
    try:
        result = _finish(driver)
        assert result["result"] == _expected_fault_result()
        assert result["mapped"] == 3000 and result["reduced"] == 97
    finally:
        cluster.start(victim)
        cluster.await_size(MEMBERS)


def test_a_member_stopped_for_a_moment_holds_up_nothing_for_good(cluster: Cluster, start_driver: StartDriver,
                                                                 tmp_path: Path) -> None:
    marker = str(tmp_path / "started")
    driver = start_driver(FAULT_JOB.format(master=cluster.master, marker=marker, map_sleep=0.005, reduce_sleep=0),
                          env=_env(cluster))
    _await_file(Path(marker + "-map"), driver)
    cluster.kill(1, signal.SIGSTOP)
    time.sleep(2)  # shorter than memberTimeoutSeconds (5): the member is slow, not gone
    cluster.kill(1, signal.SIGCONT)
    result = _finish(driver)
    assert result["result"] == _expected_fault_result()
    assert result["mapped"] == 3000 and result["reduced"] == 97
    assert cluster.processes[1].poll() is None


def test_cancelling_a_job_group_stops_its_tasks_on_the_members(cluster: Cluster, run_driver, result_of) -> None:
    proc = run_driver(f"""
        import threading, time
        from ember import SparkContext
        sc = SparkContext({cluster.master!r}, "cancel")
        outcome = {{}}
        def long_job():
            sc.setJobGroup("slow", "a job to cancel")
            try:
                sc.parallelize(range(12), 12).map(lambda x: time.sleep(30) or x).collect()
                outcome["job"] = "finished"
            except Exception as e:
                outcome["job"] = type(e).__name__ + ": " + str(e)
        thread = threading.Thread(target=long_job)
        thread.start()
        time.sleep(3)
        started = time.monotonic()
        sc.cancelJobGroup("slow")
        thread.join(60)
        outcome["stopped_within"] = time.monotonic() - started
        outcome["after"] = sc.parallelize(range(100), 6).sum()
        sc.stop()
        report(outcome)
    """, env=_env(cluster), timeout=120)
    result = result_of(proc)
    assert "cancel" in result["job"].lower(), result
    assert result["stopped_within"] < 20  # not the 30 s its tasks would have slept
    assert result["after"] == 4950


def test_a_member_that_joins_during_a_job_takes_tasks_of_its_later_stages(cluster: Cluster,
                                                                          start_driver: StartDriver,
                                                                          tmp_path: Path) -> None:
    joined = tmp_path / "joined"
    started = tmp_path / "first-stage"
    driver = start_driver(f"""
        import os, time
        from operator import add
        from pathlib import Path
        from ember import SparkContext
        {MEMBER_OF_TASK}
        sc = SparkContext({cluster.master!r}, "join")
        def first(x):
            # The first stage waits for the fourth member to be up, so the next stage can use it.
            Path({str(started)!r}).touch()
            deadline = time.monotonic() + 90
            while not Path({str(joined)!r}).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return (x % 24, 1)
        def second(kv):
            time.sleep(0.1)
            return member_pid()
        members = sc.parallelize(range(48), 6).map(first).reduceByKey(add, 24).map(second).collect()
        report({{"members": sorted(set(members))}})
        sc.stop()
    """, env=_env(cluster))
    _await_file(started, driver)
    cluster.start(MEMBERS)
    try:
        cluster.await_size(MEMBERS + 1)
        joined.touch()
        result = _finish(driver)
        assert cluster.pid(MEMBERS) in result["members"], result
    finally:
        cluster.kill(MEMBERS, signal.SIGTERM)
        cluster.await_size(MEMBERS)


def test_added_files_and_python_files_travel_to_the_members(cluster: Cluster, run_driver, result_of,
                                                            tmp_path: Path) -> None:
    data = tmp_path / "lookup.txt"
    data.write_text("alpha\nbeta\n")
    module = tmp_path / "shipped_helper.py"
    module.write_text("def triple(x):\n    return 3 * x\n")
    proc = run_driver(f"""
        from ember import SparkContext, SparkFiles
        sc = SparkContext({cluster.master!r}, "files", pyFiles=[{str(module)!r}])
        sc.addFile({str(data)!r})
        def use(x):
            import shipped_helper
            with open(SparkFiles.get("lookup.txt")) as f:
                words = f.read().split()
            return (shipped_helper.triple(x), words, SparkFiles.getRootDirectory(), shipped_helper.__file__)
        rows = sc.parallelize(range(12), 6).map(use).collect()
        report({{"rows": rows, "driver_root": SparkFiles.getRootDirectory()}})
        sc.stop()
    """, env=_env(cluster), timeout=120)
    result = result_of(proc)
    assert [row[0] for row in result["rows"]] == [3 * x for x in range(12)]
    assert all(row[1] == ["alpha", "beta"] for row in result["rows"])
    # The workers read copies unpacked on their member, not the driver's directory.
    roots = {row[2] for row in result["rows"]}
    assert result["driver_root"] not in roots
    assert all(row[3].startswith(row[2]) for row in result["rows"])


def test_a_path_a_member_cannot_see_fails_saying_paths_must_be_shared(cluster: Cluster, run_driver, result_of,
                                                                      tmp_path: Path) -> None:
    data = tmp_path / "input.txt"
    data.write_text("one\ntwo\n")
    proc = run_driver(f"""
        import os
        from ember import SparkContext
        sc = SparkContext({cluster.master!r}, "paths")
        lines = sc.textFile({str(data)!r})  # listed by the driver, which sees it
        os.remove({str(data)!r})  # as a member without the driver's disk would not see it
        try:
            lines.count()
            outcome = "no error"
        except Exception as e:
            outcome = str(e)
        report({{"outcome": outcome, "after": sc.parallelize(range(10), 3).sum()}})
        sc.stop()
    """, env=_env(cluster), timeout=120)
    result = result_of(proc)
    assert "shared mount" in result["outcome"] and str(data) in result["outcome"], result
    assert result["after"] == 45
