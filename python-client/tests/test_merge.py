"""The worker's key merger (ember.merge.ExternalMerger) against plain dictionaries, in memory and spilling to disk
after every chunk of records (a limit of 0 bytes)."""

from __future__ import annotations

from operator import add
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ember.merge import CHECK_EVERY, ExternalMerger

keys = st.one_of(st.integers(-50, 50), st.text(max_size=3), st.tuples(st.integers(0, 3), st.booleans()))
# Enough records for several chunks, so that spilling (checked between chunks) really happens.
pairs = st.lists(st.tuples(keys, st.integers()), max_size=3 * CHECK_EVERY)


def grouping_merger(limit: int) -> ExternalMerger:
    def append(values: list, v: Any) -> list:
        values.append(v)
        return values

    def extend(a: list, b: list) -> list:
        a.extend(b)
        return a

    return ExternalMerger(lambda v: [v], append, extend, limit=limit)


def plain_groups(records: list[tuple[Any, Any]]) -> dict[Any, list]:
    groups: dict[Any, list] = {}
    for k, v in records:
        groups.setdefault(k, []).append(v)
    return groups


@settings(max_examples=40, deadline=None)
@given(pairs, st.sampled_from([0, 1 << 40]))
def test_group_values_keeps_every_value_in_arrival_order(records: list, limit: int) -> None:
    merger = grouping_merger(limit)
    merger.group_values(records)
    assert dict(merger.items()) == plain_groups(records)
    if limit == 0 and len(records) >= CHECK_EVERY:
        assert merger.spills > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(pairs, max_size=4), st.sampled_from([0, 1 << 40]))
def test_group_combined_extends_the_map_sides_lists_in_order(map_outputs: list, limit: int) -> None:
    # What a reduce task sees: each map task's (key, values) groups, one map task after another.
    combined = [item for records in map_outputs for item in plain_groups(records).items()]
    expected: dict[Any, list] = {}
    for k, values in combined:
        expected.setdefault(k, []).extend(values)
    merger = grouping_merger(limit)
    merger.group_combined(combined)  # Extends the lists it is given, as PySpark's mergeCombiners may.
    assert dict(merger.items()) == expected


@settings(max_examples=40, deadline=None)
@given(pairs, st.sampled_from([0, 1 << 40]))
def test_merge_values_and_combined_reduce_as_a_dictionary_does(records: list, limit: int) -> None:
    merger = ExternalMerger(lambda v: v, add, add, limit=limit)
    merger.merge_values(records)
    sums: dict[Any, int] = {}
    for k, v in records:
        sums[k] = sums.get(k, 0) + v
    partial = list(merger.items())
    assert dict(partial) == sums
    again = ExternalMerger(lambda v: v, add, add, limit=limit)
    again.merge_combined(partial + partial)
    assert dict(again.items()) == {k: 2 * v for k, v in sums.items()}
