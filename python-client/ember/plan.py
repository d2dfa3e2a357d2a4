"""Compiles an RDD lineage into the JSON job plan the engine runs.

Walking from the action's RDD back to its sources, narrow transformations compose into one Python function per
stage; a shuffle or a persisted RDD ends a stage (its output is written by a stage of its own, placed before the
stages that read it). A union concatenates the segments of its parents, and its function dispatches each
partition to the pipeline of the parent it came from.
"""

from __future__ import annotations

import hashlib
import pickle
from base64 import b64encode
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

import cloudpickle

from ember.diagnostics import find_unpicklable
from ember.shared import StageCommand, collect_broadcast_ids, command_blob

if TYPE_CHECKING:
    from ember.context import SparkContext
    from ember.rdd import RDD

# Command blobs larger than this go through the side socket instead of inside the plan.
INLINE_COMMAND_BYTES = 64 * 1024

Func = Optional[Callable[[int, Iterator[Any]], Iterable[Any]]]


def compose(inner: Func, outer: Callable[[int, Iterator[Any]], Iterable[Any]]) -> Callable:
    if inner is None:
        return outer

    def composed(split: int, iterator: Iterator[Any]) -> Iterable[Any]:
        return outer(split, iter(inner(split, iterator)))
    return composed


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
        segments, func, barrier = self._compile(rdd)
        self._add_stage(segments, func, output or {"kind": "result"}, output_codec=output_codec, barrier=barrier)
        return {"stages": self.stages, "partitions": partitions, "jobGroup": job_group}

    def _compile(self, rdd: "RDD", through_cache: bool = False) -> tuple[list[dict], Func, bool]:
        """The input segments and fused function of the stage that computes ``rdd``, and whether that stage is a
        barrier stage (an RDD of ``rdd.barrier().mapPartitions`` is in it). Stages it depends on are added first."""
        from ember.rdd import RDD
        count = rdd.getNumPartitions()
        if rdd.is_cached and not through_cache:
            if rdd.id() not in self.caches_written:
                segments, func, barrier = self._compile(rdd, through_cache=True)
                self._add_stage(segments, func, {"kind": "cache", "id": rdd.id()}, barrier=barrier)
                self.caches_written.add(rdd.id())
            return [{"kind": "cache", "id": rdd.id(), "count": count}], None, False
        if rdd._kind == RDD.SOURCE:
            return [dict(rdd._segment, count=count)], rdd._func, False
        if rdd._kind == RDD.NARROW:
            segments, func, barrier = self._compile(rdd._parents[0])
            return segments, compose(func, rdd._func), barrier or rdd._barrier
        if rdd._kind == RDD.UNION:
            segments, funcs, starts, barrier = [], [], [], False
            for parent in rdd._parents:
                starts.append(sum(s["count"] for s in segments))
                parent_segments, func, parent_barrier = self._compile(parent)
                segments.extend(parent_segments)
                funcs.append(func)
                barrier = barrier or parent_barrier
            if all(func is None for func in funcs):
                return segments, None, barrier
            return segments, UnionDispatch(starts, funcs), barrier
        if rdd._kind == RDD.SHUFFLE:
            if rdd._shuffle_id not in self.shuffles_written:
                segments, func, barrier = self._compile(rdd._parents[0])
                self._add_stage(segments, func, {"kind": "shuffle", "id": rdd._shuffle_id, "numReducers": count},
                                rdd.partitioner.partitionFunc, barrier=barrier)
                self.shuffles_written.add(rdd._shuffle_id)
            return [{"kind": "shuffle", "id": rdd._shuffle_id, "count": count}], None, False
        raise ValueError(f"unknown RDD kind {rdd._kind!r}")

    def _add_stage(self, segments: list[dict], func: Func, output: dict,
                   partition_func: Optional[Callable[[Any], int]] = None, output_codec: str = "pickle",
                   barrier: bool = False) -> None:
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
        if barrier:
            stage["barrier"] = True
        self.broadcasts.update(broadcast_ids)
        if len(blob) > INLINE_COMMAND_BYTES:
            stage["commandBlob"] = self.ctx._side.blob(blob)
        else:
            stage["command"] = b64encode(blob).decode("ascii")
        self.stages.append(stage)
