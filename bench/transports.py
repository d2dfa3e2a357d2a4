"""Per-task overhead and collect throughput on each worker transport, measured in one run on this machine.

    .venv/bin/python bench/transports.py [--quick]

For each transport (tcp, uds, pipe) it makes a private copy of the built distribution with that transport pinned,
then times, on local[2]:
  - W4: count() over 2,000 partitions of one element each (per-task overhead, ms per task);
  - W6: collect() of bytes objects (MB/s), 1 GB (100 MB with --quick).
Each measurement is repeated (5 times, 2 with --quick) after one warm-up; the median and the spread (min..max) are
printed and written to bench/TRANSPORTS.md (bench/results/transports.md with --quick). Ratios are against TCP, the default, measured in the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("EMBER_HOME", ROOT / "launcher" / "target" / "ember"))
TRANSPORTS = ["tcp", "uds", "pipe"]

DRIVER = r'''
import json, statistics, sys, time
from ember import SparkConf, SparkContext
runs, collect_mb = int(sys.argv[1]), int(sys.argv[2])
# The collect brings a whole gigabyte to the driver on purpose.
sc = SparkContext("local[2]", "bench-transports", conf=SparkConf().set("spark.driver.maxResultSize", "0"))
def timed(action):
    start = time.perf_counter(); action(); return time.perf_counter() - start
tiny = sc.parallelize(range(2000), 2000)
assert tiny.count() == 2000
w4 = [timed(tiny.count) for _ in range(runs)]
chunk = b"x" * (1 << 20)
big = sc.parallelize([chunk] * collect_mb, 8)
assert len(big.collect()) == collect_mb
w6 = [timed(big.collect) for _ in range(runs)]
transport = sc.parallelize([0], 1).mapPartitions(
    lambda it: [__import__("os").environ.get("EMBER_DAEMON_TRANSPORT") or __import__("os").environ.get("EMBER_WORKER_TRANSPORT")]).first()
sc.stop()
print(json.dumps({"transport": transport, "w4": w4, "w6": w6, "collect_mb": collect_mb}))
'''


def distribution_for(transport: str, workdir: Path) -> Path:
    home = workdir / transport / "ember"
    shutil.copytree(DIST, home, symlinks=True)
    for jar in (home / "extras").glob("dev.ember.transport.*.jar"):
        shutil.copy(jar, home / "bundle")
    config = home / "conf" / "dev.ember.engine.cfg"
    config.write_text(config.read_text() + f"\ntransport.target = (ember.transport={transport})\n")
    return home


def main() -> None:
    quick = "--quick" in sys.argv
    runs, collect_mb = (2, 100) if quick else (5, 1024)
    results = {}
    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmp:
        for transport in TRANSPORTS:
            home = distribution_for(transport, Path(tmp))
            out = subprocess.run([sys.executable, "-c", DRIVER, str(runs), str(collect_mb)],
                                 env={**os.environ, "EMBER_HOME": str(home)}, capture_output=True, text=True,
                                 check=True, timeout=1800)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            if result["transport"] != transport:
                raise SystemExit(f"asked for {transport} but tasks ran on {result['transport']}")
            results[transport] = result
    lines = [f"# Worker transports, measured {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores",
             "", f"local[2]; {runs} runs after a warm-up; median (min..max); ratio = TCP's median / this median "
             "(above 1 is faster than TCP).", "",
             "| transport | W4: ms per task | ratio | W6: collect MB/s | ratio |", "|---|---|---|---|---|"]
    base_w4 = statistics.median(results["tcp"]["w4"])
    base_w6 = collect_mb / statistics.median(results["tcp"]["w6"])
    for transport, result in results.items():
        w4 = [t / 2000 * 1000 for t in result["w4"]]
        w6 = [collect_mb / t for t in result["w6"]]
        lines.append(f"| {transport} | {statistics.median(w4):.3f} ({min(w4):.3f}..{max(w4):.3f}) | "
                     f"{base_w4 / statistics.median(result['w4']):.2f} | "
                     f"{statistics.median(w6):.0f} ({min(w6):.0f}..{max(w6):.0f}) | "
                     f"{statistics.median(w6) / base_w6:.2f} |")
    report = "\n".join(lines) + "\n"
    target = ROOT / "bench" / ("results/transports.md" if quick else "TRANSPORTS.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
