"""The example programs run end to end and print what plain Python computes."""

from __future__ import annotations

import json
import math
import os
import re
import select
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

from conftest import driver_env

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], env=driver_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_wordcount_prints_the_top_words_plain_python_finds() -> None:
    output = run_example(str(EXAMPLES / "wordcount.py"))
    counts: Counter = Counter()
    for path in sorted((EXAMPLES / "data").iterdir()):
        for line in path.read_text().splitlines():
            counts.update(re.findall(r"[a-z']+", line.lower()))
    expected_top = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:10]
    printed = [(m.group(2), int(m.group(1))) for m in re.finditer(r"^\s*(\d+)\s+(\S+)$", output, re.M)]
    assert printed == expected_top
    assert output.startswith(f"{sum(counts.values())} words")


def test_pi_prints_an_estimate() -> None:
    output = run_example(str(EXAMPLES / "pi.py"), "2")
    estimate = float(re.search(r"Pi is roughly ([0-9.]+)", output).group(1))
    # 400,000 darts: the standard error is about 0.0026, so 0.05 is many deviations away.
    assert math.isclose(estimate, math.pi, abs_tol=0.05)


def read_until(proc: subprocess.Popen, marker: bytes, timeout: float) -> bytes:
    """What the process wrote to stdout up to and including `marker` (a prompt has no newline to read a line by)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        assert chunk, f"no {marker!r} on stdout (exit code {proc.poll()}); got {seen!r}"
        seen += chunk
    return seen


def test_wordcount_wait_keeps_its_web_ui_up_showing_jobs_stages_and_storage() -> None:
    """A newcomer's first look at the UI: ember-submit with the console progress bar, then the printed URL."""
    submit = Path(sys.executable).parent / "ember-submit"
    proc = subprocess.Popen([str(submit), "--conf", "spark.ui.showConsoleProgress=true", "--conf", "spark.ui.port=0",
                             str(EXAMPLES / "wordcount.py"), "--wait"], env=driver_env(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        printed = read_until(proc, b"until you press Enter. ", timeout=120).decode()
        url = re.search(r"the web UI at (http://127\.0\.0\.1:\d+) stays up", printed).group(1)

        def get(path: str):
            with urllib.request.urlopen(url + "/api/v1" + path, timeout=10) as response:
                return json.loads(response.read())

        [app] = get("/applications")
        assert app["name"] == "PythonWordCount" and app["driverPid"] == proc.pid
        jobs = get(f"/applications/{app['id']}/jobs")
        assert len(jobs) == 2 and all(job["status"] == "SUCCEEDED" for job in jobs), jobs
        assert sorted(job["name"].split(" at ")[0] for job in jobs) == ["sum", "takeOrdered"]
        stages = {stage["stageId"]: stage for stage in get(f"/applications/{app['id']}/stages")}
        first = min(jobs, key=lambda job: job["jobId"])
        map_side = stages[first["stageIds"][0]]
        assert map_side["kind"] == "shuffle" and map_side["shuffleWriteBytes"] > 0
        [cached] = get(f"/applications/{app['id']}/storage/rdd")
        assert cached["numCachedPartitions"] == cached["numPartitions"] > 0 and cached["memoryUsed"] > 0
        with urllib.request.urlopen(url + "/", timeout=10) as response:
            assert response.status == 200 and b"<script" in response.read()

        proc.stdin.write(b"\n")
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        stderr = proc.stderr.read().decode()
        assert stderr.count(f"Ember web UI at {url}") == 1, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    top = [line for line in printed.splitlines() if re.match(r"^\s*\d+\s+\S+$", line)]
    assert len(top) == 10
