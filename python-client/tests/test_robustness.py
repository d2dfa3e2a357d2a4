"""Holes found in the second attack pass (issue 23): damaged spill files, the shared entry point, user errors taken for
a lost gateway, leaks of temp directories and sessions, private output, and diagnostics. Each test failed on the code
before its fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_engine_behaviour import small_budget_distribution
from test_service import service  # noqa: F401 - the fixture


@pytest.mark.parametrize("damage", ["delete", "truncate", "overwrite"])
def test_a_damaged_spill_file_is_made_again_from_lineage_instead_of_hanging(tmp_path: Path, run_driver, result_of,
                                                                           damage: str) -> None:
    home, spill = small_budget_distribution(tmp_path)
    proc = run_driver(f"""
        import os
        from ember import SparkContext
        sc = SparkContext("local[2]", "damaged-spill")
        counter = sc.accumulator(0)
        def tag(i):
            counter.add(1)
            return (i % 500, "v" * 40 + str(i))
        pairs = sc.range(120_000, numSlices=4).map(tag)
        grouped = pairs.groupByKey()
        cached = sc.range(60_000, numSlices=3).map(lambda i: "c" * 40 + str(i)).cache()
        first = grouped.mapValues(len).count()
        first_cached = cached.count()
        files = [os.path.join(d, f) for d, _, fs in os.walk({str(spill)!r}) for f in fs if f.startswith("spill-")]
        for path in files:
            if {damage!r} == "delete":
                os.remove(path)
            elif {damage!r} == "truncate":
                with open(path, "r+b") as f:
                    f.truncate(os.path.getsize(path) // 3)
            else:
                size = os.path.getsize(path)
                with open(path, "r+b") as f:
                    f.seek(size // 2)
                    f.write(bytes(range(256)) * 4)
        result = {{
            "files": len(files),
            "first": first,
            "first_cached": first_cached,
            "sizes": sorted(grouped.mapValues(len).collect()),
            "cached_sum": cached.map(len).sum(),
            "after": sc.parallelize(range(10), 2).sum(),
        }}
        sc.stop()
        report(result)
    """, env={"EMBER_HOME": str(home)}, timeout=120)
    result = result_of(proc)
    assert result["files"] > 0, "the small budget should have spilled"
    assert result["first"] == 500 and result["first_cached"] == 60_000
    counts: dict[int, int] = {}
    for i in range(120_000):
        counts[i % 500] = counts.get(i % 500, 0) + 1
    assert result["sizes"] == [[key, count] for key, count in sorted(counts.items())]
    assert result["cached_sum"] == sum(len("c" * 40 + str(i)) for i in range(60_000))
    assert result["after"] == 45


def test_a_client_cannot_delete_the_shared_entry_point(sc) -> None:
    from py4j import protocol
    from ember.java_gateway import connect
    gateway, _ = connect(sc._launched.port, sc._launched.secret)
    try:
        for shared in ("t", "j", "GATEWAY_SERVER"):
            # Py4J's memory command, as any client can send it: delete object <id>.
            gateway._gateway_client.send_command(
                f"{protocol.MEMORY_COMMAND_NAME}{protocol.MEMORY_DEL_SUBCOMMAND_NAME}{shared}\n"
                f"{protocol.END_COMMAND_PART}")
    finally:
        gateway.close()
    # A new client still finds the entry point, and the context goes on.
    gateway, entry = connect(sc._launched.port, sc._launched.secret)
    try:
        assert entry.sidePort() > 0
    finally:
        gateway.close()
    assert sc.parallelize(range(10), 2).sum() == 45


def test_a_tasks_own_connection_errors_are_the_jobs_failure_not_a_lost_gateway(sc) -> None:
    import errno
    from ember import AccumulatorParam
    from ember.errors import EmberError
    raised = [FileNotFoundError(errno.ENOENT, "No such file", "/nope"), PermissionError(errno.EACCES, "denied"),
              ConnectionResetError(errno.ECONNRESET, "reset by peer"), BrokenPipeError(errno.EPIPE, "pipe"),
              EOFError("ran out of input")]
    for error in raised:
        def fail(_: int, error: BaseException = error) -> int:
            raise error
        with pytest.raises(type(error)) as caught:
            sc.parallelize([1, 2], 2).map(fail).collect()
        assert "Lost the connection" not in str(caught.value)
        assert "Traceback" in str(caught.value) and "in fail" in str(caught.value)  # the worker's traceback

    driver = os.getpid()

    class ResetOnMerge(AccumulatorParam):
        """An accumulator whose merge on the driver (not in the task) raises a ConnectionResetError of its own."""
        def zero(self, value: int) -> int:
            return 0

        def addInPlace(self, a: int, b: int) -> int:
            if b == 7 and os.getpid() == driver:
                raise ConnectionResetError(errno.ECONNRESET, "the user's own merge")
            return a + b

    accumulator = sc.accumulator(0, ResetOnMerge())
    with pytest.raises(ConnectionResetError, match="the user's own merge") as caught:
        sc.parallelize([7], 1).foreach(lambda x: accumulator.add(x))
    assert not isinstance(caught.value, EmberError)
    assert sc.parallelize(range(10), 2).sum() == 45  # the context still works


def test_a_task_error_that_cannot_be_combined_with_ember_s_is_still_the_tasks(sc) -> None:
    import helper_module
    with pytest.raises(helper_module.FinalResetError, match="the task's own reset on 1") as caught:
        sc.parallelize([1], 1).map(helper_module.raise_final_reset).collect()
    assert "Traceback" in str(caught.value.__cause__)  # the worker's report comes as its cause
    assert sc.parallelize(range(10), 2).sum() == 45


def _status(info: dict) -> dict:
    import json
    from ember.java_gateway import connect
    gateway, entry = connect(info["port"], info["secret"])
    try:
        return json.loads(entry.status())
    finally:
        gateway.close()


def test_sessions_never_attached_are_closed_and_killed_drivers_leave_no_py4j_objects(tmp_path: Path, run_driver,
                                                                                     start_driver) -> None:
    import json
    import shutil
    import signal
    import time
    from conftest import EMBER_DIST
    from ember.java_gateway import connect
    from test_service import run_service
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    conf = home / "conf" / "dev.ember.gateway.py4j.cfg"
    conf.write_text(conf.read_text().replace("sessionAttachTimeoutSeconds = 30", "sessionAttachTimeoutSeconds = 2"))
    service = run_service(home)
    home, info = next(service)
    try:
        baseline = _status(info)
        assert baseline["sessions"] == 0
        # A client that opens sessions and never takes their lease (it went away, or never meant to attach).
        gateway, entry = connect(info["port"], info["secret"])
        try:
            for i in range(3):
                entry.openSession(json.dumps({"appName": f"unattached-{i}", "parallelism": 1,
                                              "pythonExec": "python3", "workerEnv": {}}))
            assert _status(info)["sessions"] == 3
            deadline = time.monotonic() + 20
            while _status(info)["sessions"] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _status(info)["sessions"] == 0
        finally:
            gateway.close()
        # Drivers killed with SIGKILL: their sessions close and Py4J forgets their objects.
        env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
        for i in range(3):
            ready = tmp_path / f"ready-{i}"
            driver = start_driver(f"""
                import time
                from pathlib import Path
                from ember import SparkContext
                sc = SparkContext(appName="killed-{i}")
                sc.parallelize(range(100), 2).cache().count()
                Path({str(ready)!r}).touch()
                time.sleep(120)
            """, env=env)
            deadline = time.monotonic() + 60
            while not ready.exists() and time.monotonic() < deadline and driver.proc.poll() is None:
                time.sleep(0.05)
            assert ready.exists(), driver.output_text()
            driver.proc.send_signal(signal.SIGKILL)
            driver.proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = _status(info)
            if status["sessions"] == 0 and status["gatewayObjects"] <= baseline["gatewayObjects"]:
                break
            time.sleep(0.2)
        assert status["sessions"] == 0
        assert status["gatewayObjects"] <= baseline["gatewayObjects"], (status, baseline)
        assert "was not attached by its driver within 2 s" in (home / "logs" / "ember.log").read_text()
    finally:
        service.close()


def _age_owner_locks(root: Path, prefix: str) -> None:
    """Makes the owner locks of ``prefix*`` directories look older than a sweep's grace period (a lock just made
    is left alone, since its owner may be about to take it)."""
    import time
    for directory in root.glob(prefix + "*"):
        lock = directory / ".owner"
        if lock.exists():
            old = time.time() - 60
            os.utime(lock, (old, old))


def test_a_failed_merge_leaves_no_spill_directory(tmp_path: Path, run_driver, result_of) -> None:
    tmp = tmp_path / "worker-tmp"
    tmp.mkdir()
    proc = run_driver(f"""
        import os
        from ember import SparkConf, SparkContext
        conf = SparkConf().set("spark.python.worker.memory", "1m").set("spark.executorEnv.TMPDIR", {str(tmp)!r})
        sc = SparkContext("local[1]", "failed-merge", conf=conf)
        def fail_late(v):
            # Raised while the groupByKey below merges this partition (no shuffle: the RDD is partitioned already),
            # after it has spilled: the merge never reaches its own clean-up.
            if v == 190000:
                raise ValueError("late failure after the merge spilled")
            return "w" * 30 + str(v)
        try:
            pairs = sc.range(200000, numSlices=1).map(lambda i: (i % 20000, i)).partitionBy(1).mapValues(fail_late)
            pairs.groupByKey(1).count()
            outcome = "no error"
        except ValueError as e:
            outcome = "ValueError"
        left = [os.path.join(d, n) for d, ns, _ in os.walk({str(tmp)!r}) for n in ns if n.startswith("merge-")]
        report({{"outcome": outcome, "left": left, "after": sc.parallelize(range(10)).sum()}})
        sc.stop()
    """, timeout=120)
    result = result_of(proc)
    assert result["outcome"] == "ValueError"
    assert result["left"] == [] and result["after"] == 45


def test_directories_of_killed_python_processes_are_swept(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time
    from ember import privatedirs
    base = tmp_path / "tmp"
    base.mkdir()
    env = dict(os.environ, TMPDIR=str(base))
    owner = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from ember import privatedirs\n"
        "for prefix in ('driver-', 'merge-', 'files-'):\n"
        "    print(privatedirs.mkdtemp(prefix), flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True, env=env)
    made = [owner.stdout.readline().strip() for _ in range(3)]
    root = Path(made[0]).parent
    _age_owner_locks(root, "")
    assert privatedirs.sweep_dead(str(base)) == []  # the owner runs: nothing goes
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert sorted(privatedirs.sweep_dead(str(base))) == sorted(made)
    assert not any(Path(d).exists() for d in made)


def test_a_killed_driver_and_its_jvm_leave_nothing_the_next_start_does_not_clear(tmp_path: Path, start_driver,
                                                                                  run_driver, result_of) -> None:
    import signal
    import time
    home, spill = small_budget_distribution(tmp_path)
    fileinstall_before = set(Path("/tmp").glob("fileinstall-*"))
    ready = tmp_path / "ready"
    victim = start_driver(f"""
        import json, time
        from pathlib import Path
        from ember import SparkContext
        sc = SparkContext("local[2]", "killed")
        sc.range(100_000, numSlices=4).map(lambda i: (i % 100, "v" * 40 + str(i))).groupByKey().count()
        time.sleep(1.5)  # the deferred tools (FileInstall) start after the gateway
        Path({str(ready)!r}).write_text(json.dumps({{"workdir": str(sc._launched.workdir),
                                                     "jvm": sc._launched.process.pid}}))
        time.sleep(120)
    """, env={"EMBER_HOME": str(home)})
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and victim.proc.poll() is None:
        time.sleep(0.05)
    assert ready.exists(), victim.output_text()
    import json
    info = json.loads(ready.read_text())
    os.kill(info["jvm"], signal.SIGKILL)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    workdir = Path(info["workdir"])
    spill_dirs = list((spill / workdir.parent.name).glob("spill-*"))
    assert workdir.exists() and spill_dirs  # what the killed processes left
    assert set(Path("/tmp").glob("fileinstall-*")) == fileinstall_before  # FileInstall's temp dir is in the cache
    _age_owner_locks(workdir.parent, "driver-")
    _age_owner_locks(spill / workdir.parent.name, "spill-")
    proc = run_driver("""
        from ember import SparkContext
        sc = SparkContext("local[2]", "next")
        total = sc.range(100_000, numSlices=4).map(lambda i: (i % 100, "v" * 40 + str(i))).groupByKey().count()
        report({"groups": total})
        sc.stop()
    """, env={"EMBER_HOME": str(home)})
    assert result_of(proc)["groups"] == 100
    assert not workdir.exists()
    assert not any(d.exists() for d in spill_dirs)


def test_logs_and_run_files_of_a_service_are_owner_only(tmp_path: Path) -> None:
    import shutil
    import stat
    from conftest import EMBER_DIST
    from test_service import run_service
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    # As an older version left them: open to everyone.
    (home / "logs").mkdir(mode=0o755, exist_ok=True)
    os.chmod(home / "logs", 0o755)
    for name in ("ember.out", "ember.log"):
        (home / "logs" / name).write_text("older lines\n")
        os.chmod(home / "logs" / name, 0o644)
    service = run_service(home)
    next(service)
    try:
        modes = {str(path.relative_to(home)): stat.S_IMODE(path.stat().st_mode)
                 for path in [home / "logs", home / "logs" / "ember.out", home / "logs" / "ember.log",
                              home / "run", home / "run" / "gateway.json"]}
    finally:
        service.close()
    assert modes == {"logs": 0o700, "logs/ember.out": 0o600, "logs/ember.log": 0o600, "run": 0o700,
                     "run/gateway.json": 0o600}


def test_diagnostics_say_what_happened(tmp_path: Path, run_driver, result_of) -> None:
    proc = run_driver("""
        import os, signal
        from ember import SparkContext
        sc = SparkContext("local[2]", "diagnostics")
        result = {}
        try:
            sc.textFile("/dev/zero").count()
        except OSError as e:
            result["device"] = str(e)
        try:
            sc._session.submitJob("{not json", False)
        except Exception as e:
            result["gateway_error"] = str(e)
        os.kill(sc._launched.process.pid, signal.SIGKILL)
        sc._launched.process.wait()
        sc.stop()
        report(result)
    """)
    result = result_of(proc)
    assert "not a regular file or directory: /dev/zero" in result["device"]
    assert "does not exist" not in result["device"]
    # The client learns what was wrong with its call, not the JVM's code.
    assert "job plan is not valid JSON" in result["gateway_error"]
    assert "\tat " not in result["gateway_error"] and ".java:" not in result["gateway_error"]
    # stop() after the JVM died: one line, no Py4J tracebacks.
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "was killed by signal 9 (SIGKILL) before stop()" in proc.stderr


def test_a_crashed_workers_report_shows_its_own_output_only(service, run_driver) -> None:  # noqa: F811
    home, info = service
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    # Two clients of one service share its worker daemon. One prints a line of its own on stderr (the service keeps
    # worker output in its log); the other's worker crashes, and its report must not show the first one's line.
    chatty = run_driver("""
        import os
        from ember import SparkContext
        sc = SparkContext(appName="chatty")
        def chatty(x):
            os.write(2, b"another client's secret line\\n")
            return x
        sc.parallelize(range(4), 2).map(chatty).collect()
        sc.stop()
        report("done")
    """, env=env)
    assert chatty.returncode == 0, chatty.stderr
    crashing = run_driver("""
        import os, time
        from ember import SparkConf, SparkContext
        sc = SparkContext(appName="crashing", conf=SparkConf().set("spark.task.maxFailures", "1"))
        def crash(x):
            os.write(2, b"the crashing task's own line\\n")
            time.sleep(0.2)
            os.kill(os.getpid(), 9)
        try:
            sc.parallelize([1], 1).map(crash).collect()
            outcome = "no error"
        except Exception as e:
            outcome = str(e)
        sc.stop()
        report(outcome)
    """, env=env, timeout=120)
    from conftest import driver_result
    outcome = driver_result(crashing)
    assert "killed by signal 9" in outcome, outcome
    assert "the crashing task's own line" in outcome
    assert "another client's secret line" not in outcome
    assert "another client's secret line" in (home / "logs" / "ember.out").read_text()
