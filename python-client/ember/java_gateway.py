"""Starting the Ember distribution, reading its connection details, and talking to it.

Control calls go through Py4J. Bulk data (``parallelize`` input, command blobs, job results) goes through the
gateway's side socket as frames, never through Py4J.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional

from py4j.java_gateway import GatewayParameters, JavaGateway
from py4j.protocol import Py4JAuthenticationError, Py4JNetworkError

from ember import serializers as ser
from ember.errors import (EmberAuthError, EmberStartError, MalformedInputError, PythonException, SparkJobError,
                          user_exception)

LOG_TAIL_LINES = 40
# A line of the JVM's log that a worker printed during a task: "[python PID] [stage S partition P] text".
_WORKER_LINE = re.compile(r"^\[python \d+\] (\[stage \d+ partition \d+\] .*?)\n?$")


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
                 workers: Optional[tuple[str, dict[str, str]]] = None) -> None:
        """``workers``: the interpreter and environment this driver's workers will have, so the JVM can start
        their daemon while it boots."""
        self.home = home
        self.workdir = Path(tempfile.mkdtemp(prefix="ember-driver-"))
        self.conn_info = self.workdir / "conn-info"
        self.log_path = self.workdir / "jvm.log"
        self.log_tail_after_close = ""
        self._closed = False
        env = dict(os.environ)
        env["EMBER_CONN_INFO_PATH"] = str(self.conn_info)
        if workers is not None:
            python, worker_env = workers
            env["EMBER_PREPARE_WORKER"] = "\x1f".join([python, *(f"{k}={v}" for k, v in worker_env.items())])
        self._log = open(self.log_path, "wb")
        self.started_at = time.monotonic()  # when the JVM was launched (bench/startup.py splits the start-up)
        try:
            self.process = subprocess.Popen(
                [str(home / "bin" / "ember"), "run", "--exit-on-stdin-eof"],
                stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                # Ctrl-C in the driver's terminal is for the driver; the JVM stops when the driver does.
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        except OSError as e:
            self._log.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise EmberStartError(f"cannot run {home / 'bin' / 'ember'}: {e}") from e
        self.port, self.secret = self._await_conn_info(start_timeout)

    def _await_conn_info(self, timeout: float) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
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
        shutil.rmtree(self.workdir, ignore_errors=True)


def connect(port: int, secret: str, host: str = "127.0.0.1") -> tuple[JavaGateway, Any]:
    """Connects Py4J to a gateway and returns it with the entry point; a wrong secret raises EmberAuthError."""
    gateway = JavaGateway(gateway_parameters=GatewayParameters(
        address=host, port=port, auth_token=secret, auto_convert=False, auto_close=True))
    try:
        entry = gateway.entry_point
        entry.sidePort()  # The first call authenticates.
    except Py4JAuthenticationError as e:
        gateway.close()
        raise EmberAuthError(
            f"The Ember gateway on port {port} refused the secret: check the secret you gave (EMBER_SECRET or the "
            f"gateway's connection file)") from e
    except Py4JNetworkError as e:
        gateway.close()
        raise EmberAuthError(f"Could not talk to the Ember gateway on port {port}: {e}") from e
    return gateway, entry


class SideChannel:
    """Client of the gateway's side socket: one request per connection, authenticated with the secret."""

    def __init__(self, port: int, secret: str, session_id: str, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.secret = secret.encode("utf-8")
        self.session_id = session_id

    @contextmanager
    def _request(self, request: dict) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
        sock = socket.create_connection((self.host, self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        infile = sock.makefile("rb", 1 << 16)
        outfile = sock.makefile("wb", 1 << 16)
        try:
            ser.write_frame(self.secret, outfile)
            outfile.flush()
            status = ser.read_int(infile)
            if status == ser.EXCEPTION:
                _raise_remote(infile)
            request = dict(request, session=self.session_id)
            ser.write_frame(json.dumps(request).encode("utf-8"), outfile)
            yield infile, outfile
        finally:
            infile.close()
            outfile.close()
            sock.close()

    def store(self, partitions: list[list[bytes]]) -> int:
        """Uploads frames, one list per partition; returns the dataset id."""
        with self._request({"op": "store", "partitions": len(partitions)}) as (infile, outfile):
            for frames in partitions:
                for frame in frames:
                    ser.write_frame(frame, outfile)
                ser.write_int(ser.END_OF_DATA, outfile)
            outfile.flush()
            return _read_id(infile)

    def blob(self, payload: bytes) -> int:
        with self._request({"op": "blob"}) as (infile, outfile):
            ser.write_frame(payload, outfile)
            outfile.flush()
            return _read_id(infile)

    def broadcast(self, bid: int, payload: bytes) -> int:
        with self._request({"op": "broadcast", "id": bid}) as (infile, outfile):
            ser.write_frame(payload, outfile)
            outfile.flush()
            return _read_id(infile)

    def attach(self) -> socket.socket:
        """Opens the connection that keeps the session alive: when it closes (the driver stopped or died), the
        service closes the session. The caller holds the socket until it stops."""
        sock = socket.create_connection((self.host, self.port))
        out = sock.makefile("wb")
        ser.write_frame(self.secret, out)
        out.flush()
        infile = sock.makefile("rb")
        if ser.read_int(infile) == ser.EXCEPTION:
            _raise_remote(infile)
        ser.write_frame(json.dumps({"op": "attach", "session": self.session_id}).encode("utf-8"), out)
        out.flush()
        if ser.read_int(infile) == ser.EXCEPTION:
            _raise_remote(infile)
        return sock

    def results(self, job_id: int, on_accumulator_updates: Callable[[list[bytes]], None],
                on_progress: Optional[Callable[[dict], None]] = None) -> Iterator[list[bytes]]:
        """Yields each requested partition's frames in order, then hands the job's accumulator updates to
        ``on_accumulator_updates``; raises if the job failed. With ``on_progress``, the job's events are pushed
        and handed to it as they come."""
        with self._request({"op": "results", "job": job_id}) as (infile, outfile):
            outfile.flush()
            sections: list[list[bytes]] = []
            frames: list[bytes] = []
            while True:
                length = ser.read_int(infile)
                if length >= 0:
                    frames.append(ser.read_exactly(infile, length))
                elif length == ser.END_OF_DATA:
                    sections.append(frames)
                    frames = []
                    # Hold one section back: the last one is the accumulator updates, not a partition.
                    if len(sections) == 2:
                        yield sections.pop(0)
                elif length == ser.END_OF_STREAM:
                    on_accumulator_updates(sections.pop() if sections else [])
                    return
                elif length == ser.PROGRESS:
                    event = json.loads(ser.read_frame(infile))
                    if on_progress is not None:
                        on_progress(event)
                elif length == ser.EXCEPTION:
                    _raise_remote(infile)
                else:
                    raise ser.ProtocolError(f"unexpected control code {length} in job results")


def _read_id(infile: IO[bytes]) -> int:
    value = ser.read_int(infile)
    if value == ser.EXCEPTION:
        _raise_remote(infile)
    return value


def _raise_remote(infile: IO[bytes]) -> None:
    error = json.loads(ser.read_frame(infile))
    kind, message = error.get("kind", "SETUP"), error.get("message", "")
    if kind == "USER_CODE":
        detail = error.get("detail")
        if detail:
            raise user_exception(message, base64.b64decode(detail))
        raise PythonException(message)
    if "authentication failed" in message:
        raise EmberAuthError(message)
    if kind == "INPUT":
        raise MalformedInputError(message)
    raise SparkJobError(message, kind)
