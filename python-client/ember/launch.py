"""Starting the Ember distribution for a driver, or finding the running service it connects to.

Only the standard library is imported here: SparkContext launches the JVM first and imports Py4J, cloudpickle and
the RDD API while the JVM boots (see ``ember.context``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Optional

from ember import privatedirs
from ember.errors import EmberAuthError, EmberStartError

LOG_TAIL_LINES = 40
# A line of the JVM's log (bundle dev.ember.log) worth a Python log record: "<date> <time> WARN  logger: message".
_JVM_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (WARN|ERROR|FATAL)\s+(\S+): (.*?)\r?\n?$")
_PYTHON_LEVELS = {"WARN": 30, "ERROR": 40, "FATAL": 50}  # logging.WARNING, ERROR, CRITICAL


# The distribution inside an installed wheel (scripts/build_wheel.py puts it there); absent in a checkout.
PACKAGED_RUNTIME = Path(__file__).resolve().parent / "_runtime"
# What marks a distribution as the wheel's: bin/ember then keeps state per user (see find_base).
PACKAGED_MARKER = Path("lib") / "ember.packaged"
# Local drivers' JVM logs kept in the user's cache (the newest ones; see Launched).
KEEP_DRIVER_LOGS = 20


def find_home(configured: Optional[str] = None) -> Path:
    """The distribution directory: ``configured``, else ``EMBER_HOME``, else the build output of the checkout this
    package was installed from, else the runtime packaged in the wheel."""
    if configured:
        source, home = "spark.ember.home", Path(configured)
    elif os.environ.get("EMBER_HOME"):
        source, home = "EMBER_HOME", Path(os.environ["EMBER_HOME"])
    else:
        checkout = Path(__file__).resolve().parent.parent.parent / "launcher" / "target" / "ember"
        if (checkout / "bin" / "ember").is_file() or not (PACKAGED_RUNTIME / "bin" / "ember").is_file():
            source, home = "the checkout", checkout
        else:
            return PACKAGED_RUNTIME
    if not (home / "bin" / "ember").is_file():
        raise EmberStartError(
            f"No Ember distribution at {home} (from {source}): bin/ember is missing. Build it with ./build.sh at "
            f"the root of the Ember checkout, install the Ember wheel (which carries the runtime), or point "
            f"EMBER_HOME at a built distribution.")
    return home


def find_base(home: Path) -> Path:
    """Where the distribution keeps what changes as it runs (conf/, load/, run/, logs/): ``EMBER_BASE``, else a
    per-user directory for the wheel's runtime (its install is site-packages), else the distribution itself. The
    same rule as bin/ember's."""
    if os.environ.get("EMBER_BASE"):
        return Path(os.environ["EMBER_BASE"])
    if (home / PACKAGED_MARKER).is_file():
        return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "ember"
    return home


