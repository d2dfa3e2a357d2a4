"""The worker daemon: started once per worker spec by a socket transport, it forks a worker per connection.

Forking a process that has already imported Ember and cloudpickle costs milliseconds, where starting a fresh
interpreter costs tens of them. The daemon listens on loopback TCP (and prints its port) or on a Unix domain socket
(and prints its path), then serves until its stdin closes, which is how the JVM stops it, on purpose or by dying.
Each forked worker checks the secret the connection opens with, answers with its pid and serves tasks.
"""

from __future__ import annotations

import faulthandler
import os
import random
import select
import signal
import socket
import sys

from ember import serializers as ser
from ember import worker
# What tasks' pickled functions refer to by reference (RDD internals, union dispatch, file readers), imported once
# here so every forked worker has it; the driver's context and Py4J stay out.
from ember import files, plan, rdd  # noqa: F401


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


def _serve_connection(conn: socket.socket, secret: bytes, transport: str) -> int:
    """Runs in the forked child: authenticate, announce the pid, serve tasks. Returns the exit code."""
    try:
        conn.settimeout(10)
        length = ser._INT.unpack(_recv_exactly(conn, 4))[0]
        if length != len(secret) or _recv_exactly(conn, length) != secret:
            return 1  # Not our JVM: say nothing and go.
        conn.settimeout(None)
        if transport == "tcp":
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        infile = conn.makefile("rb", 1 << 16)
        outfile = conn.makefile("wb", 1 << 16)
        ser.write_int(os.getpid(), outfile)
        outfile.flush()
        worker.serve(infile, outfile)
        return 0
    except (OSError, EOFError):
        return 1
    finally:
        conn.close()


def _recv_exactly(conn: socket.socket, length: int) -> bytes:
    data = b""
    while len(data) < length:
        chunk = conn.recv(length - len(data))
        if not chunk:
            raise EOFError("connection closed during the handshake")
        data += chunk
    return data


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
    print(address, flush=True)
    signal.signal(signal.SIGCHLD, _report_exits)
    stdin = sys.stdin.buffer
    while True:
        ready, _, _ = select.select([listener, stdin], [], [])
        if stdin in ready and not os.read(stdin.fileno(), 4096):
            break  # The JVM closed our stdin: stop taking connections. Forked workers end with their sockets.
        if listener not in ready:
            continue
        try:
            conn, _ = listener.accept()
        except OSError:
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            random.seed()  # Forked children would otherwise share the daemon's random state.
            faulthandler.enable()
            code = _serve_connection(conn, secret, transport)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        conn.close()
    listener.close()
    if transport == "uds":
        try:
            os.unlink(address)
        except OSError:
            pass


if __name__ == "__main__":
    main()
