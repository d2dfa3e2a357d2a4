"""A bounded fuzz of a running service (issue 18): random bytes, truncated and huge frames sent to the gateway, the
side socket and a worker daemon's port, while a legitimate client runs jobs. The service must keep serving it with
exact results and bounded memory, and fork no worker for a peer without the secret."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import EMBER_DIST, StartDriver, driver_result
from ember.errors import EmberError
from ember.java_gateway import SideChannel, connect
from test_service import run_service

FUZZ_SECONDS = 12
HEAP = "-Xmx256m"


@pytest.fixture()
def small_heap_service(tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    yield from run_service(home, {"EMBER_JAVA_OPTS": HEAP})


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def listening_ports(pid: int) -> list[int]:
    """The TCP ports a process listens on (from /proc: its socket inodes matched against /proc/net/tcp)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
            ports.append(int(fields[1].split(":")[1], 16))
    return ports


def daemon_of(jvm: int) -> int:
    for child in children(jvm):
        if b"ember.daemon" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    raise AssertionError("the service has no worker daemon")


def attacks(rng: random.Random) -> list[Callable[[socket.socket], None]]:
    """What a peer without the secret sends: noise, a huge Py4J handshake line, huge and negative length
    prefixes, truncated frames, nothing at all."""
    def noise(conn: socket.socket) -> None:
        conn.sendall(rng.randbytes(rng.randrange(1, 8192)))

    def huge_line(conn: socket.socket) -> None:
        conn.sendall(b"A\n")
        chunk = b"x" * (1 << 20)
        for _ in range(64):  # 64 MiB without a newline, as Py4J would read it
            conn.sendall(chunk)

    def huge_frame(conn: socket.socket) -> None:
        conn.sendall(struct.pack(">i", 0x7FFFFFFF) + rng.randbytes(1 << 16))

    def negative_frame(conn: socket.socket) -> None:
        conn.sendall(struct.pack(">i", -rng.randrange(1, 1 << 31)))

    def truncated(conn: socket.socket) -> None:
        conn.sendall(struct.pack(">i", 40) + b"0123456789")

    def silent(conn: socket.socket) -> None:
        time.sleep(0.5)

    return [noise, huge_line, huge_frame, negative_frame, truncated, silent]


def test_a_fuzzed_service_keeps_serving_exact_results_with_bounded_memory(small_heap_service,
                                                                          start_driver: StartDriver) -> None:
    home, info = small_heap_service
    jvm = info["pid"]
    gateway, entry = connect(info["port"], info["secret"])
    side_port = entry.sidePort()
    gateway.close()
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    client = start_driver(f"""
        import time
        from ember import SparkContext
        sc = SparkContext(appName="legitimate")
        deadline = time.monotonic() + {FUZZ_SECONDS}
        rounds, wrong = 0, 0
        while time.monotonic() < deadline:
            data = list(range(rounds * 1000, rounds * 1000 + 20000))
            got = sc.parallelize(data, 4).map(lambda x: (x % 7, x)).reduceByKey(lambda a, b: a + b).collectAsMap()
            expected = {{}}
            for x in data:
                expected[x % 7] = expected.get(x % 7, 0) + x
            wrong += got != expected
            rounds += 1
        report({{"rounds": rounds, "wrong": wrong}})
        sc.stop()
    """, env=env)
    deadline = time.monotonic() + 30
    daemon, daemon_ports = None, []
    while not daemon_ports and time.monotonic() < deadline:  # the client's daemon starts with its session
        try:
            daemon = daemon_of(jvm)
            daemon_ports = listening_ports(daemon)
        except (AssertionError, OSError):
            pass
        time.sleep(0.1)
    assert daemon_ports, "the worker daemon listens on no TCP port: " + client.output_text()
    targets = [info["port"], side_port, *daemon_ports]
    peak_rss = [rss_kib(jvm)]
    most_daemon_children = [0]
    stop = threading.Event()

    def attack(seed: int) -> None:
        rng = random.Random(seed)
        kinds = attacks(rng)
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", rng.choice(targets)), timeout=5) as conn:
                    rng.choice(kinds)(conn)
            except OSError:
                pass  # Refused, reset or cut off: what an attacker gets.

    def watch() -> None:
        while not stop.is_set():
            peak_rss[0] = max(peak_rss[0], rss_kib(jvm))
            most_daemon_children[0] = max(most_daemon_children[0], len(children(daemon)))
            time.sleep(0.1)

    threads = [threading.Thread(target=attack, args=(seed,)) for seed in range(6)] + [threading.Thread(target=watch)]
    for thread in threads:
        thread.start()
    try:
        client.proc.wait(timeout=FUZZ_SECONDS + 60)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    result = driver_result(subprocess.CompletedProcess([], client.proc.returncode, client.output_text(), ""))
    assert result["rounds"] >= 3 and result["wrong"] == 0, result
    assert peak_rss[0] < 640 * 1024, f"the service's resident memory reached {peak_rss[0] // 1024} MiB"
    # The legitimate client has at most its parallelism of workers (plus one being replaced): none for attackers.
    assert most_daemon_children[0] <= 4, most_daemon_children[0]
    # And the service still serves a new client.
    gateway, entry = connect(info["port"], info["secret"])
    try:
        assert json.loads(entry.status())["sessions"] == 0
    finally:
        gateway.close()
    log = (home / "logs" / "ember.log").read_text()
    assert "refused a connection" in log
    assert log.count("refused a connection") < 200  # rate-limited: one line per 10 s and port, not one per try


def test_a_request_the_engine_refuses_is_answered_with_an_error(sc) -> None:
    """A malformed request (a negative partition count) gets an error frame, not a dropped connection (which the
    driver would take for a gateway restart)."""
    from ember import serializers as ser
    from ember.java_gateway import _read_id
    side = SideChannel(sc._entry.sidePort(), sc._launched.secret, sc._session.token())
    with pytest.raises(EmberError, match="-1"):
        with side._request({"op": "store", "partitions": -1}) as (infile, outfile):
            outfile.flush()
            _read_id(infile)
    del ser
    assert sc.parallelize(range(10), 2).sum() == 45


def test_a_huge_handshake_is_cut_off_before_the_gateway_buffers_it(sc) -> None:
    """Py4J reads the secret line unbounded; the gateway reads at most 4 KiB of it and hangs up."""
    with socket.create_connection(("127.0.0.1", sc._launched.port), timeout=10) as conn:
        conn.sendall(b"A\n")
        chunk = b"x" * (1 << 16)
        sent = 0
        with pytest.raises(OSError):  # broken pipe or reset: the gateway closed the connection
            while sent < (64 << 20):
                conn.sendall(chunk)
                sent += len(chunk)
            # A gateway that kept reading lets all 64 MiB through; its answer, if any, comes only now.
            raise AssertionError(f"the gateway took {sent >> 20} MiB of handshake without hanging up")
        assert sent < (16 << 20)
    assert sc.parallelize(range(10), 2).sum() == 45
