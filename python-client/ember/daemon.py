"""The worker daemon: started once per worker spec by a socket transport, it forks a worker per connection.

Forking a process that has already imported Ember and cloudpickle costs milliseconds, where starting a fresh
interpreter costs tens of them. The daemon listens on loopback TCP (and prints its port) or on a Unix domain socket
(and prints its path), then serves until its stdin closes, which is how the JVM stops it, on purpose or by dying.
The daemon checks the secret a connection opens with before it forks a worker for it, which answers with its pid
and serves tasks.
"""

from __future__ import annotations

import faulthandler
import os
import random
import select
import signal
import socket
import sys
import time
from typing import IO, Optional, cast

from ember import serializers as ser
from ember import worker
# What tasks' pickled functions refer to by reference (RDD internals, union dispatch, file readers), imported once
# here so every forked worker has it; the driver's context and Py4J stay out.
from ember import files, plan, rdd  # noqa: F401


ADDRESS_MARK = "EMBER-DAEMON-ADDRESS "  # dev.ember.transport.common.OutputTail.ADDRESS_MARK
WORKER_MARK = "ember.worker "  # dev.ember.transport.common.OutputTail.WORKER_MARK: "ember.worker <pid>: <line>"


def _listen(transport: str) -> tuple[socket.socket, str]:
    if transport == "tcp":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        address = str(listener.getsockname()[1])
    elif transport == "uds":
        path = os.environ["EMBER_DAEMON_SOCKET"]
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, 0o600)
        address = path
    else:
        raise SystemExit(f"ember.daemon: unknown transport {transport!r} (expected tcp or uds)")
    listener.listen(128)
    return listener, address


def _serve_connection(conn: socket.socket, transport: str) -> int:
    """Runs in the forked child of an authenticated connection: announce the pid, serve tasks. Returns the exit
    code."""
    try:
        conn.setblocking(True)
        if transport == "tcp":
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A BufferedReader and a BufferedWriter: typeshed types makefile with a buffer size other than -1, 0 or 1 as
        # IOBase.
        infile = cast("IO[bytes]", conn.makefile("rb", 1 << 16))
        outfile = cast("IO[bytes]", conn.makefile("wb", 1 << 16))
        ser.write_int(os.getpid(), outfile)
        outfile.flush()
        worker.serve(infile, outfile)
        return 0
    except (OSError, EOFError):
        return 1
    finally:
        conn.close()


class _Handshakes:
    """Connections that have not yet sent the secret, read by the daemon itself before it forks: a peer that does
    not know the secret gets no process (at most MAX_PENDING wait at a time, each for at most TIMEOUT seconds)."""

    MAX_PENDING = 32
    TIMEOUT = 10.0

    def __init__(self, secret: bytes) -> None:
        self.expected = ser._INT.pack(len(secret)) + secret
        self.pending: dict[socket.socket, tuple[bytearray, float]] = {}

    def add(self, conn: socket.socket) -> None:
        if len(self.pending) >= self.MAX_PENDING:
            conn.close()
            return
        conn.setblocking(False)
        self.pending[conn] = (bytearray(), time.monotonic() + self.TIMEOUT)

    def timeout(self) -> Optional[float]:
        if not self.pending:
            return None
        return max(0.0, min(deadline for _, deadline in self.pending.values()) - time.monotonic())

    def expire(self) -> None:
        now = time.monotonic()
        for conn in [c for c, (_, deadline) in self.pending.items() if deadline <= now]:
            self._drop(conn)

    def read(self, conn: socket.socket) -> bool:
        """Reads what the connection sent; True once it has presented the whole secret (it is no longer pending)."""
        received, deadline = self.pending[conn]
        try:
            chunk = conn.recv(len(self.expected) - len(received))
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            chunk = b""
        received += chunk
        if not chunk or received != self.expected[:len(received)]:
            self._drop(conn)  # Closed, or not our JVM (the length or a byte of the secret is wrong).
            return False
        if len(received) < len(self.expected):
            return False
        del self.pending[conn]
        return True

    def _drop(self, conn: socket.socket) -> None:
        self.pending.pop(conn, None)
        conn.close()


