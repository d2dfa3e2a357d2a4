"""Combining values by key within a worker's memory limit.

``spark.python.worker.memory`` (default 512m) bounds the memory of one merge. Past it, the merger spills part of
what it holds to disk, bucketed by key hash: the keys of half the buckets still in memory, so a merge a little over
the limit writes and reads back only part of its data. At the end it hands on the buckets that stayed in memory as
they are, then merges the spilled ones from disk one bucket at a time, so a shuffle partition larger than memory
still combines correctly."""

from __future__ import annotations

import operator
import os
import pickle
import re
import sys
from collections import _count_elements  # type: ignore[attr-defined]  # Counter's loop, in C in CPython
from itertools import islice
from typing import IO, Any, Callable, Iterable, Iterator, Optional

from ember import privatedirs, steps
from ember.errors import stop_iteration_error

SPILL_BUCKETS = 59
CHECK_EVERY = 1000
# A spill writes a bucket's entries once it holds this many. The table is walked in its own order, which follows the
# order its entries were made in (and so their places in memory); a bucket's batch pickles entries spread over the
# last SPILL_BUCKETS * SPILL_BATCH of them, which at 64 are still in the CPU's caches and at 1000 were not: the spill
# of a million groups took 2.0-4.0 s instead of 4.5-5.2 s, and merging the spills back 2.5-3.3 s instead of 4.2-5.2.
SPILL_BATCH = 64
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_memory(text: str) -> int:
    """Bytes in a JVM-style memory string: '512m', '2g', '100k' or plain bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", text.lower())
    if not match:
        raise ValueError(f"Invalid memory size {text!r}: use a number with k, m, g or t, such as 512m")
    return int(match.group(1)) * _UNITS.get(match.group(2), 1)


# spark.python.worker.memory as the job being run had it (set by ember.worker for each task), so a change to the
# driver's conf reaches the next job, as in PySpark; else what the worker was started with.
job_memory: Optional[str] = None

#: The spill directories merges of the current task made; the worker removes them when the task ends, however it
#: ends (a merge left unfinished by a failing task never reaches its own clean-up).
_task_spill_directories: list[str] = []


def remove_task_spills() -> None:
    """Removes what merges of the task that just ended left on disk."""
    while _task_spill_directories:
        privatedirs.remove(_task_spill_directories.pop())


def memory_limit() -> int:
    if job_memory:
        return parse_memory(job_memory)
    return parse_memory(os.environ.get("EMBER_PYTHON_WORKER_MEMORY", "512m"))


#: This process's /proc/self/statm, kept open: re-reading it costs ~3 µs where opening it each time cost ~30 µs,
#: and the merges check it every CHECK_EVERY records. With the pid that opened it, since a forked worker inherits
#: the daemon's descriptor, which names the daemon.
_statm: Optional[tuple[int, int]] = None
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory now (Linux), or its peak where /proc is missing."""
    global _statm
    try:
        pid = os.getpid()
        if _statm is None or _statm[0] != pid:
            _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)))
        return int(os.pread(_statm[1], 128, 0).split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError, AttributeError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_MISSING = object()


def _chunks(iterator: Iterable[Any]) -> Iterator[list]:
    iterator = iter(iterator)
    while True:
        chunk = list(islice(iterator, CHECK_EVERY))
        if not chunk:
            return
        yield chunk


# groupByKey's combiners. A merger given these runs them inline (no Python call per record); any other combiners
# take the general path.

def start_group(v: Any) -> list:
    return [v]


def append_to_group(values: list, v: Any) -> list:
    values.append(v)
    return values


def extend_group(a: list, b: list) -> list:
    a.extend(b)
    return a


def identity(x: Any) -> Any:
    """``x`` itself. As reduceByKey's createCombiner (a key's first value is its combiner) the map side's loop runs it
    inline."""
    return x


#: The map side's loops, by the kinds of record steps they run and what they run inline.
_combining_loops: dict[tuple[tuple[str, ...], tuple[bool, bool]], Callable[..., Iterator[Any]]] = {}


def _combining_loop(kinds: tuple[str, ...], inline: tuple[bool, bool]) -> Callable[..., Iterator[Any]]:
    """The map side of a shuffle as one generated loop: the stage's record steps, then the combine, per record,
    with no generator or list between them (a word count's map side spent about a fifth of its time passing
    records on). Memory is checked after every CHECK_EVERY input records (after every tenth of that when a flatMap
    may make many of one), and reduceByKey's usual functions (its first value kept, ``operator.add``) run inline.
    A last step that pairs records with a constant makes no pair: the record is the key, the constant the value. A
    count (a flatMap's records paired with 1, added up) runs as ``collections.Counter`` counts, in C.
    """
    inline_create, inline_add = inline
    every = CHECK_EVERY // 10 if steps.FLAT_MAP in kinds or steps.FLAT_MAP_VALUES in kinds else CHECK_EVERY
    functions = "".join(f", f{i}" for i in range(len(kinds)))
    lines = [f"def run(records, data, pass_on_now, fresh, create, merge{functions}):",
             "    get = data.get",
             f"    left = {every}",
             "    try:",
             "        for x0 in records:"]
    last = kinds[-1] if kinds else None
    counting = inline_create and inline_add and last == steps.PAIR_WITH_ONE and kinds[-2:-1] == (steps.FLAT_MAP,)
    if counting:
        current, indent = steps.step_lines(kinds[:-2], lines, " " * 12)
        lines.append(f"{indent}count(data, f{len(kinds) - 2}({current}))")
    elif last in (steps.PAIR_WITH, steps.PAIR_WITH_ONE):
        current, indent = steps.step_lines(kinds[:-1], lines, " " * 12)
        lines.append(f"{indent}k, v = {current}, {1 if last == steps.PAIR_WITH_ONE else f'f{len(kinds) - 1}'}")
    else:
        current, indent = steps.step_lines(kinds, lines, " " * 12)
        lines.append(f"{indent}k, v = {current}")
    if not counting:
        lines += [f"{indent}c = get(k, MISSING)",
                  f"{indent}data[k] = {'v' if inline_create else 'create(v)'} if c is MISSING else "
                  f"{'c + v' if inline_add else 'merge(c, v)'}"]
    lines += ["            left -= 1",
              "            if not left:",
              f"                left = {every}",
              "                if pass_on_now():",
              "                    yield from data.items()",
              "                    del data",
              "                    data = fresh()",
              "                    get = data.get",
              "    except StopIteration as e:",
              "        raise stop_iteration_error(e) from None",
              "    yield from data.items()"]
    name = "+".join((*kinds, "count" if counting else "combine"))
    loop = steps.generate(lines, name, {"MISSING": _MISSING, "count": _count_elements})
    _combining_loops[(kinds, inline)] = loop
    return loop


class CombineLocally:
    """combineByKey's map side, as a partition function. After record steps (ember.plan composes them) it runs them
    in its own loop. What does not fit in memory goes on to the shuffle in parts, not to disk and back: the reduce
    side joins the parts of a key anyway."""

    def __init__(self, create: Callable[[Any], Any], merge_value: Callable[[Any, Any], Any],
                 merge_combiners: Callable[[Any, Any], Any], record_steps: tuple[steps.Step, ...] = ()) -> None:
        self.functions = (create, merge_value, merge_combiners)
        self.record_steps = record_steps

    def after(self, earlier: steps.RecordSteps) -> "CombineLocally":
        return CombineLocally(*self.functions, earlier.steps + self.record_steps)

    def __call__(self, _split: int, iterator: Iterator[Any]) -> Iterator[Any]:
        return ExternalMerger(*self.functions).combine_partially(iterator, self.record_steps)


class ExternalMerger:
    def __init__(self, create: Callable[[Any], Any], merge_value: Callable[[Any, Any], Any],
                 merge_combiners: Callable[[Any, Any], Any], limit: Optional[int] = None) -> None:
        self.create = create
        self.merge_value = merge_value
        self.merge_combiners = merge_combiners
        self.limit = memory_limit() if limit is None else limit
        self.data: dict = {}
        self.spills = 0
        self.passes = 0
        self._pass_limit = self.limit
        self._spill_limit = self.limit
        #: The spill buckets whose keys go to disk: their entries in ``data`` are only those since the last spill.
        self.spilled_buckets: set[int] = set()
        self.directory: Optional[str] = None
        grouping = create is start_group and merge_value is append_to_group and merge_combiners is extend_group
        self._add_values = self._group_values if grouping else self._merge_values
        self._add_combined = self._group_combined if grouping else self._merge_combined

    # The loops below are the per-record cost of every shuffle, so they take records CHECK_EVERY at a time (the
    # memory check goes between chunks, not behind a counter on each record) and look each key up once.

    def merge_values(self, iterator: Iterable[tuple[Any, Any]]) -> None:
        for chunk in _chunks(iterator):
            self._add_values(self.data, chunk)
            self._check_memory()

    def merge_combined(self, iterator: Iterable[tuple[Any, Any]]) -> None:
        for chunk in _chunks(iterator):
            self._add_combined(self.data, chunk)
            self._check_memory()

    def combine_partially(self, iterator: Iterable[Any],
                          record_steps: tuple[steps.Step, ...] = ()) -> Iterator[tuple[Any, Any]]:
        """The map side of a shuffle: combines records while they fit in the memory limit and, each time they do
        not, passes on the combiners it holds and starts afresh, where ``items()`` would spill them to disk and
        merge them back. The reduce side merges combiners anyway, so a key may leave in several parts; the parts
        leave in the order of their records, and each holds its records in order. ``passes`` counts the early
        hand-overs. ``record_steps`` (ember.steps) run on each record first, in the same loop."""
        kinds = tuple(kind for kind, _ in record_steps)
        inline = (self.create is identity, self.merge_value is operator.add)
        loop = _combining_loops.get((kinds, inline)) or _combining_loop(kinds, inline)
        self._pass_limit = self.limit
        return loop(iterator, self.data, self._pass_on_now, self._fresh_data, self.create, self.merge_value,
                    *(f for _, f in record_steps))

    def _pass_on_now(self) -> bool:
        """Whether the map side's combiners should leave now, to make room."""
        if resident_bytes() <= self._pass_limit:
            return False
        self.passes += 1
        return True

    def _fresh_data(self) -> dict:
        """After a hand-over (the combiners handed on dropped): an empty table, and the limit for the next part."""
        self.data = {}
        # Freed memory often stays with the process; without this the next check would pass on at once.
        self._pass_limit = max(self.limit, int(resident_bytes() * 1.05))
        return self.data

    def _merge_values(self, data: dict, chunk: list) -> None:
        create, merge = self.create, self.merge_value
        get = data.get
        try:  # Only the user's functions can raise StopIteration in this loop (over a list).
            for k, v in chunk:
                c = get(k, _MISSING)
                data[k] = create(v) if c is _MISSING else merge(c, v)
        except StopIteration as e:
            raise stop_iteration_error(e) from None

    def _merge_combined(self, data: dict, chunk: list) -> None:
        merge = self.merge_combiners
        get = data.get
        try:
            for k, c in chunk:
                old = get(k, _MISSING)
                data[k] = c if old is _MISSING else merge(old, c)
        except StopIteration as e:
            raise stop_iteration_error(e) from None

    def _group_values(self, data: dict, chunk: list) -> None:
        get = data.get
        for k, v in chunk:
            group = get(k)
            if group is None:
                data[k] = [v]
            else:
                group.append(v)

    def _group_combined(self, data: dict, chunk: list) -> None:
        get = data.get
        for k, values in chunk:
            group = get(k)
            if group is None:
                data[k] = values
            else:
                group.extend(values)

    def _check_memory(self) -> None:
        if resident_bytes() > self._spill_limit:
            self._spill()
            # What the spill freed mostly stays with the process (the entries left share its pages), for the entries
            # to come to reuse: the next spill is due when the process grows 5 % past its size now, but never more
            # than 5 % past the limit, so that spill after spill the limit does not creep up.
            self._spill_limit = max(self.limit, min(int(resident_bytes() * 1.05), int(self.limit * 1.05)))

    def _spill(self) -> None:
        """Writes the entries of half the buckets still in memory (the last one alone), and those of buckets spilled
        before, to disk; the other entries stay."""
        if not self.data:
            return
        in_memory = [b for b in range(SPILL_BUCKETS) if b not in self.spilled_buckets]
        self.spilled_buckets.update(in_memory[:max(1, len(in_memory) // 2)])
        self._write_spilled_buckets()
        self.spills += 1

    def _write_spilled_buckets(self) -> None:
        """Moves the entries of the spilled buckets from ``data`` to the ends of their files."""
        if self.directory is None:
            self.directory = privatedirs.mkdtemp("merge-")
            _task_spill_directories.append(self.directory)
        spilled = self.spilled_buckets
        buckets: list[list] = [[] for _ in range(SPILL_BUCKETS)]
        kept: dict = {}
        streams: dict[int, IO[bytes]] = {}
        try:
            for k, c in self.data.items():
                b = hash(k) % SPILL_BUCKETS
                if b not in spilled:
                    kept[k] = c
                    continue
                buckets[b].append((k, c))
                if len(buckets[b]) >= SPILL_BATCH:
                    self._write(streams, b, buckets[b])
                    buckets[b] = []
            for b, batch in enumerate(buckets):
                if batch:
                    self._write(streams, b, batch)
            while streams:  # Closing writes the last buffers: a full disk may show only here.
                streams.popitem()[1].close()
        except OSError as e:
            # A full disk, say: this task's spills are of no use any more, so they go at once.
            for stream in streams.values():
                try:
                    stream.close()
                except OSError:
                    pass
            privatedirs.remove(self.directory)
            raise OSError(e.errno, f"could not spill the Python merge to {self.directory}: {e.strerror or e} (free "
                                   f"disk space there, set TMPDIR for the workers to another directory, or raise "
                                   f"spark.python.worker.memory)") from e
        self.data = kept

    def _write(self, streams: dict[int, IO[bytes]], bucket: int, batch: list) -> None:
        assert self.directory is not None  # _spill made it before writing
        stream = streams.get(bucket)
        if stream is None:
            stream = streams[bucket] = open(os.path.join(self.directory, f"bucket-{bucket}"), "ab")
        pickle.dump(batch, stream, pickle.HIGHEST_PROTOCOL)

    def items(self) -> Iterator[tuple[Any, Any]]:
        if not self.spills:
            return iter(self.data.items())
        self._write_spilled_buckets()
        # Ember's own diagnostic, for the worker's log (the JVM's), not the task's output the driver shows.
        print(f"ember: merge spilled {self.spills} times ({len(self.spilled_buckets)} of {SPILL_BUCKETS} buckets) "
              f"to {self.directory} (limit {self.limit} bytes)", file=sys.__stderr__, flush=True)
        return self._merge_spilled()

    def _merge_spilled(self) -> Iterator[tuple[Any, Any]]:
        """The buckets that stayed in memory, then each spilled bucket merged from its file."""
        assert self.directory is not None  # items() spilled before merging the spills
        try:
            in_memory, self.data = self.data, {}
            yield from in_memory.items()
            del in_memory
            for b in sorted(self.spilled_buckets):
                path = os.path.join(self.directory, f"bucket-{b}")
                if not os.path.exists(path):
                    continue
                merged: dict = {}
                with open(path, "rb") as stream:
                    while True:
                        try:
                            batch = pickle.load(stream)
                        except EOFError:
                            break
                        self._add_combined(merged, batch)
                os.unlink(path)
                yield from merged.items()
        finally:
            privatedirs.remove(self.directory)
