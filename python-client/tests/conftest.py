"""Shared fixtures for Ember's end-to-end tests.

Only one SparkContext may exist per process, so most tests share the session-scoped ``sc``. Tests that need a fresh
context, a failing start or process control run a driver script in a subprocess through ``run_driver`` or
``start_driver``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

import pytest

from ember import SparkContext
from ember.launch import find_home

TESTS_DIR = Path(__file__).resolve().parent
# The built distribution every test runs against (EMBER_HOME, else the checkout's launcher/target/ember).
EMBER_DIST: Path = find_home()
RESULT_PREFIX = "RESULT:"

# Every driver script starts with this: ``report(value)`` prints the value for ``driver_result``.
DRIVER_PRELUDE = f'''\
import json as _json

def report(value):
    print({RESULT_PREFIX!r} + _json.dumps(value), flush=True)

'''

EnvOverrides = Optional[Mapping[str, Optional[str]]]
RunDriver = Callable[..., "subprocess.CompletedProcess[str]"]
StartDriver = Callable[..., "Driver"]


#: The master of the shared ``sc``: local unless a run sets it (test_cluster runs the API corpus on a cluster).
TEST_MASTER = os.environ.get("EMBER_TEST_MASTER", "local[2]")
#: Its task slots (defaultParallelism): 2 for local[2], the members' slots together on a cluster.
TEST_PARALLELISM = int(os.environ.get("EMBER_TEST_PARALLELISM", "2"))


@pytest.fixture(scope="session")
def sc() -> Iterator[SparkContext]:
    context = SparkContext(TEST_MASTER, "ember-tests")
    try:
        yield context
    finally:
        context.stop()


def driver_env(env: EnvOverrides = None) -> dict[str, str]:
    """The environment of a driver subprocess: ours, the real distribution, the tests directory on PYTHONPATH (for
    proc_utils and helper_module), then ``env`` on top (a value of None removes the variable)."""
    result = dict(os.environ)
    result["EMBER_HOME"] = str(EMBER_DIST)
    result["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH")) if p)
    for key, value in (env or {}).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _write_driver(directory: Path, code: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    index = len(list(directory.glob("driver_*.py")))
    script = directory / f"driver_{index}.py"
    script.write_text(DRIVER_PRELUDE + textwrap.dedent(code))
    return script


@pytest.fixture
def run_driver(tmp_path: Path) -> RunDriver:
    """``run_driver(code, env=None, timeout=60)`` runs ``code`` as a Python driver script to completion.

    A driver that hangs past ``timeout`` makes the test fail (subprocess.TimeoutExpired kills it)."""

    def run(code: str, env: EnvOverrides = None, timeout: float = 60) -> "subprocess.CompletedProcess[str]":
        script = _write_driver(tmp_path / "drivers", code)
        return subprocess.run([sys.executable, str(script)], env=driver_env(env), cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=timeout)

    return run


@dataclass
class Driver:
    """A driver script running in the background; ``output`` collects its stdout and stderr."""
    proc: "subprocess.Popen[str]"
    output: Path

    def output_text(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""


@pytest.fixture
def start_driver(tmp_path: Path) -> Iterator[StartDriver]:
    """``start_driver(code, env=None)`` starts a driver script without waiting; any still running is killed (by its
    pid) when the test ends."""
    started: list[Driver] = []

    def start(code: str, env: EnvOverrides = None) -> Driver:
        script = _write_driver(tmp_path / "drivers", code)
        output = tmp_path / f"{script.stem}.out"
        with open(output, "w") as log:
            proc = subprocess.Popen([sys.executable, str(script)], env=driver_env(env), cwd=str(tmp_path),
                                    stdout=log, stderr=subprocess.STDOUT, text=True)
        driver = Driver(proc, output)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        if driver.proc.poll() is None:
            driver.proc.kill()
        driver.proc.wait()


def driver_result(proc: "subprocess.CompletedProcess[str]") -> Any:
    """The value the driver last passed to ``report``; fails the test, showing the driver's output, if none."""
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    assert lines, (f"the driver reported nothing (exit code {proc.returncode})\n"
                   f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    return json.loads(lines[-1][len(RESULT_PREFIX):])


@pytest.fixture
def result_of() -> Callable[["subprocess.CompletedProcess[str]"], Any]:
    return driver_result
