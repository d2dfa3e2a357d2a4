"""Attacks on a running Ember (issue 18): what one client of a service can reach of another's, what other local
users can plant, what unauthenticated peers can make the JVM do. Each test fails on the code before its fix."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from py4j import protocol

from conftest import EMBER_DIST, StartDriver, driver_result
from ember.errors import EmberError
from ember.java_gateway import SideChannel, connect
from test_engine_behaviour import small_budget_distribution
from test_service import service  # noqa: F401 - the fixture


def test_a_client_cannot_reach_another_clients_session_by_guessing_ids(service, start_driver: StartDriver,  # noqa: F811
                                                                       tmp_path: Path) -> None:
    home, info = service
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    ready = tmp_path / "victim-ready"
    go_on = tmp_path / "attack-done"
    victim = start_driver(f"""
        import time
        from pathlib import Path
        from ember import SparkContext
        sc = SparkContext(appName="victim")
        data = sc.parallelize(list(range(1000)), 4).cache()
        first = data.sum()
        Path({str(ready)!r}).touch()
        deadline = time.monotonic() + 60
        while not Path({str(go_on)!r}).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        report({{"first": first, "after": data.map(lambda x: x * 2).sum(), "session": sc._session.id()}})
        sc.stop()
    """, env=env)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and victim.proc.poll() is None:
        time.sleep(0.05)
    assert ready.exists(), victim.output_text()

    gateway, entry = connect(info["port"], info["secret"])  # the attacker holds the service's secret too
    reached = []
    try:
        for i in range(201):
            for method in ("stop", "id", "cancelAllJobs"):
                # Py4J's own call command, as any client can send it: target object, method, no arguments.
                answer = gateway._gateway_client.send_command(
                    f"{protocol.CALL_COMMAND_NAME}o{i}\n{method}\n{protocol.END_COMMAND_PART}")
                if answer.startswith(protocol.RETURN_MESSAGE + protocol.SUCCESS):
                    reached.append(f"o{i}.{method}")
        side = entry.sidePort()
        for number in range(1, 21):  # session ids are s1, s2, ...: not enough to act on a session
            for request in (lambda c: c.store([[b"x"]]), lambda c: c.blob(b"x"), lambda c: c.broadcast(1, b"x")):
                try:
                    request(SideChannel(side, info["secret"], f"s{number}"))
                    reached.append(f"side s{number}")
                except EmberError:
                    pass
    finally:
        gateway.close()
        go_on.touch()
    victim.proc.wait(timeout=60)
    result = driver_result(subprocess.CompletedProcess([], victim.proc.returncode, victim.output_text(), ""))
    assert reached == []
    assert result["first"] == sum(range(1000)) and result["after"] == 2 * sum(range(1000))


NOBODY = 65534


def plant(directory: Path) -> Path:
    """What another local user would do first: make the victim's private root theirs (here: nobody's)."""
    directory.mkdir(parents=True)
    directory.chmod(0o700)
    os.chown(directory, NOBODY, NOBODY)
    return directory


def user_root_name() -> str:
    return "ember-" + pwd.getpwuid(os.getuid()).pw_name


def test_spill_files_go_to_a_private_root_and_a_planted_one_is_refused(tmp_path: Path, run_driver,
                                                                        result_of) -> None:
    home, spill = small_budget_distribution(tmp_path)
    job = """
        from ember import SparkContext
        sc = SparkContext("local[2]", "spill")
        try:
            pairs = sc.range(200000, numSlices=4).map(lambda i: (i % 500, "v" * 30 + str(i)))
            report({"groups": pairs.groupByKey().count()})
        except Exception as e:
            report({"error": str(e)})
        sc.stop()
    """
    result = result_of(run_driver(job, env={"EMBER_HOME": str(home)}, timeout=120))
    assert result == {"groups": 500}
    assert [p.name for p in spill.iterdir()] == [user_root_name()]  # nothing predictable beside it
    assert stat.S_IMODE((spill / user_root_name()).stat().st_mode) == 0o700
    shutil.rmtree(spill)
    plant(spill / user_root_name())
    result = result_of(run_driver(job, env={"EMBER_HOME": str(home)}, timeout=120))
    assert "could not spill" in result["error"] and "belongs to" in result["error"], result
    assert list((spill / user_root_name()).iterdir()) == []  # nothing written into the planted directory


def test_python_temp_directories_refuse_a_planted_root(tmp_path: Path, run_driver, result_of) -> None:
    from ember import privatedirs
    from ember.merge import ExternalMerger
    own = privatedirs.user_root(str(tmp_path / "mine"))
    assert stat.S_IMODE(os.stat(own).st_mode) == 0o700
    planted = plant(tmp_path / "planted" / user_root_name())
    with pytest.raises(privatedirs.UnsafeDirectoryError, match="belongs to uid 65534"):
        privatedirs.user_root(str(planted.parent))
    open_root = tmp_path / "open" / user_root_name()
    open_root.mkdir(parents=True)
    open_root.chmod(0o777)
    with pytest.raises(privatedirs.UnsafeDirectoryError, match="lets other users in"):
        privatedirs.user_root(str(open_root.parent))
    # A merge that spills, and a driver's work directory, go under the private root of TMPDIR.
    proc = run_driver("""
        import os
        from ember.merge import ExternalMerger
        from ember.merge import append_to_group, extend_group, start_group
        merger = ExternalMerger(start_group, append_to_group, extend_group, limit=0)
        merger.merge_values([(i % 10, i) for i in range(5000)])
        merger._spill()
        report(merger.directory)
    """, env={"TMPDIR": str(planted.parent)})
    assert proc.returncode != 0 and "belongs to uid 65534" in proc.stderr
    del ExternalMerger


def test_bundle_caches_live_in_a_private_root_and_a_planted_one_is_passed_over(tmp_path: Path, run_driver,
                                                                               result_of) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    plant(runtime / user_root_name())
    proc = run_driver("""
        from ember import SparkContext
        sc = SparkContext("local[1]", "cache")
        report(sc.parallelize(range(10)).sum())
        sc.stop()
    """, env={"XDG_RUNTIME_DIR": str(runtime)})
    assert result_of(proc) == 45
    assert list((runtime / user_root_name()).iterdir()) == []  # no slot made in, or taken from, the planted root
    assert [p.name for p in runtime.iterdir()] == [user_root_name()]  # and none beside it, where names are known


def run_on_a_small_disk(tmp_path: Path, code: str, small: Path, env: dict) -> subprocess.CompletedProcess:
    """Runs a driver script with a 3 MiB tmpfs mounted at ``small``, in a mount namespace of its own (made with
    ``unshare``, so it needs no privilege and vanishes with the driver)."""
    from conftest import _write_driver, driver_env
    script = _write_driver(tmp_path / "drivers", code)
    small.mkdir(exist_ok=True)
    command = f"mount -t tmpfs -o size=3m,mode=0755 tmpfs {small} && exec {sys.executable} {script}"
    return subprocess.run(["unshare", "-rm", "sh", "-c", command], env=driver_env(env), cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=180)


def test_a_full_disk_fails_spills_and_saves_clearly_and_the_context_goes_on(tmp_path: Path) -> None:
    home, _ = small_budget_distribution(tmp_path)
    small = tmp_path / "small"
    config = home / "conf" / "dev.ember.engine.cfg"
    config.write_text("\n".join(line if not line.startswith("spillDirectory") else f"spillDirectory = {small}"
                                for line in config.read_text().splitlines()) + "\n")
    proc = run_on_a_small_disk(tmp_path, f"""
        import gc, os
        from ember import SparkConf, SparkContext
        small = {str(small)!r}
        sc = SparkContext("local[2]", "full-disk")
        outcome = {{}}
        pairs = sc.range(400000, numSlices=4).map(lambda i: (i % 1000, "v" * 30 + str(i)))
        try:
            pairs.groupByKey().count()
            outcome["spill"] = "no error"
        except Exception as e:
            outcome["spill"] = type(e).__name__ + ": " + str(e)
        del pairs
        gc.collect()
        outcome["after"] = sc.parallelize(range(100), 2).map(lambda x: (x % 3, x)).reduceByKey(lambda a, b: a + b) \\
            .collectAsMap()
        import time
        deadline = time.monotonic() + 10  # tasks still running when the job failed discard their output as they end
        while True:
            outcome["left"] = [os.path.join(d, f) for d, _, fs in os.walk(small) for f in fs if f != ".owner"]
            if not outcome["left"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        big = sc.parallelize(["x" * 1000] * 5000, 2)
        try:
            big.saveAsTextFile(os.path.join(small, "out"))
            outcome["save"] = "no error"
        except Exception as e:
            outcome["save"] = type(e).__name__ + ": " + str(e)
        outcome["out_left"] = os.path.exists(os.path.join(small, "out"))
        outcome["after_save"] = sc.parallelize(range(10)).sum()
        sc.stop()
        report(outcome)
    """, small, {"EMBER_HOME": str(home)})
    result = driver_result(proc)
    assert "could not spill shuffle data to " + str(small) in result["spill"], result
    assert "No space left on device" in result["spill"] and "spillDirectory" in result["spill"]
    assert "failed 4 times" not in result["spill"]  # failed at once, not retried against the same full disk
    assert result["after"] == {str(k): sum(x for x in range(100) if x % 3 == k) for k in range(3)}
    assert result["left"] == []  # the failed job's spill files went with its RDD
    assert f"could not write {small}/out" in result["save"] and "No space left on device" in result["save"]
    assert result["out_left"] is False and result["after_save"] == 45


def test_a_full_disk_fails_the_python_merge_clearly(tmp_path: Path) -> None:
    small = tmp_path / "small"
    proc = run_on_a_small_disk(tmp_path, f"""
        import os
        from ember import SparkConf, SparkContext
        small = {str(small)!r}
        conf = SparkConf().set("spark.python.worker.memory", "1m").set("spark.executorEnv.TMPDIR", small)
        sc = SparkContext("local[1]", "merge-full", conf=conf)
        try:
            sc.range(300000, numSlices=1).map(lambda i: (i, "w" * 30 + str(i))).groupByKey().count()
            outcome = "no error"
        except Exception as e:
            outcome = type(e).__name__ + ": " + str(e)
        report({{"error": outcome, "after": sc.parallelize(range(10)).sum(),
                "left": [f for _, _, fs in os.walk(small) for f in fs]}})
        sc.stop()
    """, small, {})
    result = driver_result(proc)
    assert "could not spill the Python merge to " + str(small) in result["error"], result
    assert "No space left on device" in result["error"] and "spark.python.worker.memory" in result["error"]
    assert result["after"] == 45 and result["left"] == []


def test_a_jar_removed_from_load_while_no_jvm_runs_does_not_come_back(tmp_path: Path, run_driver, result_of) -> None:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    uds = next((home / "extras").glob("dev.ember.transport.uds-*.jar"))
    shutil.copy(uds, home / "load")
    # FileInstall installs load/ a moment after the boot: watch the active transport for a few seconds.
    transport_of_a_job = """
        import json, time
        from ember import SparkContext
        sc = SparkContext("local[1]", "load-dir")
        seen = set()
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and "uds" not in seen:
            sc.parallelize([1]).count()
            seen.add(json.loads(sc._entry.status())["transport"])
            time.sleep(0.2)
        report("uds" if "uds" in seen else "tcp")
        sc.stop()
    """
    env = {"EMBER_HOME": str(home)}
    assert result_of(run_driver(transport_of_a_job, env=env)) == "uds"
    (home / "load" / uds.name).unlink()
    # The next boots reuse the bundle cache of the first one: the uds bundle must not be in it any more.
    assert result_of(run_driver(transport_of_a_job, env=env)) == "tcp"
    assert result_of(run_driver(transport_of_a_job, env=env)) == "tcp"


def test_a_worker_environment_that_prints_first_does_not_break_the_daemon(tmp_path: Path, run_driver,
                                                                          result_of) -> None:
    site = tmp_path / "site"
    site.mkdir()
    # A sitecustomize that talks: it runs in the daemon before the daemon prints its address.
    (site / "sitecustomize.py").write_text("print('hello from sitecustomize')\nprint('12345')\n")
    proc = run_driver(f"""
        import os
        from ember import SparkConf, SparkContext
        conf = SparkConf().set("spark.executorEnv.PYTHONPATH", {str(site)!r} + os.pathsep + os.environ["PYTHONPATH"])
        sc = SparkContext("local[2]", "talkative", conf=conf)
        report(sc.parallelize(range(100), 4).map(lambda x: x * 3).sum())
        sc.stop()
    """, timeout=60)
    assert result_of(proc) == 3 * sum(range(100))


def test_the_remote_shell_of_a_service_is_off_unless_enabled(service) -> None:  # noqa: F811
    home, info = service
    time.sleep(1.5)  # the shell would have published run/shell.json by now (tools start after the gateway)
    assert not (home / "run" / "shell.json").exists()
    proc = subprocess.run([str(home / "bin" / "ember"), "shell"], input="lb\nexit\n", capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0 and "shell.enabled = true in conf/dev.ember.shell.cfg" in proc.stderr
    assert "remote shell is off" in (home / "logs" / "ember.log").read_text()


def test_spill_files_are_closed_when_a_reduce_task_stops_early(tmp_path: Path, run_driver, result_of) -> None:
    home, _ = small_budget_distribution(tmp_path)
    proc = run_driver("""
        import os
        from ember import SparkContext
        sc = SparkContext("local[2]", "fd-leak")
        pairs = sc.range(200000, numSlices=4).map(lambda i: (i % 100, "v" * 30 + str(i))).partitionBy(2)
        assert pairs.count() == 200000  # the shuffle is written (and spilled past the 1 MB budget)

        def die_at_once(iterator):
            next(iterator)
            os._exit(3)  # the worker goes while the JVM still streams it the spilled partition

        try:
            pairs.mapPartitions(die_at_once).collect()
        except Exception:
            pass
        jvm = sc._launched.process.pid
        spill_fds = []
        for fd in os.listdir(f"/proc/{jvm}/fd"):
            try:
                target = os.readlink(f"/proc/{jvm}/fd/{fd}")
            except OSError:
                continue
            if "spill-" in target and not target.endswith("/.owner"):  # the directory's owner lock stays held
                spill_fds.append(target)
        report({"open_spill_files": spill_fds, "after": pairs.count()})
        sc.stop()
    """, env={"EMBER_HOME": str(home)}, timeout=180)
    result = result_of(proc)
    assert result == {"open_spill_files": [], "after": 200000}


def test_a_stopped_worker_is_killed_and_its_task_retried(tmp_path: Path, run_driver, result_of) -> None:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    config = home / "conf" / "dev.ember.engine.cfg"
    config.write_text(config.read_text().replace("stoppedWorkerTimeoutSeconds = 30", "stoppedWorkerTimeoutSeconds = 2"))
    proc = run_driver("""
        import os, signal
        from ember import SparkContext, TaskContext
        sc = SparkContext("local[2]", "stopped")

        def stop_first_attempt(split, iterator):
            if split == 1 and TaskContext.get().attemptNumber() == 0:
                os.kill(os.getpid(), signal.SIGSTOP)  # as a Ctrl-Z or a debugger would
            return ((x, TaskContext.get().attemptNumber()) for x in iterator)

        records = sc.parallelize(range(6), 2).mapPartitionsWithIndex(stop_first_attempt).collect()
        report({"records": records, "logged": "had been stopped (SIGSTOP or a debugger)" in
                open(sc._launched.log_path).read()})
        sc.stop()
    """, env={"EMBER_HOME": str(home)}, timeout=60)  # the job used to wait for ever
    assert result_of(proc) == {"records": [[0, 0], [1, 0], [2, 0], [3, 1], [4, 1], [5, 1]], "logged": True}
