"""The worker's key merger (ember.merge.ExternalMerger) against plain dictionaries, in memory and spilling to disk
after every chunk of records (a limit of 0 bytes)."""

from __future__ import annotations

from operator import add
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from ember.merge import CHECK_EVERY, SPILL_BUCKETS, ExternalMerger, append_to_group, extend_group, start_group

keys = st.one_of(st.integers(-50, 50), st.text(max_size=3), st.tuples(st.integers(0, 3), st.booleans()))
# Enough records for several chunks, so that spilling (checked between chunks) really happens.
pairs = st.lists(st.tuples(keys, st.integers()), max_size=3 * CHECK_EVERY)


def grouping_merger(limit: int) -> ExternalMerger:
    """A merger with groupByKey's combiners, which it runs inline."""
    merger = ExternalMerger(start_group, append_to_group, extend_group, limit=limit)
    assert merger._add_values == merger._group_values and merger._add_combined == merger._group_combined
    return merger


def plain_groups(records: list[tuple[Any, Any]]) -> dict[Any, list]:
    groups: dict[Any, list] = {}
    for k, v in records:
        groups.setdefault(k, []).append(v)
    return groups


@settings(max_examples=40, deadline=None)
@given(pairs, st.sampled_from([0, 1 << 40]))
def test_group_values_keeps_every_value_in_arrival_order(records: list, limit: int) -> None:
    merger = grouping_merger(limit)
    merger.merge_values(records)
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
    merger.merge_combined(combined)  # Extends the lists it is given, as PySpark's mergeCombiners may.
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


def memory_of(merger: ExternalMerger) -> Any:
    """A stand-in for the process's resident memory that follows what the merger holds (1 kB per key), so the
    tests decide when memory runs out; the real figure moves with everything else in the process."""
    return patch("ember.merge.resident_bytes", lambda: len(merger.data) * 1000)


@settings(max_examples=40, deadline=None)
@given(pairs, st.booleans())
def test_spilling_part_of_the_buckets_again_and_again_loses_no_value_and_keeps_their_order(
        records: list, grouping: bool) -> None:
    # With the stand-in memory and a limit of 0, every chunk is over the limit: each spill moves half the buckets
    # still in memory to disk (all, once one is left), and keys of spilled buckets gather again in memory until the
    # next spill or the end.
    merger = grouping_merger(0) if grouping else ExternalMerger(lambda v: v, add, add, limit=0)
    with memory_of(merger):
        merger.merge_values(records)
    expected: dict[Any, Any] = plain_groups(records)
    if not grouping:
        expected = {k: sum(values) for k, values in expected.items()}
    assert merger.spills >= (1 if records else 0)
    assert dict(merger.items()) == expected


def test_each_spill_moves_half_the_buckets_still_in_memory() -> None:
    records = [(i, i) for i in range(3 * CHECK_EVERY)]  # new keys in every chunk
    merger = grouping_merger(0)
    spilled = []
    with memory_of(merger):
        for start in range(0, len(records), CHECK_EVERY):
            merger.merge_values(records[start:start + CHECK_EVERY])
            spilled.append(len(merger.spilled_buckets))
    assert merger.spills == 3 and spilled == [29, 44, 51]
    assert dict(merger.items()) == plain_groups(records)


def test_spill_after_spill_the_memory_held_stays_within_5_percent_of_the_limit() -> None:
    # A stand-in for a process that keeps the memory it freed: its size is the most the merger ever held (1 kB per
    # key). New keys in every chunk, so the merger spills again and again; the table never holds much more than the
    # limit allows (5 % over it, and one chunk's worth between checks).
    records = [(i, i) for i in range(30 * CHECK_EVERY)]
    merger = grouping_merger(5000 * 1000)
    most = [0]

    def process_size() -> int:
        most[0] = max(most[0], len(merger.data))
        return most[0] * 1000

    with patch("ember.merge.resident_bytes", process_size):
        merger.merge_values(records)
    assert most[0] <= 5000 * 1.05 + CHECK_EVERY
    assert merger.spills > 5
    assert dict(merger.items()) == plain_groups(records)