class _WorkerOutputs:
    """What each forked worker writes to its stdout and stderr (at any level, a crash message of the interpreter
    included) comes through a pipe of its own and goes on to the daemon's stderr one line at a time, marked with the
    worker's pid: the JVM keeps each worker's lines apart, so a report of one worker's crash never shows what another
    worker (another client's task) printed."""

    MAX_LINE = 1 << 16

    def __init__(self) -> None:
        self.pipes: dict[int, tuple[int, bytearray]] = {}

    def add(self, fd: int, pid: int) -> None:
        self.pipes[fd] = (pid, bytearray())

    def fds(self) -> list[int]:
        return list(self.pipes)

    def read(self, fd: int) -> None:
        pid, partial = self.pipes[fd]
        try:
            data = os.read(fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            if partial:
                self._emit(pid, bytes(partial))
            del self.pipes[fd]
            os.close(fd)
            return
        partial += data
        while True:
            end = partial.find(b"\n")
            if end < 0:
                if len(partial) > self.MAX_LINE:
                    self._emit(pid, bytes(partial))
                    partial.clear()
                break
            self._emit(pid, bytes(partial[:end]))
            del partial[:end + 1]

    @staticmethod
    def _emit(pid: int, line: bytes) -> None:
        try:
            sys.stderr.buffer.write(f"{WORKER_MARK}{pid}: ".encode("ascii") + line + b"\n")
            sys.stderr.buffer.flush()
        except (OSError, ValueError):
            pass  # The JVM is gone; the pipe is drained anyway, so the worker never blocks on its output.


_outputs = _WorkerOutputs()


def _report_exits(_signum: int, _frame: object) -> None:
    """Collects forked workers that ended and says how, when it was not a clean exit: the JVM keeps the daemon's
    last output lines for the report of the task that was running there."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = "unknown signal"
            print(f"ember.daemon: worker {pid} was killed by signal {number} ({name})", file=sys.stderr, flush=True)
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0:
            print(f"ember.daemon: worker {pid} exited with code {os.WEXITSTATUS(status)}", file=sys.stderr,
                  flush=True)


def main() -> None:
    transport = os.environ["EMBER_DAEMON_TRANSPORT"]
    secret = os.environ["EMBER_WORKER_SECRET"].encode("utf-8")
    listener, address = _listen(transport)
    # Marked, so that whatever else reaches stdout first (a sitecustomize, a warning) is not taken for it.
    print(f"{ADDRESS_MARK}{address}", flush=True)
    import ctypes  # noqa: F401  # While the JVM connects: every forked worker sets its allocator up with it.
    signal.signal(signal.SIGCHLD, _report_exits)
    stdin = sys.stdin.buffer
    handshakes = _Handshakes(secret)
    while True:
        try:
            ready, _, _ = select.select([listener, stdin, *handshakes.pending, *_outputs.fds()], [], [],
                                        handshakes.timeout())
        except InterruptedError:
            continue
        for fd in [r for r in ready if isinstance(r, int)]:
            _outputs.read(fd)
        if stdin in ready and not os.read(stdin.fileno(), 4096):
            break  # The JVM closed our stdin: stop taking connections. Forked workers end with their sockets.
        handshakes.expire()
        for conn in [c for c in ready if c in handshakes.pending]:
            if handshakes.read(conn):
                _fork_worker(conn, listener, handshakes, transport)
        if listener in ready:
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            handshakes.add(conn)
    listener.close()
    if transport == "uds":
        try:
            os.unlink(address)
        except OSError:
            pass
    # The workers still running write their last lines; a pipe left unread would block them.
    while _outputs.pipes:
        try:
            ready, _, _ = select.select(_outputs.fds(), [], [])
        except InterruptedError:
            continue
        for fd in ready:
            _outputs.read(fd)


def _fork_worker(conn: socket.socket, listener: socket.socket, handshakes: _Handshakes, transport: str) -> None:
    output_read, output_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(output_read)
        for fd in _outputs.fds():
            os.close(fd)
        _outputs.pipes.clear()
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(output_write, 1)
        os.dup2(output_write, 2)
        os.close(output_write)
        # The daemon's stdin is the JVM's pipe, silent until it closes: a task reading stdin would block for ever.
        # It reads /dev/null, as PySpark's forked workers do.
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        listener.close()
        for other in handshakes.pending:
            other.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        random.seed()  # Forked children would otherwise share the daemon's random state.
        faulthandler.enable()
        code = _serve_connection(conn, transport)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    os.close(output_write)
    _outputs.add(output_read, pid)
    conn.close()


if __name__ == "__main__":
    main()
