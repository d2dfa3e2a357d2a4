"""TaskContext and BarrierTaskContext: what a running task can learn about itself, as in PySpark.

``TaskContext.get()`` returns the context of the task running in this worker process (``None`` on the driver).
The worker sets it before it runs each task's function, from the task header the engine sends (stage, partition,
attempt, task attempt id) and from the job's command (the driver thread's local properties). A task of a barrier
stage (``rdd.barrier().mapPartitions(...)``) gets a ``BarrierTaskContext`` whose ``barrier()`` and ``allGather()``
meet the stage's other tasks through the engine's barrier coordinator (a loopback socket, authenticated with a
secret per stage attempt).
"""

from __future__ import annotations

import socket
import struct
from typing import Any, ClassVar, Optional

__all__ = ["TaskContext", "BarrierTaskContext", "BarrierTaskInfo", "ResourceInformation"]


class ResourceInformation:
    """A resource (a GPU, say) given to a task: its name and addresses. Ember's local engine assigns none."""

    def __init__(self, name: str, addresses: list[str]) -> None:
        self._name = name
        self._addresses = addresses

    @property
    def name(self) -> str:
        return self._name

    @property
    def addresses(self) -> list[str]:
        return self._addresses


class TaskContext:
    """Information about the running task. Call ``TaskContext.get()`` inside a function an RDD operation runs.

    Examples
    --------
    >>> def where(_):
    ...     task = TaskContext.get()
    ...     return task.partitionId(), task.attemptNumber()
    >>> sc.parallelize([1, 2, 3], 3).map(where).collect()
    [(0, 0), (1, 0), (2, 0)]
    """

    _taskContext: ClassVar[Optional["TaskContext"]] = None

    _stageId: Optional[int] = None
    _partitionId: Optional[int] = None
    _attemptNumber: Optional[int] = None
    _taskAttemptId: Optional[int] = None
    _localProperties: Optional[dict[str, str]] = None
    _cpus: Optional[int] = None
    _resources: Optional[dict[str, ResourceInformation]] = None

    def __new__(cls, **kwargs: Any) -> "TaskContext":
        # As in PySpark, constructing one inside a task gives the task's own context.
        current = cls._taskContext
        if current is not None:
            return current
        cls._taskContext = created = object.__new__(cls)
        return created

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            if not hasattr(self, f"_{key}"):
                raise TypeError(f"__init__() got an unexpected keyword argument '{key}'")
            if value is not None:
                setattr(self, f"_{key}", value)

    @classmethod
    def get(cls) -> Optional["TaskContext"]:
        """The context of the task running now, or None outside a task (on the driver).

        Examples
        --------
        >>> TaskContext.get() is None
        True
        >>> sc.parallelize([1], 1).map(lambda _: TaskContext.get() is not None).collect()
        [True]
        """
        return cls._taskContext

    @classmethod
    def _setTaskContext(cls, context: Optional["TaskContext"]) -> None:
        TaskContext._taskContext = context

    def stageId(self) -> int:
        """The id of the stage this task belongs to: unique within the SparkContext, growing job by job.

        Examples
        --------
        >>> def stage(_):
        ...     return TaskContext.get().stageId()
        >>> first = sc.parallelize([1, 2], 2).map(stage).collect()
        >>> second = sc.parallelize([1], 1).map(stage).collect()
        >>> first[0] == first[1] < second[0]
        True
        """
        return self._stageId  # type: ignore[return-value]

    def partitionId(self) -> int:
        """The partition of the RDD this task computes.

        Examples
        --------
        >>> sc.parallelize(range(8), 4).map(lambda _: TaskContext.get().partitionId()).collect()
        [0, 0, 1, 1, 2, 2, 3, 3]
        """
        return self._partitionId  # type: ignore[return-value]

    def attemptNumber(self) -> int:
        """0 for a task's first attempt, 1 for its first retry, and so on.

        Examples
        --------
        >>> sc.parallelize([1, 2], 2).map(lambda _: TaskContext.get().attemptNumber()).collect()
        [0, 0]
        """
        return self._attemptNumber  # type: ignore[return-value]

    def taskAttemptId(self) -> int:
        """An id no other task attempt of this SparkContext has.

        Examples
        --------
        >>> ids = sc.parallelize(range(4), 4).map(lambda _: TaskContext.get().taskAttemptId()).collect()
        >>> len(set(ids)), all(isinstance(i, int) for i in ids)
        (4, True)
        """
        return self._taskAttemptId  # type: ignore[return-value]

    def getLocalProperty(self, key: str) -> Optional[str]:
        """A local property the driver's thread set with ``sc.setLocalProperty`` before the job, or None.

        Examples
        --------
        >>> sc.setLocalProperty("report.region", "north")
        >>> sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("report.region")).collect()
        ['north']
        >>> sc.setLocalProperty("report.region", None)
        >>> sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("report.region")).collect()
        [None]
        """
        return (self._localProperties or {}).get(key)

    def cpus(self) -> int:
        """The CPUs each task has (``spark.task.cpus``, 1 by default).

        Examples
        --------
        >>> cpus = sc.parallelize([0], 1).map(lambda _: TaskContext.get().cpus()).collect()
        >>> cpus == [int(sc.getConf().get("spark.task.cpus", "1"))]
        True
        """
        return self._cpus  # type: ignore[return-value]

    def resources(self) -> dict[str, ResourceInformation]:
        """Resources given to the task, by name: none on Ember (an empty dict).

        Examples
        --------
        >>> sc.parallelize([0], 1).map(lambda _: TaskContext.get().resources()).collect()
        [{}]
        """
        return dict(self._resources or {})