def test_a_merge_a_little_over_its_limit_spills_half_the_buckets_and_hands_the_rest_on_from_memory() -> None:
    records = [(i % 800, i) for i in range(CHECK_EVERY + 600)]
    merger = grouping_merger(700_000)  # 700 keys' worth of the stand-in memory: the first chunk's 800 are over it
    with memory_of(merger):
        merger.merge_values(records)
    assert merger.spills == 1 and len(merger.spilled_buckets) == SPILL_BUCKETS // 2
    spilled = [k for k in range(800) if hash(k) % SPILL_BUCKETS in merger.spilled_buckets]
    kept = [k for k in range(800) if hash(k) % SPILL_BUCKETS not in merger.spilled_buckets]
    assert 300 < len(kept) < 500
    # The second chunk's keys (200 to 799) of spilled buckets gathered again in memory beside the kept ones.
    assert sorted(merger.data) == sorted(kept + [k for k in spilled if k >= 200])
    out = list(merger.items())
    # The kept buckets come first, straight from memory, then the spilled ones from disk: each key whole, in order.
    assert [k for k, _ in out[:len(kept)]] == kept
    assert sorted(k for k, _ in out[len(kept):]) == spilled
    assert dict(out) == plain_groups(records)


@settings(max_examples=40, deadline=None)
@given(pairs, st.sampled_from([0, 1 << 40]), st.booleans())
def test_combine_partially_hands_on_parts_that_merge_back_to_the_whole(records: list, limit: int,
                                                                       grouping: bool) -> None:
    # The map side of a shuffle: over the limit it hands on what it holds instead of spilling it, so a key may
    # leave in several parts; the reduce side's merge must give what a dictionary gives, values in arrival order.
    if grouping:
        merger, reduce_side = grouping_merger(limit), grouping_merger(1 << 40)
        expected: dict[Any, Any] = plain_groups(records)
    else:
        merger = ExternalMerger(lambda v: v, add, add, limit=limit)
        reduce_side = ExternalMerger(lambda v: v, add, add, limit=1 << 40)
        expected = {}
        for k, v in records:
            expected[k] = expected.get(k, 0) + v
    with memory_of(merger):
        parts = list(merger.combine_partially(records))
    assert merger.spills == 0
    # Memory is checked after every CHECK_EVERY records: at a limit of 0 each such chunk leaves once it is
    # combined, and what is left at the end leaves then.
    assert merger.passes == (len(records) // CHECK_EVERY if limit == 0 else 0)
    if limit != 0:
        assert len(parts) == len(expected)
    reduce_side.merge_combined(parts)
    assert dict(reduce_side.items()) == expected


def test_combine_partially_splits_a_key_across_chunks_when_memory_runs_out() -> None:
    records = [(i % 10, i) for i in range(3 * CHECK_EVERY)]
    merger = grouping_merger(5000)  # five keys' worth of the stand-in memory
    with memory_of(merger):
        parts = list(merger.combine_partially(records))
    # Ten keys, each handed on once per chunk, each part in arrival order.
    assert merger.passes == 3
    assert [k for k, _ in parts] == list(range(10)) * 3
    assert parts[0] == (0, list(range(0, CHECK_EVERY, 10)))
    assert parts[10] == (0, list(range(CHECK_EVERY, 2 * CHECK_EVERY, 10)))
    whole = list(grouping_merger(1 << 40).combine_partially(records))
    assert whole == sorted(plain_groups(records).items())


def test_combine_partially_raises_its_limit_when_freed_memory_stays_with_the_process() -> None:
    # After a hand-over the process may keep the memory it freed; the next part may grow to 5% beyond it rather
    # than leaving after every chunk.
    records = [(i % 10, i) for i in range(3 * CHECK_EVERY)]
    merger = grouping_merger(5000)
    with patch("ember.merge.resident_bytes", lambda: 20_000):
        parts = list(merger.combine_partially(records))
    assert merger.passes == 1
    assert [k for k, _ in parts] == list(range(10)) * 2


def test_resident_bytes_follows_this_process_and_a_forked_child_its_own() -> None:
    """The merger's memory reading, a statm descriptor kept open, names the process reading it, also after fork."""
    import os

    from ember.merge import resident_bytes

    before = resident_bytes()
    assert before == int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # The child grows by 64 MiB; its parent does not.
        at_fork = resident_bytes()
        grown = bytearray(64 << 20)
        grown[::4096] = b"x" * len(range(0, len(grown), 4096))
        os.write(write, str(resident_bytes() - at_fork).encode())
        os._exit(0)
    os.close(write)
    child_growth = int(os.read(read, 100))
    os.waitpid(pid, 0)
    os.close(read)
    assert child_growth >= 60 << 20
    assert resident_bytes() - before < 16 << 20
