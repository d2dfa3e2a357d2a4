"""W1 (process launch to the first result) with and without the web UI, interleaved, on this machine.

Usage: python bench/ui_startup.py [runs]   (default 10 of each). Prints medians, min..max, and the ratio; the
baseline is the same driver with spark.ui.enabled=false, run alternately with the UI's runs in the same session.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

DRIVER = """
import time
from ember import SparkConf, SparkContext
sc = SparkContext("local[2]", "w1-ui", conf=SparkConf().set("spark.ui.enabled", "{enabled}"))
assert sc.parallelize(range(100), 2).sum() == 4950
print(repr(time.time()))
sc.stop()
"""


def run(enabled: str) -> float:
    start = time.time()
    proc = subprocess.run([sys.executable, "-c", DRIVER.format(enabled=enabled)], capture_output=True, text=True,
                          check=True)
    return float(proc.stdout.strip().splitlines()[-1]) - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    run("true")  # Warms the bundle cache and CDS archive for both.
    run("false")
    with_ui: list[float] = []
    without: list[float] = []
    for _ in range(runs):
        with_ui.append(run("true"))
        without.append(run("false"))
    for name, values in (("with the UI", with_ui), ("spark.ui.enabled=false", without)):
        print(f"{name}: median {statistics.median(values) * 1000:.0f} ms "
              f"({min(values) * 1000:.0f}..{max(values) * 1000:.0f}), {runs} runs")
    print(f"ratio with/without: {statistics.median(with_ui) / statistics.median(without):.3f}")


if __name__ == "__main__":
    main()
