"""Counts words in text files and prints the most frequent: the classic word count, on Ember.

    .venv/bin/python examples/wordcount.py [--wait] [path ...]   (default: examples/data/)

With --wait the driver stays up after the count, until Enter, so its web UI (the URL it prints as it starts) can
be browsed: the jobs, their stages and tasks, the cached and shuffled data.
"""

import re
import sys
from operator import add
from pathlib import Path

from ember import SparkContext

TOP = 10


def words(line: str) -> list[str]:
    return re.findall(r"[a-z']+", line.lower())


def main() -> None:
    args = sys.argv[1:]
    wait = "--wait" in args
    paths = [arg for arg in args if arg != "--wait"] or [str(Path(__file__).parent / "data")]
    with SparkContext("local[*]", "PythonWordCount") as sc:
        counts = (sc.textFile(",".join(paths))
                  .flatMap(words)
                  .map(lambda word: (word, 1))
                  .reduceByKey(add)
                  .cache())  # Two actions read it.
        total = counts.values().sum()
        top = counts.takeOrdered(TOP, key=lambda pair: (-pair[1], pair[0]))
        print(f"{total} words; the {TOP} most frequent:")
        for word, count in top:
            print(f"{count:6d}  {word}")
        if wait:
            where = f"the web UI at {sc.uiWebUrl}" if sc.uiWebUrl else "the driver (spark.ui.enabled=false: no UI)"
            input(f"Done; {where} stays up until you press Enter. ")


if __name__ == "__main__":
    main()
