"""Data and plain-Python helpers shared by the test_api_* files: every expected value is computed from these with
ordinary Python, never written down by hand."""

from __future__ import annotations

from collections import Counter
from typing import Any, Hashable, Iterable

PARTS = [1, 3, 7]
BIG = 2 ** 70  # larger than any 64-bit integer

UNICODE = ["ünïcødé", "日本語テキスト", "emoji 🎉 ok", "", "ascii", "Ωmega ∑", "tab\tinside", "Zürich", "ß", "Ärger"]

# Hashable records of many kinds; no two compare equal (no True next to 1, no 0.0 next to 0).
MIXED: list[Any] = [None, 0, -1, BIG, -BIG - 5, 2 ** 64 + 1, 3.5, -0.25, "ünïcødé", "", "日本語", "emoji 🎉",
                    (1, ("a", (None, BIG))), ((), ("x",)), b"\x00\xff", frozenset({1, 2}), 17, "plain"]

# Keys for pair RDDs: None, ints, big ints, unicode strings, nested tuples (all hash alike in every worker).
KEYS: list[Hashable] = [None, 0, 7, -3, BIG, 2 ** 64 + 1, "ünï", "a", "日本", (1, ("x", None)), ("日本", BIG), ()]

# Integer keys only (their hash does not depend on PYTHONHASHSEED, so the driver can compute partitions).
INT_KEYS: list[Hashable] = [0, 1, 2, 5, -4, 13, 99, BIG, -BIG, 2 ** 64 + 3, None, (1, (2, 3)), (BIG, None)]


def pairs_of(keys: list, count: int, multiplier: int = 7) -> list[tuple]:
    """``count`` (key, int value) records cycling over ``keys`` in a scrambled order, keys repeating."""
    return [(keys[(i * multiplier) % len(keys)], i * i - 5 * i) for i in range(count)]


PAIRS = pairs_of(KEYS, 150)


def slices(data: list, n: int) -> list[list]:
    """How PySpark's parallelize slices a list into ``n`` partitions: it pickles the list in batches of
    min(len // n, 1024) records (at least 1) and the JVM deals whole batches out as evenly as it can."""
    batch = max(1, min(len(data) // n, 1024))
    batches = [data[i:i + batch] for i in range(0, len(data), batch)]
    return [[x for b in batches[i * len(batches) // n:(i + 1) * len(batches) // n] for x in b] for i in range(n)]


def by_repr(records: Iterable[Any]) -> list:
    """A canonical order for multiset comparisons of records that may not be mutually comparable."""
    return sorted(records, key=repr)


def multiset(records: Iterable[Hashable]) -> Counter:
    return Counter(records)


def grouped(pairs: Iterable[tuple]) -> dict:
    """{key: [values in order]} of (key, value) records."""
    result: dict = {}
    for k, v in pairs:
        result.setdefault(k, []).append(v)
    return result


def sorted_groups(groups: dict) -> dict:
    """{key: values sorted by repr}: for comparing groupings whose value order is unspecified."""
    return {k: by_repr(list(vs)) for k, vs in groups.items()}


def is_subsequence(part: list, whole: list) -> bool:
    it = iter(whole)
    return all(any(x == y for y in it) for x in part)


def hadoop_lines(text: str) -> list[str]:
    """The lines Hadoop's LineRecordReader makes of text whose only line breaks are '\\n'."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines
