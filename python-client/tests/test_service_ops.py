"""Operating a service: its log lines for sessions and jobs (app, driver pid, call site), ember:sessions and
ember:cancel in its shell, one-line reports of bad configuration values and of files in load/ that are not bundles,
its fixed port and what a second service on that port says, and the gateway's version."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import EMBER_DIST, StartDriver, driver_result
from ember.java_gateway import connect
from test_service import ember, run_service, use_free_service_port

# A service for the length of a with block, stopped however the block ends.
service_at = contextlib.contextmanager(run_service)


def copy_of_distribution(tmp_path: Path, name: str = "ember") -> Path:
    home = tmp_path / name
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    return home


def edit_conf(home: Path, name: str, old: str, new: str) -> None:
    cfg = home / "conf" / name
    text = cfg.read_text()
    assert old in text, text
    cfg.write_text(text.replace(old, new))


def log_text(home: Path) -> str:
    log = home / "logs" / "ember.log"
    return log.read_text() if log.exists() else ""


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    """Whether ``condition`` came true within ``seconds`` (the Log Service writes on a thread of its own)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def stack_trace_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("\tat ") or "Exception" in line]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def shell_service(tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    """A service (on a free port) whose remote shell is on."""
    home = copy_of_distribution(tmp_path)
    edit_conf(home, "dev.ember.shell.cfg", "shell.enabled = false", "shell.enabled = true")
    with service_at(home) as service:
        # The shell starts last, a moment after the gateway published run/gateway.json.
        assert wait_for((home / "run" / "shell.json").exists), log_text(home)
        yield service


def shell(home: Path, *commands: str) -> str:
    """Runs commands in the service's Gogo shell (bin/ember shell) and returns what it printed."""
    proc = subprocess.run([str(home / "bin" / "ember"), "shell"], input="\n".join([*commands, "exit"]) + "\n",
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "connected to the service's Gogo shell" in proc.stdout, proc.stdout + proc.stderr
    return proc.stdout


def test_the_log_tells_each_session_and_job_with_app_driver_pid_and_call_site(tmp_path: Path, run_driver) -> None:
    home = copy_of_distribution(tmp_path)
    with service_at(home) as (_, info):
        proc = run_driver(f"""
            import os, sys
            from ember import SparkContext
            sc = SparkContext("ember://127.0.0.1:{info['port']}", "ops-app")
            counted_at = sys._getframe().f_lineno + 1
            total = sc.parallelize(range(100), 4).count()
            def boom(x):
                raise ValueError("boom " + str(x))
            failed_at = sys._getframe().f_lineno + 2
            try:
                sc.parallelize(range(4), 2).map(boom).collect()
            except ValueError:
                pass
            taken_at = sys._getframe().f_lineno + 1
            first = sc.parallelize(range(10), 5).take(3)
            sc.stop()
            report({{"pid": os.getpid(), "total": total, "first": first, "counted_at": counted_at,
                     "failed_at": failed_at, "taken_at": taken_at}})
        """, env={"EMBER_HOME": str(home)})
        result = driver_result(proc)
        assert result["total"] == 100 and result["first"] == [0, 1, 2]
        pid, script = result["pid"], "driver_0.py"
        closed = f"closed (app ops-app, driver pid {pid})"
        assert wait_for(lambda: closed in log_text(home)), log_text(home)
        text = log_text(home)
        opened = re.search(rf"INFO  \S+: session (\S+) opened \(app ops-app, driver pid {pid}\)$", text, re.MULTILINE)
        assert opened, text
        assert re.search(rf"INFO  \S+: session {opened.group(1)} {re.escape(closed)}$", text, re.MULTILINE), text
        # count() is the action the program called (it runs through sum and collect inside Ember).
        assert re.search(rf"INFO  \S+: job \d+ \(count at {script}:{result['counted_at']}\) succeeded in \d+\.\d\d s$",
                         text, re.MULTILINE), text
        # A failure is one line: the task, and the exception the Python traceback ends with.
        failed = re.search(rf"INFO  \S+: job \d+ \(collect at {script}:{result['failed_at']}\) failed: (.*)$", text,
                           re.MULTILINE)
        assert failed, text
        assert "failed in Python" in failed.group(1) and re.search(r"ValueError: boom \d$", failed.group(1)), \
            failed.group(1)
        # take() may run several jobs; each is take's, at the program's line.
        assert re.search(rf"job \d+ \(take at {script}:{result['taken_at']}\) succeeded", text), text
        assert "Traceback" not in text


def test_sessions_and_cancel_in_the_services_shell(shell_service: tuple[Path, dict], start_driver: StartDriver,
                                                   tmp_path: Path) -> None:
    home, info = shell_service
    assert "no open sessions" in shell(home, "ember:sessions")
    ready = tmp_path / "ready"
    driver = start_driver(f"""
        import os, sys, time
        from pathlib import Path
        from ember import SparkContext
        sc = SparkContext("ember://127.0.0.1:{info['port']}", "watched app")
        Path({str(ready)!r}).write_text(str(sys._getframe().f_lineno + 2))
        try:
            sc.parallelize(range(4), 4).map(lambda x: time.sleep(120) or x).collect()
            outcome = "finished"
        except Exception as e:
            outcome = type(e).__name__ + ": " + str(e)
        sc.stop()
        report({{"pid": os.getpid(), "outcome": outcome}})
    """, env={"EMBER_HOME": str(home)})
    assert wait_for(ready.exists, 60), driver.output_text()
    line = int(ready.read_text())
    listing = ""

    def job_listed() -> bool:
        nonlocal listing
        listing = shell(home, "ember:jobs", "ember:sessions")
        return "collect at driver_0.py" in listing

    assert wait_for(job_listed, 30), listing
    job = re.search(rf"^local\s+(\d+)\s+(s\d+)\s+-\s+1/1\s+\d+/4\s+collect at driver_0\.py:{line}$", listing,
                    re.MULTILINE)
    assert job, listing
    job_id, session = job.groups()
    # ember:sessions: the session's app, its driver's pid, its master, when it opened, one running job.
    assert re.search(rf"^local\s+{session}\s+watched app\s+{driver.proc.pid}\s+ember://127\.0\.0\.1:{info['port']}\s+"
                     r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+1$", listing, re.MULTILINE), listing

    out = shell(home, "ember:cancel 999999", "ember:cancel soon", f"ember:cancel {job_id}")
    assert "ember:cancel: no running job 999999; ember:jobs lists the running jobs" in out, out
    assert "ember:cancel: 'soon' is not a job id; ember:jobs lists the running jobs" in out, out
    assert (f"cancelled job {job_id} (collect at driver_0.py:{line}) of session {session} (app watched app, driver "
            f"pid {driver.proc.pid}) on engine local") in out, out

    driver.proc.wait(timeout=60)
    result = driver_result(subprocess.CompletedProcess([], driver.proc.returncode, driver.output_text(), ""))
    assert result["pid"] == driver.proc.pid
    assert f"job {job_id} was cancelled: cancelled by an operator in the service's shell (ember:cancel)" in \
        result["outcome"], result["outcome"]
    assert wait_for(lambda: f"job {job_id} (collect at driver_0.py:{line}) failed: job {job_id} was cancelled"
                    in log_text(home)), log_text(home)
    assert wait_for(lambda: "no open sessions" in shell(home, "ember:sessions"))


def test_a_bad_configuration_value_is_one_line_and_the_default_serves(tmp_path: Path, run_driver) -> None:
    home = copy_of_distribution(tmp_path)
    edit_conf(home, "dev.ember.gateway.py4j.cfg", "port = 0", "port = abc")
    edit_conf(home, "dev.ember.log.cfg", "maxFiles=5", "maxFiles = x\nmaxfile = 3")
    edit_conf(home, "dev.ember.engine.cfg", "startWorkersWithSession = true", "startWorkersWithSession = yes")
    with service_at(home) as (_, info):
        expected = [
            'conf/dev.ember.gateway.py4j.cfg: port = "abc" is not an integer; using the default 0',
            'conf/dev.ember.log.cfg: maxFiles = "x" is not an integer; using the default 5',
            'conf/dev.ember.log.cfg: unknown key "maxfile" (known: level, file, maxFileSizeMB, maxFiles); it is ignored',
            'conf/dev.ember.engine.cfg: startWorkersWithSession = "yes" is not true or false; using the default true',
        ]
        assert wait_for(lambda: all(line in log_text(home) for line in expected)), log_text(home)
        text = log_text(home)
        for line in expected:
            assert text.count(line) == 1, (line, text)
        assert stack_trace_lines(text) == [], text
        # The components run with their defaults: the gateway serves, the engine runs jobs.
        proc = run_driver(f"""
            from ember import SparkContext
            sc = SparkContext("ember://127.0.0.1:{info['port']}", "after-bad-config")
            report(sc.parallelize(range(10), 2).sum())
            sc.stop()
        """, env={"EMBER_HOME": str(home)})
        assert driver_result(proc) == 45

        # A file changed while the service runs is checked as FileInstall applies it: the engine's @Modified would
        # otherwise fail (Declarative Services cannot coerce "lots" to an int) with a stack trace in the log.
        edit_conf(home, "dev.ember.engine.cfg", "shuffleMemoryMB = 512", "shuffleMemoryMB = lots")
        changed = 'conf/dev.ember.engine.cfg: shuffleMemoryMB = "lots" is not an integer; using the default 512'
        assert wait_for(lambda: changed in log_text(home)), log_text(home)
        time.sleep(1.5)
        text = log_text(home)
        assert text.count(changed) == 1, text
        assert text.count('startWorkersWithSession = "yes"') == 1, "a problem already reported is not repeated"
        assert stack_trace_lines(text) == [], text
        proc = run_driver(f"""
            from ember import SparkContext
            sc = SparkContext("ember://127.0.0.1:{info['port']}", "after-runtime-change")
            report(sc.parallelize(range(10), 2).map(lambda x: (x % 2, x)).reduceByKey(lambda a, b: a + b).collect())
            sc.stop()
        """, env={"EMBER_HOME": str(home)})
        assert sorted(driver_result(proc)) == [[0, 20], [1, 25]]
    assert stack_trace_lines((home / "logs" / "ember.out").read_text()) == []


def test_files_in_load_that_are_not_bundles_are_named_at_boot_and_while_running(tmp_path: Path) -> None:
    home = copy_of_distribution(tmp_path)
    (home / "load" / "notes.txt").write_text("the uds transport goes here")
    with zipfile.ZipFile(home / "load" / "plain-library.jar", "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n\n")
        jar.writestr("lib/Thing.class", b"\xca\xfe\xba\xbe")
    rule = ": only OSGi bundles (jars with a Bundle-SymbolicName in their manifest) and .cfg files go in load/; it is ignored"
    with service_at(home):
        at_boot = ["load/notes.txt is not an OSGi bundle" + rule,
                   "load/plain-library.jar is a jar but not an OSGi bundle (no Bundle-SymbolicName in its manifest)"
                   + rule]
        assert wait_for(lambda: all(line in log_text(home) for line in at_boot)), log_text(home)
        # A real bundle dropped in is deployed without a word; an archive dropped in is named within seconds.
        uds = next((home / "extras").glob("dev.ember.transport.uds-*.jar"))
        shutil.copy(uds, home / "load" / uds.name)
        (home / "load" / "data.zip").write_bytes(b"PK\x05\x06" + bytes(18))
        late = "load/data.zip is not an OSGi bundle" + rule
        assert wait_for(lambda: late in log_text(home), 15), log_text(home)
        assert wait_for(lambda: "worker transport now: uds" in log_text(home), 15), log_text(home)
        time.sleep(2.5)
        text = log_text(home)
        assert uds.name not in text, text
        for line in [*at_boot, late]:
            assert text.count(line) == 1, (line, text)


def test_a_service_listens_on_its_fixed_port_and_a_second_one_there_fails_in_one_line(tmp_path: Path,
                                                                                     run_driver) -> None:
    port = free_port()
    first = copy_of_distribution(tmp_path, "first")
    use_free_service_port(first, port)
    with service_at(first, free_port=False) as (_, info):
        assert info["port"] == port
        status = ember(first, "status")
        assert status.returncode == 0 and f"ember://127.0.0.1:{port}" in status.stdout, status.stdout
        assert f"Ember gateway listening on 127.0.0.1:{port}" in log_text(first)
        # A JVM a driver launches (same conf/) still takes a free port.
        proc = run_driver("""
            from ember import SparkContext
            sc = SparkContext("local[1]", "beside-the-service")
            report(sc.parallelize(range(5), 1).sum())
            sc.stop()
        """, env={"EMBER_HOME": str(first), "EMBER_GATEWAY": None})
        assert driver_result(proc) == 10

        second = copy_of_distribution(tmp_path, "second")
        use_free_service_port(second, port)
        started = time.monotonic()
        proc = subprocess.run([str(second / "bin" / "ember"), "start"], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0, proc.stdout + proc.stderr
        assert time.monotonic() - started < 30
        text = log_text(second)
        assert text.count(f"the gateway cannot listen on 127.0.0.1:{port}: the port is in use (another Ember service, "
                          "or another program); set servicePort in conf/dev.ember.gateway.py4j.cfg to a free port (0 "
                          "picks one)") == 1, text
        assert stack_trace_lines(text) == [], text
        out = (second / "logs" / "ember.out").read_text()
        assert "ember: the service's gateway did not start (logs/ember.log says why); stopping" in out, out
        assert stack_trace_lines(out) == [], out
        assert not (second / "run" / "gateway.json").exists()
        assert ember(second, "status").returncode == 3
        # The first service is untouched.
        assert ember(first, "status").returncode == 0


def test_without_service_port_set_a_service_listens_on_7787(tmp_path: Path) -> None:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 7787))
    except OSError:
        pytest.skip("port 7787 is in use on this machine")
    home = copy_of_distribution(tmp_path)
    edit_conf(home, "dev.ember.gateway.py4j.cfg", "\nservicePort = 7787\n", "\n")
    proc = subprocess.Popen([str(home / "bin" / "ember"), "start"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: (home / "run" / "gateway.json").exists() or proc.poll() is not None, 30)
        if proc.poll() is not None and "port is in use" in log_text(home):
            pytest.skip("another program took port 7787 meanwhile")
        assert json.loads((home / "run" / "gateway.json").read_text())["port"] == 7787
        assert "ember://127.0.0.1:7787" in ember(home, "status").stdout
    finally:
        ember(home, "stop")
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_the_gateway_tells_its_bundle_version(tmp_path: Path) -> None:
    home = copy_of_distribution(tmp_path)
    jar = next((home / "bundle").glob("dev.ember.gateway.py4j-*.jar"))
    with zipfile.ZipFile(jar) as bundle:
        manifest = bundle.read("META-INF/MANIFEST.MF").decode()
    version = re.search(r"^Bundle-Version: (\S+)", manifest, re.MULTILINE).group(1)
    with service_at(home) as (_, info):
        gateway, entry = connect(info["port"], info["secret"])
        try:
            assert entry.version() == version
        finally:
            gateway.close()
