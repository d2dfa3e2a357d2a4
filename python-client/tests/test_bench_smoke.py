"""A tiny run of the benchmark harness (bench/run --smoke): every asked-for result is there, and the ratios in the
report follow from the medians. Never a timing assertion: the numbers are whatever this machine gives."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
from pathlib import Path

from conftest import EMBER_DIST

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS = ["ember", "python", "multiprocessing"]
# Where each workload applies among the systems above (plain Python has no tasks, no gateway, nothing to collect).
EXPECTED = {
    "W1": SYSTEMS, "W2": SYSTEMS, "W3": SYSTEMS, "W4": ["ember", "multiprocessing"], "W5": ["ember", "py4j"],
    "W6": ["ember", "multiprocessing"], "W7": SYSTEMS, "W8-W4": ["tcp"], "W8-W6": ["tcp"],
}


def test_a_smoke_run_reports_every_workload_with_consistent_ratios(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(ROOT / "bench" / "run"), "--smoke", "--systems", ",".join(SYSTEMS), "--transports", "tcp",
         "--out", str(tmp_path), "--data-dir", str(tmp_path / "data")],
        env={**os.environ, "EMBER_HOME": str(EMBER_DIST)}, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "benchmarks.json").read_text())
    report = (tmp_path / "benchmarks.md").read_text()
    assert data["mode"] == "smoke"
    assert set(data["tables"]) == set(EXPECTED)

    for table_id, systems in EXPECTED.items():
        table = data["tables"][table_id]
        assert sorted(table["systems"]) == sorted(systems), table_id
        assert table["answers_agree"], table_id
        for system, result in table["systems"].items():
            assert result["error"] is None, (table_id, system, result["error"])
            assert result["runs"] == len(result["values"]) >= 1
            assert all(v > 0 and math.isfinite(v) for v in result["values"]), (table_id, system)
            assert all(p > 0 for p in result["peaks_mb"]), (table_id, system)
            assert result["median"] == statistics.median(result["values"])
            assert result["min"] <= result["median"] <= result["max"]
        reference = table["systems"][table["reference"]]
        others = [s for s in systems if s != table["reference"]]
        assert sorted(table["ratios"]) == sorted(others), table_id
        for system in others:
            mine, theirs = reference["median"], table["systems"][system]["median"]
            expected = theirs / mine if table["better"] == "lower" else mine / theirs
            assert math.isclose(table["ratios"][system], expected, rel_tol=1e-12), (table_id, system)
            memory = table["systems"][system]["peak_mb_median"] / reference["peak_mb_median"]
            assert math.isclose(table["memory_ratios"][system], memory, rel_tol=1e-12), (table_id, system)
        if not table_id.startswith("W8"):
            assert f"## {table_id}:" in report

    # The targets are judged from the same medians: W2 against plain Python, for one.
    w2 = next(t for t in data["targets"] if t["target"] == "W2 at least 1.6x faster than plain Python")
    assert w2["measured"] == f"{data['tables']['W2']['ratios']['python']:.2f}x"
    assert w2["status"] in ("met", "missed")
    # Issue 22's, too: W7 against plain Python, judged from the same ratio and its 1.0 bar.
    w7 = next(t for t in data["targets"] if t["target"] == "W7 no slower than plain Python (issue 22)")
    w7_ratio = data["tables"]["W7"]["ratios"]["python"]
    assert w7["measured"] == f"{w7_ratio:.2f}x" and w7["status"] == ("met" if w7_ratio >= 1.0 else "missed")
    assert "## Targets (issues 8 and 22)" in report
