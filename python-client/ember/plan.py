"""Compiles an RDD lineage into the JSON job plan the engine runs.

Walking from the action's RDD back to its sources, narrow transformations compose into one Python function per
stage; a shuffle or a persisted RDD ends a stage (its output is written by a stage of its own, placed before the
stages that read it). A union concatenates the segments of its parents, and its function dispatches each
partition to the pipeline of the parent it came from.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from base64 import b64encode
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

import cloudpickle

from ember.diagnostics import find_unpicklable
from ember.merge import CombineLocally
from ember.shared import StageCommand, collect_broadcast_ids, command_blob
from ember.steps import RecordSteps

if TYPE_CHECKING:
    from ember.context import SparkContext
    from ember.rdd import RDD

# Command blobs larger than this go through the side socket instead of inside the plan.
INLINE_COMMAND_BYTES = 64 * 1024

Func = Optional[Callable[[int, Iterator[Any]], Iterable[Any]]]

# The ember package's directory as its modules' code objects name their files.
_PACKAGE_DIR = os.path.dirname(__file__) + os.sep
# Spark's local property for a job's call site: set, it is the call site of the thread's jobs.
CALL_SITE_PROPERTY = "callSite.short"


def call_site(depth: int = 1) -> str:
    """Where the driver's program asked for a job, as Spark shows it: ``collect at wordcount.py:12``. The place is
    the first frame outside the ember package above ``depth`` frames up the stack; the action is the outermost public
    function of the package on the way (``count``, not the ``collect`` it calls). A few microseconds: no source is
    read."""
    frame: Any = sys._getframe(depth)
    action = None
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_PACKAGE_DIR):
            return f"{action or 'job'} at {os.path.basename(code.co_filename)}:{frame.f_lineno}"
        if not code.co_name.startswith(("_", "<")):
            action = code.co_name
        frame = frame.f_back
    return action or "job"


def compose(inner: Func, outer: Callable[[int, Iterator[Any]], Iterable[Any]]) -> Callable:
    if inner is None:
        return outer
    if isinstance(outer, (RecordSteps, CombineLocally)):
        # Steps after steps run as one loop (ember.steps), and a shuffle's map side runs the steps before it in its
        # own loop (ember.merge); also after a source's function (a parallelized range's).
        if isinstance(inner, RecordSteps):
            return outer.after(inner)
        if isinstance(inner, Composed) and isinstance(inner.outer, RecordSteps):
            return Composed(inner.inner, outer.after(inner.outer))
    return Composed(inner, outer)


class Composed:
    """``outer`` applied to what ``inner`` makes of a partition. A class, not a closure, so that a stage command
    pickles it by reference: workers unpickle the command for every task."""

    def __init__(self, inner: Callable[[int, Iterator[Any]], Iterable[Any]],
                 outer: Callable[[int, Iterator[Any]], Iterable[Any]]) -> None:
        self.inner = inner
        self.outer = outer

    def __call__(self, split: int, iterator: Iterator[Any]) -> Iterable[Any]:
        return self.outer(split, iter(self.inner(split, iterator)))


def _identity_partition(_split: int, iterator: Iterator[Any]) -> Iterator[Any]:
    return iterator


class UnionDispatch:
    """Runs partition ``split`` of a union through the pipeline of the parent it belongs to, with the parent's own
    partition index."""

    def __init__(self, starts: list[int], funcs: list[Func]) -> None:
        self.starts = starts
        self.funcs = funcs

    def __call__(self, split: int, iterator: Iterator[Any]) -> Iterable[Any]:
        index = len(self.starts) - 1
        while self.starts[index] > split:
            index -= 1
        func = self.funcs[index]
        return iterator if func is None else func(split - self.starts[index], iterator)


class _SomeParts:
    """``width`` parts of an aligned input, as an aligned input of their own (for a nested aligned union)."""

    def __init__(self, parts: Iterator[Iterator[Any]], width: int) -> None:
        self._parts = parts
        self._width = width

    def parts(self) -> Iterator[Iterator[Any]]:
        for _ in range(self._width):
            yield next(self._parts)

    def __iter__(self) -> Iterator[Any]:
        for part in self.parts():
            yield from part


class AlignedDispatch:
    """Runs partition ``split`` of a union of co-partitioned RDDs: the task's input holds partition ``split`` of
    each parent's input, part after part, and each parent's pipeline runs on its own parts (``width`` of them: one,
    or several for a parent that is such a union itself)."""

    def __init__(self, children: list[tuple[int, Func, bool]]) -> None:
        self.children = children  # (width, the parent's function, whether it takes aligned parts)

    def __call__(self, split: int, task_input: Any) -> Iterator[Any]:
        parts = task_input.parts()
        for width, func, takes_parts in self.children:
            if takes_parts:
                # An aligned parent's function (its union's dispatch, composed with what follows it) always is one,
                # and takes the aligned input itself, as the worker passes it to an aligned stage's function.
                assert func is not None
                aligned_input: Any = _SomeParts(parts, width)
                yield from func(split, aligned_input)
            else:
                part = next(parts)
                yield from (part if func is None else func(split, part))


class _StageInput:
    """What a stage reads (its input segments: laid end to end, or ``aligned``), the function it runs on them, and
    whether it is a barrier stage."""

    def __init__(self, segments: list[dict], func: Func = None, barrier: bool = False, aligned: bool = False) -> None:
        self.segments = segments
        self.func = func
        self.barrier = barrier
        self.aligned = aligned


def stage_partitions(stage: dict) -> int:
    """How many tasks a stage of a plan has."""
    counts = [segment["count"] for segment in stage["input"]]
    return counts[0] if stage.get("aligned") else sum(counts)


class PlanBuilder:
    def __init__(self, ctx: "SparkContext") -> None:
        self.ctx = ctx
        self.stages: list[dict] = []
        self.shuffles_written: set[int] = set()
        self.caches_written: set[int] = set()
        self.broadcasts: set[int] = set()
        # What every task of the job is told besides its function (see ember.worker.load_command).
        self.job_info = ctx._job_info()

    def build(self, rdd: "RDD", partitions: list[int], job_group: Optional[str],
              output: Optional[dict] = None, output_codec: str = "pickle") -> dict:
        """The plan for ``rdd``'s ``partitions``: results to the driver, or with ``output`` (``{"kind": "files",
        "id": ...}``) written by the JVM into files in ``output_codec``."""
        stage = self._compile(rdd)
        self._add_stage(stage, output or {"kind": "result"}, output_codec=output_codec)
        site = self.job_info["localProperties"].get(CALL_SITE_PROPERTY) or call_site(2)
        return {"stages": self.stages, "partitions": partitions, "jobGroup": job_group, "callSite": site}

    def _compile(self, rdd: "RDD", through_cache: bool = False) -> "_StageInput":
        """What the stage that computes ``rdd`` reads and runs. Stages it depends on are added first."""
        from ember.rdd import RDD
        count = rdd.getNumPartitions()
        if rdd.is_cached and not through_cache:
            if rdd.id() not in self.caches_written:
                self._add_stage(self._compile(rdd, through_cache=True), {"kind": "cache", "id": rdd.id()})
                self.caches_written.add(rdd.id())
            return _StageInput([{"kind": "cache", "id": rdd.id(), "count": count}])
        if rdd._kind == RDD.SOURCE:
            assert rdd._segment is not None  # a source names what it reads
            return _StageInput([dict(rdd._segment, count=count)], rdd._func)
        if rdd._kind == RDD.NARROW:
            assert rdd._func is not None  # a narrow transformation is its function
            parent = self._compile(rdd._parents[0])
            return _StageInput(parent.segments, compose(parent.func, rdd._func), parent.barrier or rdd._barrier,
                               parent.aligned)
        if rdd._kind == RDD.UNION and rdd._aligned:
            children, segments, barrier = [], [], False
            for parent_rdd in rdd._parents:
                parent = self._compile(parent_rdd)
                segments.extend(parent.segments)
                children.append((len(parent.segments), parent.func, parent.aligned))
                barrier = barrier or parent.barrier
            return _StageInput(segments, AlignedDispatch(children), barrier, aligned=True)
        if rdd._kind == RDD.UNION:
            segments, funcs, starts, barrier = [], [], [], False
            for parent_rdd in rdd._parents:
                parent = self._compile(parent_rdd)
                if parent.aligned:
                    # Partition i of an aligned union reads partition i of each of its parents: that cannot be laid
                    # end to end with other inputs, so it is computed by a stage of its own, kept like a cached RDD
                    # for as long as the union is referenced.
                    parent = self._materialize(parent_rdd, parent)
                starts.append(sum(s["count"] for s in segments))
                segments.extend(parent.segments)
                funcs.append(parent.func)
                barrier = barrier or parent.barrier
            if all(func is None for func in funcs):
                return _StageInput(segments, None, barrier)
            return _StageInput(segments, UnionDispatch(starts, funcs), barrier)
        if rdd._kind == RDD.SHUFFLE:
            if rdd._shuffle_id not in self.shuffles_written:
                assert rdd.partitioner is not None  # a shuffle has its partitioner
                self._add_stage(self._compile(rdd._parents[0]),
                                {"kind": "shuffle", "id": rdd._shuffle_id, "numReducers": count},
                                rdd.partitioner.partitionFunc)
                self.shuffles_written.add(rdd._shuffle_id)
            return _StageInput([{"kind": "shuffle", "id": rdd._shuffle_id, "count": count}])
        raise ValueError(f"unknown RDD kind {rdd._kind!r}")

    def _materialize(self, rdd: "RDD", stage: "_StageInput") -> "_StageInput":
        """Computes ``rdd`` in a stage of its own, its output kept as the engine keeps a cached RDD."""
        if rdd.id() not in self.caches_written:
            self._add_stage(stage, {"kind": "cache", "id": rdd.id()})
            self.caches_written.add(rdd.id())
            if not getattr(rdd, "_materialized", False):
                rdd._materialized = True
                self.ctx._on_release(rdd, "unpersist", rdd.id())
        return _StageInput([{"kind": "cache", "id": rdd.id(), "count": rdd.getNumPartitions()}])

    def _add_stage(self, stage_input: "_StageInput", output: dict,
                   partition_func: Optional[Callable[[Any], int]] = None, output_codec: str = "pickle") -> None:
        segments, func = stage_input.segments, stage_input.func
        command = StageCommand(func or _identity_partition, partition_func)
        with collect_broadcast_ids() as broadcast_ids:
            try:
                inner = cloudpickle.dumps(command)
            except Exception as e:
                if "SPARK-5063" in str(e):
                    raise pickle.PicklingError(f"Could not serialize object: {e}") from e
                culprit = find_unpicklable(command)
                where = f" ({culprit})" if culprit else ""
                raise pickle.PicklingError(
                    f"Could not serialize object{where}: {type(e).__name__}: {e}. Functions passed to RDD operations "
                    f"are pickled and sent to the workers: create such objects inside the function instead, or "
                    f"use mapPartitions to create one per partition.") from e
        # The worker puts addPyFile paths on sys.path before it unpickles the command, which may import them.
        blob = command_blob(inner, self.job_info)
        stage: dict[str, Any] = {
            "id": len(self.stages),
            "commandId": hashlib.sha1(blob).hexdigest(),
            "input": segments,
            "output": output,
            "broadcasts": sorted(broadcast_ids),
            "inputCodec": "pickle",
            "outputCodec": output_codec,
        }
        if stage_input.barrier:
            stage["barrier"] = True
        if stage_input.aligned:
            stage["aligned"] = True
        shipped = self.job_info.get("shippedFiles")
        if shipped is not None:
            # The files a cluster's workers unpack travel as a broadcast with every stage's tasks.
            broadcast_ids.add(shipped["broadcast"])
            stage["broadcasts"] = sorted(broadcast_ids)
        self.broadcasts.update(broadcast_ids)
        if len(blob) > INLINE_COMMAND_BYTES:
            stage["commandBlob"] = self.ctx._side.blob(blob)
        else:
            stage["command"] = b64encode(blob).decode("ascii")
        self.stages.append(stage)
