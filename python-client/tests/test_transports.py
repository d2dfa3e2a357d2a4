"""Worker transports as bundles: the same program on TCP, Unix sockets and pipes, and swapping them while jobs run."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import EMBER_DIST, RunDriver, StartDriver, driver_result
from test_distribution import ShellSession

TRANSPORT_OF_TASK = ("lambda it: [__import__('os').environ.get('EMBER_DAEMON_TRANSPORT') "
                     "or __import__('os').environ.get('EMBER_WORKER_TRANSPORT')]")


def distribution(tmp_path: Path, installed: tuple[str, ...] = (), target: str = "") -> Path:
    """A private copy of the distribution with the named extras installed at boot and, optionally, the engine
    pinned to one transport."""
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    for name in installed:
        for jar in (home / "extras").glob(f"dev.ember.transport.{name}-*.jar"):
            shutil.copy(jar, home / "bundle")
    if target:
        config = home / "conf" / "dev.ember.engine.cfg"
        config.write_text(config.read_text() + f"\ntransport.target = (ember.transport={target})\n")
    return home


@pytest.mark.parametrize("transport", ["tcp", "uds", "pipe"])
def test_the_same_program_gives_the_same_result_on_each_transport(tmp_path: Path, run_driver: RunDriver,
                                                                  transport: str) -> None:
    home = distribution(tmp_path, installed=("uds", "pipe"), target=transport)
    proc = run_driver(f"""
        import time
        from operator import add
        from ember import SparkContext
        sc = SparkContext("local[2]", "transports")
        seen = sc.accumulator(0)
        def tally(word):
            seen.add(1)
            return (word, 1)
        words = sc.parallelize(["ember", "fire", "ash", "ember"] * 500, 5).map(tally)
        counts = sorted(words.reduceByKey(add).collect())
        transports = sorted(set(sc.parallelize(range(8), 4).mapPartitions({TRANSPORT_OF_TASK}).collect()))
        # What a task prints reaches the driver whatever carries the data, starting with a worker's first line.
        sc.parallelize([1], 1).foreach(lambda x: print("hello from the task"))
        time.sleep(0.5)
        sc.stop()
        report({{"counts": counts, "seen": seen.value, "transports": transports}})
    """, env={"EMBER_HOME": str(home)}, timeout=120)
    result = driver_result(proc)
    expected = sorted(Counter(["ember", "fire", "ash", "ember"] * 500).items())
    assert [tuple(pair) for pair in result["counts"]] == expected
    assert result["seen"] == 2000
    assert result["transports"] == [transport]
    assert "[stage 0 partition 0] hello from the task" in proc.stderr


def test_a_transport_dropped_into_load_during_a_job_takes_over_and_removing_it_falls_back(
        tmp_path: Path, start_driver: StartDriver) -> None:
    home = distribution(tmp_path)
    started, removed = tmp_path / "started", tmp_path / "removed"
    driver = start_driver(f"""
        import os, time
        from pathlib import Path
        from ember import SparkContext
        sc = SparkContext("local[2]", "swap")
        total = sc.accumulator(0)
        def slow(split, it):
            Path({str(started)!r}).touch()
            time.sleep(0.02)
            for x in it:
                total.add(x)
                yield (x, os.environ.get("EMBER_DAEMON_TRANSPORT"))
        n = 1200
        out = sc.parallelize(list(range(n)), 300).mapPartitionsWithIndex(slow).collect()
        during = [t for _, t in out]
        exact = [x for x, _ in out] == list(range(n)) and total.value == sum(range(n))
        def transport_now():
            return sc.parallelize([0], 1).mapPartitions({TRANSPORT_OF_TASK}).collect()[0]
        deadline = time.time() + 30
        while transport_now() != "uds" and time.time() < deadline:
            time.sleep(0.2)
        after_install = transport_now()
        print("INSTALLED", flush=True)
        while not Path({str(removed)!r}).exists() and time.time() < deadline + 30:
            time.sleep(0.1)
        deadline = time.time() + 30
        while transport_now() != "tcp" and time.time() < deadline:
            time.sleep(0.2)
        after_removal = transport_now()
        still_exact = sc.parallelize(list(range(1000)), 10).map(lambda x: x * 2).sum() == 999000
        sc.stop()
        report({{"exact": exact, "during": sorted(set(during)), "last": during[-1], "after_install": after_install,
                "after_removal": after_removal, "still_exact": still_exact}})
    """, env={"EMBER_HOME": str(home)})
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and driver.proc.poll() is None:
        time.sleep(0.05)
    assert started.exists(), driver.output_text()
    jar = next((home / "extras").glob("dev.ember.transport.uds-*.jar"))
    shutil.copy(jar, home / "load" / jar.name)
    while "INSTALLED" not in driver.output_text() and time.monotonic() < deadline + 60 and driver.proc.poll() is None:
        time.sleep(0.1)
    (home / "load" / jar.name).unlink()
    removed.touch()
    driver.proc.wait(timeout=120)
    result = driver_result(subprocess.CompletedProcess([], driver.proc.returncode, driver.output_text(), ""))
    assert result["exact"], "records or accumulator updates were lost or duplicated during the swap"
    assert result["during"] == ["tcp", "uds"], "the running job did not move to the new transport"
    assert result["last"] == "uds"
    assert result["after_install"] == "uds"
    assert result["after_removal"] == "tcp"
    assert result["still_exact"]


def test_shell_lists_transports_and_switches_them(tmp_path: Path) -> None:
    home = distribution(tmp_path)
    shell = ShellSession(home)
    try:
        listing = shell.poll_command("ember:transports", lambda text: "dev.ember.transport.tcp" in text)
        assert "*" in next(line for line in listing.splitlines() if line.startswith("tcp"))
        jar = next((home / "extras").glob("dev.ember.transport.uds-*.jar"))
        shutil.copy(jar, home / "load" / jar.name)

        def active(name: str):
            return lambda text: any(line.startswith(name) and "*" in line for line in text.splitlines())

        shell.poll_command("ember:transports", active("uds"))
        assert "'tcp'" in shell.poll_command("ember:use tcp", lambda text: "new tasks use" in text)
        shell.poll_command("ember:transports", active("tcp"))
        refused = shell.poll_command("ember:use carrier-pigeon", lambda text: "no transport named" in text)
        assert "extras/" in refused
        assert "no running jobs" in shell.poll_command("ember:jobs", lambda text: "jobs" in text)
    finally:
        assert shell.close() == 0
