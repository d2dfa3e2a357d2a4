"""The example programs run end to end and print what plain Python computes."""

from __future__ import annotations

import math
import re
import subprocess
import sys
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
