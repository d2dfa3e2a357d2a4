"""Runs small jobs for a while and prints which worker transport their tasks used, and whether every result was
exact: watch it switch when a transport bundle is dropped into (or removed from) the distribution's load/.

    EMBER_HOME=/tmp/ember-demo .venv/bin/python examples/transports.py [seconds]
"""

import os
import sys
import time
from collections import Counter

from ember import SparkContext


def transport_of_task(_split: int, records):
    name = os.environ.get("EMBER_DAEMON_TRANSPORT") or os.environ.get("EMBER_WORKER_TRANSPORT")
    return [(name, sum(records))]


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    data = list(range(20_000))
    with SparkContext("local[2]", "transports") as sc:
        end = time.time() + seconds
        while time.time() < end:
            results = sc.parallelize(data, 200).mapPartitionsWithIndex(transport_of_task).collect()
            used = Counter(name for name, _ in results)
            exact = sum(total for _, total in results) == sum(data)
            print(f"{time.strftime('%H:%M:%S')}  tasks by transport: {dict(used)}  exact: {exact}", flush=True)
            time.sleep(1)


if __name__ == "__main__":
    main()
