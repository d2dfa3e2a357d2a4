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
# A line of the JVM's log that a worker printed during a task: "[python PID] [stage S partition P] text".
_WORKER_LINE = re.compile(r"^\[python \d+\] (?:ember\.worker \d+: )?(\[stage \d+ partition \d+\] .*?)\n?$")


def find_home(configured: Optional[str] = None) -> Path:
    """The distribution directory: ``configured``, else ``EMBER_HOME``, else the checkout's build output."""
    candidates = []
    if configured:
        candidates.append(("spark.ember.home", Path(configured)))
    elif os.environ.get("EMBER_HOME"):
        candidates.append(("EMBER_HOME", Path(os.environ["EMBER_HOME"])))
    else:
        checkout = Path(__file__).resolve().parent.parent.parent
        candidates.append(("the checkout", checkout / "launcher" / "target" / "ember"))
    source, home = candidates[0]
    if not (home / "bin" / "ember").is_file():
        raise EmberStartError(
            f"No Ember distribution at {home} (from {source}): bin/ember is missing. Build it with "
            f"'mvn -q install' at the root of the Ember checkout, or point EMBER_HOME at a built distribution.")
    return home


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
        info_file = find_home() / "run" / "gateway.json"
        info = json.loads(info_file.read_text())
    except (EmberStartError, OSError, ValueError):
        info = {}
    if info.get("port") == port and info.get("secret"):
        return info["secret"]
    raise EmberAuthError(
        f"No secret for the Ember service on port {port}: set EMBER_SECRET or spark.ember.secret, or run the driver "
        f"as the user who started the service, whose run/gateway.json holds it")


class Launched:
    """A JVM started by this driver. It exits when its stdin (held here) closes."""

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
        self.log_path = self.workdir / "jvm.log"
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
        self._log = open(self.log_path, "wb")
        self.started_at = time.monotonic()  # when the JVM was launched (bench/startup.py splits the start-up)
        try:
            self.process = subprocess.Popen(
                [str(home / "bin" / "ember"), "run", "--exit-on-stdin-eof", *(["--with-cluster"] if cluster else [])],
                # Ctrl-C in the driver's terminal is for the driver; the JVM stops when the driver does. bin/ember
                # ignores SIGINT for --exit-on-stdin-eof (a preexec_fn here would cost the launch ~3 ms: no vfork).
                stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        except OSError as e:
            self._log.close()
            privatedirs.remove(str(self.workdir))
            raise EmberStartError(f"cannot run {home / 'bin' / 'ember'}: {e}") from e
        self._start_timeout = start_timeout
        self.port = 0
        self.secret = ""

    def await_gateway(self) -> None:
        """Waits until the JVM's gateway listens (its connection file appears) and takes its port and secret.
        Separate from launching, so the driver can do its own imports while the JVM boots."""
        # While the JVM boots: what drivers and workers killed before they could clean up left behind.
        privatedirs.sweep_dead()
        self.port, self.secret = self._await_conn_info(self._start_timeout)

    def _await_conn_info(self, timeout: float) -> tuple[int, str]:
        deadline = self.started_at + timeout
        while True:
            if self.conn_info.exists():
                data = self.conn_info.read_bytes()
                port, length = struct.unpack(">ii", data[:8])
                text = data[8:8 + length].decode("utf-8")
                if port < 0:  # The gateway could not start; the text says why.
                    output = self.log_tail()
                    self.close()
                    raise EmberStartError(f"{text}. The JVM's output:\n{output}")
                return port, text
            code = self.process.poll()
            if code is not None:
                output = self.log_tail()  # Read before close() removes the log with the work directory.
                self.close()
                raise EmberStartError(
                    f"The Ember JVM exited with code {code} before its gateway came up. Its output:\n{output}")
            if time.monotonic() > deadline:
                self.close()
                output = self.log_tail_after_close
                raise EmberStartError(
                    f"The Ember JVM did not open its gateway within {timeout:.0f} s. Its output:\n{output}")
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
                f"Its last output:\n{self.log_tail()}")

    def forward_worker_output(self, stream: IO[str]) -> None:
        """Copies what user code prints in workers (lines the workers prefix with stage and partition) from the
        JVM's log to ``stream``, as it appears."""
        def follow() -> None:
            try:
                log = open(self.log_path, "r", encoding="utf-8", errors="replace")
            except OSError:
                return
            with log:
                pending = ""
                while not self._closed:
                    chunk = log.readline()
                    if not chunk:
                        time.sleep(0.05)
                        continue
                    pending += chunk
                    if not pending.endswith("\n"):
                        continue
                    match = _WORKER_LINE.match(pending)
                    pending = ""
                    if match:
                        try:
                            stream.write(match.group(1) + "\n")
                            stream.flush()
                        except (OSError, ValueError):
                            return

        threading.Thread(target=follow, name="ember-worker-output", daemon=True).start()

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text("utf-8", "replace").splitlines()
        except OSError:
            return "(no output)"
        return "\n".join(lines[-LOG_TAIL_LINES:]) or "(no output)"

    def close(self, timeout: float = 10.0) -> None:
        """Ends the JVM (closing its stdin, then killing it if it lingers) and removes the work directory; the
        last lines of its log stay readable as ``log_tail_after_close``."""
        if self.process.poll() is None:
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
        self._log.close()
        self.log_tail_after_close = self.log_tail()
        privatedirs.remove(str(self.workdir))
        # What drivers and workers killed before they could clean up left (their owners' locks are gone).
        privatedirs.sweep_dead()
