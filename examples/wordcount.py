"""Counts words in text files and prints the most frequent: the classic word count, on Ember.

    .venv/bin/python examples/wordcount.py [path ...]   (default: examples/data/)
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
    paths = sys.argv[1:] or [str(Path(__file__).parent / "data")]
    with SparkContext("local[*]", "PythonWordCount") as sc:
        counts = (sc.textFile(",".join(paths))
                  .flatMap(words)
                  .map(lambda word: (word, 1))
                  .reduceByKey(add))
        total = counts.values().sum()
        top = counts.takeOrdered(TOP, key=lambda pair: (-pair[1], pair[0]))
    print(f"{total} words; the {TOP} most frequent:")
    for word, count in top:
        print(f"{count:6d}  {word}")


if __name__ == "__main__":
    main()
