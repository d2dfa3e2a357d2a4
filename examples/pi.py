"""Estimates pi by throwing darts at the unit square: the classic first Spark program, on Ember.

    .venv/bin/python examples/pi.py [partitions]
"""

import random
import sys
from operator import add

from ember import SparkContext


def lands_inside(_: int) -> int:
    x = random.random() * 2 - 1
    y = random.random() * 2 - 1
    return 1 if x * x + y * y <= 1 else 0


def main() -> None:
    partitions = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    darts = 200_000 * partitions
    with SparkContext("local[*]", "PythonPi") as sc:
        hits = sc.parallelize(range(darts), partitions).map(lands_inside).reduce(add)
    print(f"Pi is roughly {4.0 * hits / darts:.5f} ({darts} darts in {partitions} partitions)")


if __name__ == "__main__":
    main()