class BarrierTaskInfo:
    """One task of a barrier stage: ``address`` is ``host:port`` of the worker that runs it."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __repr__(self) -> str:
        return f"BarrierTaskInfo(address={self.address!r})"


# Calls to the engine's barrier coordinator (dev.ember.engine.BarrierCoordinator).
_BARRIER = 1
_ALL_GATHER = 2
_INT = struct.Struct(">i")


class BarrierTaskContext(TaskContext):
    """The context of a task in a barrier stage: all tasks of the stage run at once and can wait for each other.

    Examples
    --------
    >>> def barrier_partition(iterator):
    ...     task = BarrierTaskContext.get()
    ...     task.barrier()
    ...     return [(task.partitionId(), sum(iterator))]
    >>> sc.parallelize([1, 2, 3, 4], 2).barrier().mapPartitions(barrier_partition).collect()
    [(0, 3), (1, 7)]
    """

    _coordinator: Optional[dict] = None
    _calls = 0

    @classmethod
    def get(cls) -> "BarrierTaskContext":  # type: ignore[override]
        """The running barrier task's context; raises RuntimeError outside a barrier stage.

        Examples
        --------
        >>> def kind(iterator):
        ...     return [type(BarrierTaskContext.get()).__name__]
        >>> sc.parallelize([1, 2], 2).barrier().mapPartitions(kind).collect()
        ['BarrierTaskContext', 'BarrierTaskContext']
        >>> BarrierTaskContext.get()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        RuntimeError: [NOT_IN_BARRIER_STAGE] It is not in a barrier stage: ...
        """
        current = TaskContext._taskContext
        if not isinstance(current, BarrierTaskContext):
            raise RuntimeError("[NOT_IN_BARRIER_STAGE] It is not in a barrier stage: BarrierTaskContext.get() works "
                               "only in functions of rdd.barrier().mapPartitions(...)")
        return current

    def barrier(self) -> None:
        """Waits until every task of this stage has called barrier() (as many times as this task has).

        Examples
        --------
        >>> import time
        >>> def arrive_then_leave(iterator):
        ...     task = BarrierTaskContext.get()
        ...     time.sleep(0.2 * task.partitionId())  # the second task comes later
        ...     arrived = time.time()
        ...     task.barrier()
        ...     return [(arrived, time.time())]
        >>> first, second = sc.parallelize([1, 2], 2).barrier().mapPartitions(arrive_then_leave).collect()
        >>> first[1] >= second[0]  # the first task left the barrier only once the second had come
        True
        """
        self._call(_BARRIER, "")

    def allGather(self, message: str = "") -> list[str]:
        """Waits for every task of this stage to call allGather and returns their messages, by partition.

        Examples
        --------
        >>> def gather_counts(iterator):
        ...     return [BarrierTaskContext.get().allGather(str(sum(1 for _ in iterator)))]
        >>> sc.parallelize(range(5), 2).barrier().mapPartitions(gather_counts).collect()
        [['2', '3'], ['2', '3']]
        """
        if not isinstance(message, str):
            raise TypeError("Argument `message` must be of type `str`")
        return self._call(_ALL_GATHER, message)

    def getTaskInfos(self) -> list[BarrierTaskInfo]:
        """The tasks of this barrier stage, ordered by partition.

        Examples
        --------
        >>> def addresses(iterator):
        ...     return [len(BarrierTaskContext.get().getTaskInfos())]
        >>> sc.parallelize([1, 2], 2).barrier().mapPartitions(addresses).collect()
        [2, 2]
        """
        coordinator = self._require("getTaskInfos")
        return [BarrierTaskInfo(address) for address in coordinator["addresses"]]

    def _require(self, name: str) -> dict:
        if self._coordinator is None:
            raise RuntimeError(f"[CALL_BEFORE_INITIALIZE] Not supported to call {name}() before initializing "
                               f"BarrierTaskContext")
        return self._coordinator

    def _call(self, kind: int, message: str) -> list[str]:
        """One round with the coordinator: it answers once every task of the stage attempt has made the same call
        (the n-th call of each task meets the n-th of the others)."""
        coordinator = self._require("barrier" if kind == _BARRIER else "allGather")
        self._calls += 1

        def field(data: bytes) -> bytes:
            return _INT.pack(len(data)) + data

        request = (field(coordinator["secret"].encode("ascii")) + field(coordinator["token"].encode("ascii"))
                   + _INT.pack(self._partitionId) + _INT.pack(self._calls) + _INT.pack(kind)
                   + field(message.encode("utf-8")))
        with socket.create_connection(("127.0.0.1", coordinator["port"])) as conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sendall(request)
            status = _read_int(conn)
            if status != 0:
                raise RuntimeError(_read_field(conn).decode("utf-8", "replace"))
            return [_read_field(conn).decode("utf-8") for _ in range(_read_int(conn))]


def _read_int(conn: socket.socket) -> int:
    return _INT.unpack(_read_exactly(conn, 4))[0]


def _read_field(conn: socket.socket) -> bytes:
    return _read_exactly(conn, _read_int(conn))


def _read_exactly(conn: socket.socket, length: int) -> bytes:
    chunks = []
    while length:
        chunk = conn.recv(length)
        if not chunk:
            raise ConnectionError("the engine's barrier coordinator closed the connection (the stage was aborted)")
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


def start_task(header: dict, local_properties: dict[str, str], cpus: int) -> TaskContext:
    """Called by the worker before each task: the context the task's code sees."""
    barrier = header.get("barrier")
    cls = BarrierTaskContext if barrier else TaskContext
    context: Any = object.__new__(cls)
    context._stageId = header["stageId"]
    context._partitionId = header["partition"]
    context._attemptNumber = header["attempt"]
    context._taskAttemptId = header["taskAttemptId"]
    context._localProperties = dict(local_properties)
    context._cpus = cpus
    context._resources = {}
    if barrier:
        context._coordinator = barrier
        context._calls = 0
    TaskContext._setTaskContext(context)
    return context
