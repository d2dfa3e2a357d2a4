"""Ember as a long-running service: start, status and stop, several clients at once, and a killed client's session
freed while the others go on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

from conftest import EMBER_DIST, StartDriver, driver_result
from ember.java_gateway import connect


def ember(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(home / "bin" / "ember"), *args], capture_output=True, text=True, timeout=60)


def use_free_service_port(home: Path, port: int = 0) -> None:
    """Sets servicePort in the copy's conf/dev.ember.gateway.py4j.cfg (0: a free port), so the services tests start
    never collide with each other or with a service on this machine (which listens on 7787 by default)."""
    cfg = home / "conf" / "dev.ember.gateway.py4j.cfg"
    text = cfg.read_text()
    assert "\nservicePort = 7787\n" in text, text
    cfg.write_text(text.replace("\nservicePort = 7787\n", f"\nservicePort = {port}\n"))


def run_service(home: Path, env: Optional[dict] = None, free_port: bool = True) -> Iterator[tuple[Path, dict]]:
    """Starts ``bin/ember start`` of the distribution at ``home`` (with ``env`` added to the environment), yields it
    with its run/gateway.json, and stops it. With ``free_port``, the service listens on a free port rather than on
    the one its conf/ names."""
    if free_port:
        use_free_service_port(home)
    proc = subprocess.Popen([str(home / "bin" / "ember"), "start"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    info_file = home / "run" / "gateway.json"
    deadline = time.monotonic() + 30
    while not info_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert info_file.exists(), (home / "logs" / "ember.log").read_text() if (home / "logs").exists() else "no log"
    try:
        yield home, json.loads(info_file.read_text())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture()
def service(tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    yield from run_service(home)


@pytest.fixture()
def service_with_shell(tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    """A service whose remote shell is on (conf/dev.ember.shell.cfg: shell.enabled = true)."""
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    shell_conf = home / "conf" / "dev.ember.shell.cfg"
    shell_conf.write_text(shell_conf.read_text().replace("shell.enabled = false", "shell.enabled = true"))
    yield from run_service(home)


def sessions_open(info: dict) -> int:
    gateway, entry = connect(info["port"], info["secret"])
    try:
        return json.loads(entry.status())["sessions"]
    finally:
        gateway.close()


def test_start_status_stop(service: tuple[Path, dict]) -> None:
    home, info = service
    assert stat.S_IMODE((home / "run" / "gateway.json").stat().st_mode) == 0o600
    status = ember(home, "status")
    assert status.returncode == 0 and f"ember://127.0.0.1:{info['port']}" in status.stdout
    assert "gateway listening" in (home / "logs" / "ember.log").read_text()
    stopped = ember(home, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not (home / "run" / "gateway.json").exists(), stopped.stdout + stopped.stderr
    assert ember(home, "status").returncode == 3
    assert not Path(f"/proc/{info['pid']}").exists() or "zombie" in Path(f"/proc/{info['pid']}/status").read_text(
    ).lower()


def test_two_clients_run_at_once_and_a_killed_client_frees_its_session(service: tuple[Path, dict],
                                                                      start_driver: StartDriver,
                                                                      tmp_path: Path) -> None:
    home, info = service
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    steady = start_driver("""
        import time
        from ember import SparkContext
        sc = SparkContext(appName="steady")
        def slow(x):
            time.sleep(0.002)
            return x * x
        total = sc.parallelize(list(range(3000)), 30).map(slow).sum()
        report({"total": total})
    """, env=env)
    started = tmp_path / "victim-started"
    victim = start_driver(f"""
        import time
        from pathlib import Path
        from ember import SparkContext
        sc = SparkContext(appName="victim")
        def endless(x):
            Path({str(started)!r}).touch()
            time.sleep(600)
            return x
        sc.parallelize(list(range(8)), 8).map(endless).collect()
    """, env=env)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), victim.output_text()
    assert sessions_open(info) == 2
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    freed = False
    while time.monotonic() < deadline and not freed:
        freed = sessions_open(info) <= 1
        time.sleep(0.2)
    assert freed, "the killed client's session was not closed"
    steady.proc.wait(timeout=120)
    result = driver_result(subprocess.CompletedProcess([], steady.proc.returncode, steady.output_text(), ""))
    assert result["total"] == sum(x * x for x in range(3000))
    deadline = time.monotonic() + 30
    while sessions_open(info) != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sessions_open(info) == 0


def test_a_client_with_a_wrong_secret_is_refused(service: tuple[Path, dict], run_driver) -> None:
    home, info = service
    proc = run_driver(f"""
        from ember import SparkContext
        from ember.errors import EmberAuthError
        try:
            SparkContext("ember://127.0.0.1:{info['port']}", "intruder")
            report("connected")
        except EmberAuthError as e:
            report("refused: " + str(e))
    """, env={"EMBER_HOME": str(home), "EMBER_SECRET": "not-the-secret"})
    assert driver_result(proc).startswith("refused: ")



def test_restarting_the_gateway_bundle_drops_clients_clearly_and_takes_new_ones(tmp_path: Path,
                                                                              start_driver: StartDriver) -> None:
    from test_distribution import ShellSession, bundle_line

    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    info_file = home / "run" / "gateway.json"
    ready, restarted = tmp_path / "ready", tmp_path / "restarted"
    use_free_service_port(home)
    os.environ["EMBER_GATEWAY_FILE"] = str(info_file)  # what 'bin/ember start' sets; here with a shell to drive
    try:
        shell = ShellSession(home)
    finally:
        del os.environ["EMBER_GATEWAY_FILE"]
    try:
        listing = shell.poll_command("lb", lambda text: "Active" in bundle_line(text, "Ember Py4J gateway")
                                     and info_file.exists())
        gateway_id = bundle_line(listing, "Ember Py4J gateway").split("|")[0].strip()
        first = json.loads(info_file.read_text())
        driver = start_driver(f"""
            import json, time
            from pathlib import Path
            from ember import SparkContext
            from ember.errors import EmberError
            info = Path({str(info_file)!r})
            sc = SparkContext("ember://127.0.0.1:{first['port']}", "before")
            before = sc.parallelize(list(range(10)), 2).sum()
            Path({str(ready)!r}).touch()
            while not Path({str(restarted)!r}).exists():
                time.sleep(0.05)
            try:
                sc.parallelize(list(range(10)), 2).sum()
                outcome = "still worked"
            except EmberError as e:
                outcome = str(e)
            sc.stop()
            port = json.loads(info.read_text())["port"]
            sc = SparkContext(f"ember://127.0.0.1:{{port}}", "after")
            after = sc.parallelize(list(range(10)), 2).sum()
            sc.stop()
            report({{"before": before, "outcome": outcome, "after": after, "port": port}})
        """, env={"EMBER_HOME": str(home)})
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and driver.proc.poll() is None:
            time.sleep(0.05)
        assert ready.exists(), driver.output_text()
        shell.send(f"stop {gateway_id}")
        shell.send(f"start {gateway_id}")
        while time.monotonic() < deadline:
            if info_file.exists() and json.loads(info_file.read_text())["port"] != first["port"]:
                break
            time.sleep(0.05)
        restarted.touch()
        driver.proc.wait(timeout=60)
        result = driver_result(subprocess.CompletedProcess([], driver.proc.returncode, driver.output_text(), ""))
        assert result["before"] == 45 and result["after"] == 45
        assert "gateway restarted or stopped" in result["outcome"], result["outcome"]
        assert result["port"] != first["port"]
    finally:
        shell.close()


def test_shell_runs_commands_in_the_running_service_and_refuses_a_wrong_secret(
        service_with_shell: tuple[Path, dict], start_driver: StartDriver) -> None:
    home, info = service_with_shell
    shell_file = home / "run" / "shell.json"
    deadline = time.monotonic() + 10
    while not shell_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stat.S_IMODE(shell_file.stat().st_mode) == 0o600
    shell = json.loads(shell_file.read_text())
    assert shell["host"] == "127.0.0.1"
    # A client holds a job open, so the shell has something to show.
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    client = start_driver("""
        import time
        from ember import SparkContext
        sc = SparkContext(appName="watched")
        print("READY", flush=True)
        sc.parallelize(range(4), 4).map(lambda x: time.sleep(30) or x).collect()
    """, env=env)
    deadline = time.monotonic() + 30
    while "READY" not in client.output_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)
    proc = subprocess.run([str(home / "bin" / "ember"), "shell"],
                          input="ember:jobs\nember:engines\nember:workers\nlb -s dev.ember\nbogus\nexit\n",
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "connected to the service's Gogo shell" in proc.stdout
    assert "dev.ember.engine" in proc.stdout and "Active" in proc.stdout
    import re
    # ember:jobs: the job of the local engine, its session, no group, stage 1 of 1, no task done of 4, its call site.
    assert re.search(r"^local\s+\d+\s+\S+\s+-\s+1/1\s+0/4\s+collect at \S+\.py:\d+$", proc.stdout, re.MULTILINE), \
        proc.stdout
    # ember:engines names the installed scheduler and its bundle; ember:workers (from the engine bundle) shows
    # the busy workers of the watched job: one per slot (a service has a slot per core), as 4 tasks are waiting.
    assert re.search(r"^local\s+0\s+dev\.ember\.engine \S+$", proc.stdout, re.MULTILINE), proc.stdout
    busy = re.findall(r"^\d+\s+\w+\s+s\d+\s+\d+\s+busy$", proc.stdout, re.MULTILINE)
    assert len(busy) == min(4, os.cpu_count() or 1), proc.stdout
    assert "Command not found: bogus" in proc.stdout
    client.proc.kill()
    # The service is still there, and a wrong secret gets nothing.
    assert ember(home, "status").returncode == 0
    import socket
    with socket.create_connection(("127.0.0.1", shell["port"]), timeout=5) as conn:
        conn.sendall(b"not-the-secret\nlb\n")
        reply = conn.makefile("r").read()
    assert reply.strip() == "refused"
    # The Log Service hands entries to its listeners (the file writer) on a thread of its own.
    deadline = time.monotonic() + 10
    while ("remote shell: refused a connection: a wrong secret" not in (home / "logs" / "ember.log").read_text()
           and time.monotonic() < deadline):
        time.sleep(0.05)
    assert "remote shell: refused a connection: a wrong secret" in (home / "logs" / "ember.log").read_text()


def test_the_service_logs_to_a_file_at_the_configured_level_and_set_log_level_changes_it(
        service: tuple[Path, dict], run_driver) -> None:
    home, info = service
    log = home / "logs" / "ember.log"
    assert "gateway listening" in log.read_text()  # INFO, the level in conf/dev.ember.log.cfg
    proc = run_driver("""
        from ember import SparkContext
        sc = SparkContext(appName="levels")
        sc.parallelize(range(10), 2).count()      # at INFO: the engine's debug lines stay out
        sc.setLogLevel("DEBUG")
        sc.parallelize(range(10), 3).count()      # logged
        sc.setLogLevel("WARN")
        sc.parallelize(range(10), 4).count()      # not logged
        try:
            sc.setLogLevel("LOUD")
        except ValueError as e:
            refused = str(e)
        sc.stop()
        report(refused)
    """, env={"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"})
    from conftest import driver_result
    assert "did not match one of" in driver_result(proc)
    deadline = time.monotonic() + 5
    while "succeeded" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    started = [line for line in text.splitlines() if "DEBUG" in line and " started: " in line]
    assert len(started) == 1 and "3 result partition(s)" in started[0], text[-3000:]
    assert "log level set to DEBUG by a driver" in text


def test_a_service_configured_at_warn_leaves_info_out_of_its_log(tmp_path: Path) -> None:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    cfg = home / "conf" / "dev.ember.log.cfg"
    cfg.write_text(cfg.read_text().replace("level=INFO", "level=WARN"))
    use_free_service_port(home)
    proc = subprocess.Popen([str(home / "bin" / "ember"), "start"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (home / "run" / "gateway.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (home / "run" / "gateway.json").exists()
        ember(home, "stop")
        proc.wait(20)
        log = (home / "logs" / "ember.log").read_text() if (home / "logs" / "ember.log").exists() else ""
        assert "gateway listening" not in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_driver_of_the_service_gets_its_workers_output_unless_it_asks_for_the_log(service: tuple[Path, dict],
                                                                                     run_driver) -> None:
    home, info = service
    code = """
        import sys
        from ember import SparkConf, SparkContext
        conf = SparkConf().setAppName("printing")
        if not FORWARD:
            conf.set("spark.ember.workerOutput", "log")
        sc = SparkContext(conf=conf)
        def noisy(split, it):
            for x in it:
                print(f"saw {x} in TAG", flush=(x % 2 == 0))
                yield x * 10
        result = sc.parallelize(range(6), 3).mapPartitionsWithIndex(noisy).collect()
        sc.stop()
        report(result)
    """
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    from conftest import driver_result
    asked = run_driver(code.replace("FORWARD", "True").replace("TAG", "asked"), env=env)
    assert driver_result(asked) == [x * 10 for x in range(6)]
    for x in range(6):
        assert f"[stage 0 partition {x // 2}] saw {x} in asked" in asked.stderr, asked.stderr
    # Asked, the service keeps its workers' output in its own log.
    quiet = run_driver(code.replace("FORWARD", "False").replace("TAG", "quiet"), env=env)
    assert driver_result(quiet) == [x * 10 for x in range(6)]
    assert "saw" not in quiet.stderr
    deadline = time.monotonic() + 5
    out = home / "logs" / "ember.out"
    while "saw 5 in quiet" not in out.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "[stage 0 partition 2] saw 5 in quiet" in out.read_text()