def user_cache_dir() -> Path:
    """``~/.cache/ember`` (or under ``XDG_CACHE_HOME``): drivers' JVM logs and the packaged runtime's
    class-data-sharing archive."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ember"


class Remote:
    """A running Ember service this driver connects to (``ember://host:port``); stopping the driver's context
    leaves the service running."""

    def __init__(self, host: str, port: int, secret: str) -> None:
        self.host = host
        self.port = port
        self.secret = secret
        self.log_tail_after_close = ""

    def await_gateway(self) -> None:
        pass  # A service's gateway is up already.

    def alive(self) -> bool:
        return True

    def death_report(self) -> str:
        return ""

    def log_tail(self) -> str:
        return "(the service's log is in logs/ember.log of its distribution)"

    def close(self, timeout: float = 10.0) -> None:
        pass


def find_secret(configured: Optional[str], port: int) -> str:
    """The service's secret: as configured, from EMBER_SECRET, or from run/gateway.json of the distribution
    (readable only by the user who started the service)."""
    if configured:
        return configured
    if os.environ.get("EMBER_SECRET"):
        return os.environ["EMBER_SECRET"]
    try:
        info_file = find_base(find_home()) / "run" / "gateway.json"
        info = json.loads(info_file.read_text())
    except (EmberStartError, OSError, ValueError):
        info = {}
    if info.get("port") == port and info.get("secret"):
        return info["secret"]
    raise EmberAuthError(
        f"No secret for the Ember service on port {port}: set EMBER_SECRET or spark.ember.secret, or run the driver "
        f"as the user who started the service, whose run/gateway.json holds it")


class Launched:
    """A JVM started by this driver. It exits when its stdin (held here) closes. Its output is kept in a log file
    under ``~/.cache/ember/logs`` (the newest ``KEEP_DRIVER_LOGS``), whose path failures name; its warnings and errors
    also go to Python's ``logging.getLogger("ember")``."""

    host = "127.0.0.1"

    def __init__(self, home: Path, start_timeout: float,
                 workers: Optional[tuple[str, dict[str, str]]] = None, java_options: Optional[str] = None,
                 cluster: bool = False) -> None:
        """``workers``: the interpreter and environment this driver's workers will have, so the JVM can start
        their daemon while it boots. ``java_options`` (``spark.driver.extraJavaOptions``) go to the JVM after
        ``EMBER_JAVA_OPTS``. ``cluster``: the JVM also runs the cluster scheduler (from extras/), for an
        ``ember-cluster://`` master."""
        self.home = home
        self.workdir = Path(privatedirs.mkdtemp("driver-"))
        self.conn_info = self.workdir / "conn-info"
        self.log_tail_after_close = ""
        self._closed = False
        env = dict(os.environ)
        env["EMBER_CONN_INFO_PATH"] = str(self.conn_info)
        if java_options and java_options.strip():
            env["EMBER_JAVA_OPTS"] = " ".join(filter(None, [env.get("EMBER_JAVA_OPTS", "").strip(),
                                                            java_options.strip()]))
        if workers is not None:
            python, worker_env = workers
            env["EMBER_PREPARE_WORKER"] = "\x1f".join([python, *(f"{k}={v}" for k, v in worker_env.items())])
        try:
            self.log_path, self._log = _open_driver_log()
        except OSError as e:
            privatedirs.remove(str(self.workdir))
            raise EmberStartError(f"cannot write the JVM's log under {driver_log_dir()}: {e}. Make it writable, or "
                                  f"set XDG_CACHE_HOME to a directory you can write.") from e
        self.started_at = time.monotonic()  # when the JVM was launched (bench/startup.py splits the start-up)
        try:
            self.process = subprocess.Popen(
                [str(home / "bin" / "ember"), "run", "--exit-on-stdin-eof", *(["--with-cluster"] if cluster else [])],
                # Ctrl-C in the driver's terminal is for the driver; the JVM stops when the driver does. bin/ember
                # ignores SIGINT for --exit-on-stdin-eof (a preexec_fn here would cost the launch ~3 ms: no vfork).
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        except OSError as e:
            self._log.close()
            privatedirs.remove(str(self.workdir))
            raise EmberStartError(f"cannot run {home / 'bin' / 'ember'}: {e}") from e
        self._copier = threading.Thread(target=self._copy_output, name="ember-jvm-output", daemon=True)
        self._copier.start()
        self._start_timeout = start_timeout
        self.port = 0
        self.secret = ""

    def _copy_output(self) -> None:
        """Copies the JVM's output into its log file, line by line as it comes, and hands its warnings and errors to
        Python's logging."""
        # Imported here, in this thread, while the JVM boots: ~8 ms the launch does not wait for.
        import logging
        logger = logging.getLogger("ember")
        assert self.process.stdout is not None  # started with stdout=PIPE
        with self.process.stdout as output:
            for line in output:
                try:
                    self._log.write(line)
                    self._log.flush()
                except (OSError, ValueError):
                    pass  # A full disk loses log lines, not the JVM: keep draining its output.
                if b" WARN " in line or b" ERROR " in line or b" FATAL " in line:
                    match = _JVM_LOG_LINE.match(line.decode("utf-8", "replace"))
                    if match:
                        level, name, message = match.groups()
                        logger.log(_PYTHON_LEVELS[level], "%s: %s", name, message)

    def await_gateway(self) -> None:
        """Waits until the JVM's gateway listens (its connection file appears) and takes its port and secret.
        Separate from launching, so the driver can do its own imports while the JVM boots."""
        # While the JVM boots: what drivers and workers killed before they could clean up left behind, and the
        # oldest drivers' logs.
        privatedirs.sweep_dead()
        _prune_driver_logs(self.log_path)
        self.port, self.secret = self._await_conn_info(self._start_timeout)

    def _await_conn_info(self, timeout: float) -> tuple[int, str]:
        deadline = self.started_at + timeout
        while True:
            if self.conn_info.exists():
                data = self.conn_info.read_bytes()
                port, length = struct.unpack(">ii", data[:8])
                text = data[8:8 + length].decode("utf-8")
                if port < 0:  # The gateway could not start; the text says why.
                    self.close()
                    raise EmberStartError(f"{text}. The JVM's output ({self.log_path}):\n"
                                          f"{self.log_tail_after_close}")
                return port, text
            code = self.process.poll()
            if code is not None:
                self.close()
                raise EmberStartError(
                    f"The Ember JVM exited with code {code} before its gateway came up. Its output "
                    f"({self.log_path}):\n{self.log_tail_after_close}")
            if time.monotonic() > deadline:
                self.close()
                raise EmberStartError(
                    f"The Ember JVM did not open its gateway within {timeout:.0f} s. Its output "
                    f"({self.log_path}):\n{self.log_tail_after_close}")
            time.sleep(0.005)

    def alive(self) -> bool:
        return self.process.poll() is None

    def death_report(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            try:
                how = f"was killed by signal {-code} ({signal.Signals(-code).name})"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return (f"The Ember JVM {how}; this SparkContext cannot run jobs any more (create a new one). "
                f"Its log is {self.log_path}; its last output:\n{self.log_tail()}")

    def log_tail(self) -> str:
        if self.process.poll() is not None:
            self._copier.join(2.0)  # What a dead JVM wrote last is still on its way through the pipe.
        try:
            lines = self.log_path.read_text("utf-8", "replace").splitlines()
        except OSError:
            return "(no output)"
        return "\n".join(lines[-LOG_TAIL_LINES:]) or "(no output)"

    def close(self, timeout: float = 10.0) -> None:
        """Ends the JVM (closing its stdin, then killing it if it lingers) and removes the work directory; the log
        stays, and its last lines are ``log_tail_after_close``."""
        if self.process.poll() is None:
            assert self.process.stdin is not None  # started with stdin=PIPE
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._closed = True
        self._copier.join(5.0)
        self._log.close()
        self.log_tail_after_close = self.log_tail()
        privatedirs.remove(str(self.workdir))
        # What drivers and workers killed before they could clean up left (their owners' locks are gone).
        privatedirs.sweep_dead()


def driver_log_dir() -> Path:
    return user_cache_dir() / "logs"


def _open_driver_log() -> tuple[Path, IO[bytes]]:
    """A new log file for a driver's JVM, owner-only (it holds what tasks print): ``driver-<time>-<pid>.log``."""
    directory = driver_log_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        directory.chmod(0o700)  # Made earlier by someone else's mkdir: the logs hold what tasks print.
    now = time.time()
    path = directory / f"driver-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}.{int(now * 1000) % 1000:03d}" \
                       f"-{os.getpid()}.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    return path, os.fdopen(fd, "wb")


def _prune_driver_logs(current: Path) -> None:
    """Removes all but the newest ``KEEP_DRIVER_LOGS`` drivers' logs (names sort by start time)."""
    try:
        logs = sorted(p for p in current.parent.glob("driver-*.log") if p != current)
    except OSError:
        return
    for old in logs[:max(0, len(logs) - (KEEP_DRIVER_LOGS - 1))]:
        try:
            old.unlink()
        except OSError:
            pass
