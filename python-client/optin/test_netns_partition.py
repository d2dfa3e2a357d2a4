"""Opt-in, root only: a member cut off from the network mid-job (issue 19). Not in the default suite (pytest's
testpaths is tests/); run it as root with

    cd python-client && ../.venv/bin/python -m pytest -q -p no:cacheprovider optin/

Each of three members runs in a network namespace of its own, on a veth pair into a bridge of the host's namespace,
with an address of its own (10.231.0.1-3); the driver stays in the host's namespace. During the map stage of a job
the link of one member goes down (all its traffic is dropped, as a partition by firewall would do; nft is not on
these machines, `ip` is), and the job must still give the exact result and accumulators. The link comes back before
the test ends and everything is torn down.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from conftest import EMBER_DIST, driver_env, driver_result  # noqa: E402

BRIDGE = "embr231"
SUBNET = "10.231.0"
MEMBERS = 3


def sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


def ns(index: int) -> str:
    return f"ember-m{index}"


def veth(index: int) -> str:
    return f"embv{index}"


def teardown_network() -> None:
    for index in range(1, MEMBERS + 1):
        subprocess.run(["ip", "netns", "del", ns(index)], capture_output=True)
        subprocess.run(["ip", "link", "del", veth(index)], capture_output=True)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def setup_network() -> None:
    teardown_network()
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{SUBNET}.254/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for index in range(1, MEMBERS + 1):
        sh("ip", "netns", "add", ns(index))
        sh("ip", "link", "add", veth(index), "type", "veth", "peer", "name", "eth0", "netns", ns(index))
        sh("ip", "link", "set", veth(index), "master", BRIDGE)
        sh("ip", "link", "set", veth(index), "up")
        sh("ip", "netns", "exec", ns(index), "ip", "addr", "add", f"{SUBNET}.{index}/24", "dev", "eth0")
        sh("ip", "netns", "exec", ns(index), "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", ns(index), "ip", "link", "set", "lo", "up")


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                reason="needs root and iproute2 (network namespaces)")


@pytest.fixture()
def members(tmp_path: Path) -> Iterator[tuple[Path, list[subprocess.Popen], list[Path]]]:
    home = tmp_path / "dist"  # not "ember": the driver script beside it would import that directory
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    name, secret = "ember-netns-" + secrets.token_hex(4), secrets.token_hex(16)
    addresses = [f"{SUBNET}.{i}:5701" for i in range(1, MEMBERS + 1)]
    setup_network()
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []
    try:
        for index in range(1, MEMBERS + 1):
            config = (f"cluster.name = {name}\ncluster.secret = {secret}\nbind = {SUBNET}.{index}\n"
                      f"member.port = 5701\nmembers = {','.join(addresses)}\npython = {sys.executable}\n"
                      f"slots = 2\n")
            if index == 1:
                (home / "conf" / "cluster.cfg").write_text(config)
            path = tmp_path / f"member-{index}.cfg"
            path.write_text(config)
            log = tmp_path / f"member-{index}.log"
            logs.append(log)
            with open(log, "wb") as out:
                processes.append(subprocess.Popen(
                    ["ip", "netns", "exec", ns(index), str(home / "bin" / "ember"), "run", "--cluster", str(path)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=driver_env(None)))
        deadline = time.monotonic() + 120
        while not all("Members {size:3," in log.read_text(errors="replace") for log in logs):
            assert time.monotonic() < deadline, logs[0].read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        yield home, processes, logs
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        teardown_network()


def test_a_member_cut_off_mid_job_leaves_results_and_accumulators_exact(members, tmp_path: Path) -> None:
    home, _, logs = members
    started = tmp_path / "map-started"
    script = tmp_path / "driver.py"
    script.write_text(f"""
import json, time
from operator import add
from pathlib import Path
from ember import SparkContext
sc = SparkContext("ember-cluster://{SUBNET}.1:5701", "partition")
mapped = sc.accumulator(0)
def slow(x):
    mapped.add(1)
    Path({str(started)!r}).touch()
    time.sleep(0.01)
    return (x % 97, x)
result = sc.parallelize(range(3000), 12).map(slow).reduceByKey(add, 6).collectAsMap()
print("RESULT:" + json.dumps({{"result": sorted(result.items()), "mapped": mapped.value}}), flush=True)
sc.stop()
""")
    driver = subprocess.Popen([sys.executable, str(script)], env=driver_env({"EMBER_HOME": str(home)}),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert driver.poll() is None and time.monotonic() < deadline, driver.stdout.read() if driver.stdout else ""
        time.sleep(0.02)
    sh("ip", "link", "set", veth(2), "down")  # member 2 is cut off from the others and from the driver
    try:
        output, _ = driver.communicate(timeout=180)
    finally:
        sh("ip", "link", "set", veth(2), "up")
    result = driver_result(subprocess.CompletedProcess(driver.args, driver.returncode, output, ""))
    sums: dict[int, int] = {}
    for x in range(3000):
        sums[x % 97] = sums.get(x % 97, 0) + x
    assert result["result"] == [[k, v] for k, v in sorted(sums.items())]
    assert result["mapped"] == 3000
    assert "Members {size:2," in logs[0].read_text(errors="replace")  # the others saw it go
