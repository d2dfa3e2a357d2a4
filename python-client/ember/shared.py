"""Objects that cross from the driver to the workers inside pickled commands: broadcast variables, accumulators
and the stage command itself. Their pickling differs on each side, so both sides import them from here."""

from __future__ import annotations

import copy
import pickle
import threading
from typing import IO, Any, Callable, Generic, Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")

# -- stage commands ----------------------------------------------------------------------------------------------


class StageCommand:
    """What a worker runs for a task: ``func(split, iterator)``, and for a shuffle map stage the function that
    maps a key to its reduce partition."""

    def __init__(self, func: Callable[[int, Iterator[Any]], Iterable[Any]],
                 partition_func: Optional[Callable[[Any], int]] = None) -> None:
        self.func = func
        self.partition_func = partition_func
        # Filled in by the worker when it loads the command: the accumulators it uses, the local properties of the
        # driver thread that ran the job and spark.task.cpus (for TaskContext).
        self.accumulators: list = []
        self.local_properties: dict[str, str] = {}
        self.cpus = 1


def command_blob(inner: bytes, job: Optional[dict] = None) -> bytes:
    """The bytes of a stage's command as the engine ships them: what every task of the job is told (``job``: the
    addPyFile paths, the SparkFiles directory, the local properties of the driver thread, spark.task.cpus) and the
    cloudpickled StageCommand. ``ember.worker.load_command`` reads it."""
    job = {"pyFiles": [], "filesRoot": None, "localProperties": {}, "cpus": 1, **(job or {})}
    return pickle.dumps((job, inner), pickle.HIGHEST_PROTOCOL)


# -- broadcast variables -----------------------------------------------------------------------------------------

# Values the worker has received, by broadcast id (filled by ember.worker before a task runs).
_worker_broadcasts: dict[int, Any] = {}
_worker_broadcast_bytes: dict[int, bytes] = {}
# Broadcast ids pickled into the command being built on the driver.
_pickling = threading.local()


def _collecting_ids() -> Optional[set]:
    return getattr(_pickling, "broadcast_ids", None)


class collect_broadcast_ids:
    """Context manager: records the ids of Broadcast objects pickled inside it."""

    def __enter__(self) -> set:
        self.ids: set = set()
        _pickling.broadcast_ids = self.ids
        return self.ids

    def __exit__(self, *exc: object) -> None:
        _pickling.broadcast_ids = None


def _broadcast_in_worker(bid: int) -> "Broadcast":
    b = Broadcast.__new__(Broadcast)
    b._context = None
    b._id = bid
    b._value = None
    b._destroyed = False
    b._in_worker = True
    return b


class Broadcast(Generic[T]):
    """A read-only value shipped once to each worker that needs it, as PySpark's ``sc.broadcast`` gives.

    PySpark's constructor: ``Broadcast(sc, value)`` is ``sc.broadcast(value)``; ``Broadcast(path=p)`` (with no
    context) reads the value another broadcast wrote to its ``_path``.

    Examples
    --------
    >>> squares = sc.broadcast({n: n * n for n in range(10)})
    >>> sc.parallelize([2, 3]).map(lambda n: squares.value[n]).collect()
    [4, 9]
    """

    def __init__(self, sc: Any = None, value: Optional[T] = None, pickle_registry: Any = None,
                 path: Optional[str] = None, sock_file: Any = None) -> None:
        self._destroyed = False
        self._in_worker = False
        if sc is not None:
            self._context = sc
            self._value = value
            self._id = sc._register_broadcast(value)
        elif path is not None:
            self._context = None
            self._id = None
            self._value = self.load_from_path(path)
        else:
            raise ValueError("Broadcast needs a SparkContext (or the path a broadcast's value was written to); "
                             "create broadcasts with sc.broadcast(value)")

    @property
    def id(self) -> int:
        """This broadcast's id, unique within its SparkContext.

        Examples
        --------
        >>> first, second = sc.broadcast("a"), sc.broadcast("b")
        >>> first.id != second.id
        True
        """
        return self._id

    @property
    def value(self) -> T:
        """The broadcast value: the driver's own object on the driver, a copy unpickled once per worker in tasks.

        Examples
        --------
        >>> prices = sc.broadcast({"apple": 3, "fig": 5})
        >>> prices.value["fig"]
        5
        >>> sc.parallelize(["fig", "apple", "fig"]).map(lambda fruit: prices.value[fruit]).collect()
        [5, 3, 5]
        """
        if not self._in_worker:
            if self._destroyed:
                raise RuntimeError(f"Broadcast {self._id} was destroyed and cannot be used")
            return self._value  # type: ignore[return-value]  # None only once destroyed
        if self._id not in _worker_broadcasts:
            if self._id not in _worker_broadcast_bytes:
                raise RuntimeError(f"Broadcast {self._id} is not available in this worker (was it destroyed?)")
            _worker_broadcasts[self._id] = pickle.loads(_worker_broadcast_bytes.pop(self._id))
        return _worker_broadcasts[self._id]

    @property
    def _path(self) -> str:
        """A file holding the pickled value (written when first asked for), for ``Broadcast(path=...)``."""
        if self._context is None:
            raise RuntimeError("Broadcast._path is only known on the driver")
        return self._context._broadcast_file(self._id)

    def dump(self, value: T, f: IO[bytes]) -> None:
        """Writes ``value`` pickled (as a broadcast's value is) to the binary file ``f``.

        Examples
        --------
        >>> import io
        >>> numbers = sc.broadcast([1, 2])
        >>> buffer = io.BytesIO()
        >>> numbers.dump([3, 4], buffer)
        >>> _ = buffer.seek(0)
        >>> numbers.load(buffer)
        [3, 4]
        """
        from ember.serializers import dumps_from_driver
        f.write(dumps_from_driver(value))

    def load(self, file: IO[bytes]) -> T:
        """Reads a value that ``dump`` wrote from the binary file ``file``.

        Examples
        --------
        >>> import io
        >>> numbers = sc.broadcast([1, 2])
        >>> buffer = io.BytesIO()
        >>> numbers.dump(numbers.value, buffer)
        >>> _ = buffer.seek(0)
        >>> numbers.load(buffer)
        [1, 2]
        """
        return pickle.load(file)

    def load_from_path(self, path: str) -> T:
        """Reads a value that ``dump`` wrote from the file at ``path``.

        Examples
        --------
        >>> import os, tempfile
        >>> numbers = sc.broadcast([1, 2])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "value.pickle")
        ...     with open(path, "wb") as f:
        ...         numbers.dump({"saved": True}, f)
        ...     loaded = numbers.load_from_path(path)
        >>> loaded
        {'saved': True}
        """
        with open(path, "rb") as f:
            return self.load(f)

    def unpersist(self, blocking: bool = False) -> None:
        """Drops the workers' copies; the value is sent again if used later.

        Examples
        --------
        >>> factor = sc.broadcast(3)
        >>> sc.parallelize([1, 2]).map(lambda x: x * factor.value).collect()
        [3, 6]
        >>> factor.unpersist()
        >>> sc.parallelize([1, 2]).map(lambda x: x * factor.value).collect()
        [3, 6]
        """
        if self._in_worker:
            raise RuntimeError("Broadcast can only be unpersisted in driver")
        if self._context is not None:
            self._context._unpersist_broadcast(self._id, destroy=False)

    def destroy(self, blocking: bool = False) -> None:
        """Drops the value everywhere; using it afterwards fails.

        Examples
        --------
        >>> factor = sc.broadcast(3)
        >>> factor.destroy()
        >>> factor.value  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        RuntimeError: Broadcast ... was destroyed and cannot be used
        """
        if self._in_worker:
            raise RuntimeError("Broadcast can only be destroyed in driver")
        if self._context is not None:
            self._context._unpersist_broadcast(self._id, destroy=True)
            self._value = None
            self._destroyed = True

    def __reduce__(self) -> tuple:
        ids = _collecting_ids()
        if ids is None:
            raise pickle.PicklingError(
                "A Broadcast can only be used inside functions passed to RDD operations; pass its .value instead")
        ids.add(self._id)
        return _broadcast_in_worker, (self._id,)

    def __repr__(self) -> str:
        return f"Broadcast(id={self._id})"


def worker_receive_broadcast(bid: int, payload: bytes) -> None:
    _worker_broadcasts.pop(bid, None)
    _worker_broadcast_bytes[bid] = payload


def worker_broadcast_value(bid: int) -> Any:
    """The value of a broadcast this worker received (for Ember's own use: the files a cluster ships)."""
    if bid not in _worker_broadcasts:
        if bid not in _worker_broadcast_bytes:
            raise RuntimeError(f"Broadcast {bid} is not available in this worker")
        _worker_broadcasts[bid] = pickle.loads(_worker_broadcast_bytes.pop(bid))
    return _worker_broadcasts[bid]


def worker_forget_broadcast(bid: int) -> None:
    _worker_broadcasts.pop(bid, None)
    _worker_broadcast_bytes.pop(bid, None)


# -- accumulators ------------------------------------------------------------------------------------------------


class AccumulatorParam(Generic[T]):
    """How to add values of an accumulator: ``zero(value)`` and ``addInPlace(value1, value2)``. Numbers need none;
    subclass it for other values.

    Examples
    --------
    >>> class ListParam(AccumulatorParam):
    ...     def zero(self, value):
    ...         return []
    ...     def addInPlace(self, value1, value2):
    ...         value1.extend(value2)
    ...         return value1
    >>> seen = sc.accumulator([], ListParam())
    >>> sc.parallelize(["a", "b", "c"], 3).foreach(lambda x: seen.add([x]))
    >>> sorted(seen.value)
    ['a', 'b', 'c']
    """

    def zero(self, value: T) -> T:
        """The identity of ``addInPlace`` for values like ``value``: each task's accumulator starts from it.

        Examples
        --------
        >>> class MaxParam(AccumulatorParam):
        ...     def zero(self, value):
        ...         return float("-inf")
        ...     def addInPlace(self, value1, value2):
        ...         return max(value1, value2)
        >>> MaxParam().zero(42)
        -inf
        >>> highest = sc.accumulator(float("-inf"), MaxParam())
        >>> sc.parallelize([3, 9, 4], 3).foreach(lambda x: highest.add(x))
        >>> highest.value
        9
        """
        raise NotImplementedError

    def addInPlace(self, value1: T, value2: T) -> T:
        """Adds ``value2`` to ``value1`` (changing ``value1`` if it likes) and returns the sum.

        Examples
        --------
        >>> class SetParam(AccumulatorParam):
        ...     def zero(self, value):
        ...         return set()
        ...     def addInPlace(self, value1, value2):
        ...         value1 |= value2
        ...         return value1
        >>> SetParam().addInPlace({1}, {2})
        {1, 2}
        >>> lengths = sc.accumulator(set(), SetParam())
        >>> sc.parallelize(["a", "bb", "cc"]).foreach(lambda word: lengths.add({len(word)}))
        >>> sorted(lengths.value)
        [1, 2]
        """
        raise NotImplementedError


class _AddingParam(AccumulatorParam[Any]):
    def __init__(self, zero_value: Any) -> None:
        self.zero_value = zero_value

    def zero(self, value: Any) -> Any:
        return self.zero_value

    def addInPlace(self, value1: Any, value2: Any) -> Any:
        value1 += value2
        return value1


INT_ACCUMULATOR_PARAM = _AddingParam(0)
FLOAT_ACCUMULATOR_PARAM = _AddingParam(0.0)
COMPLEX_ACCUMULATOR_PARAM = _AddingParam(0.0j)

# Accumulators unpickled in this worker, by id. A command is unpickled once and serves many tasks, so each task
# starts its command's accumulators from zero and reports their values when it ends.
_worker_accumulators: dict[int, "Accumulator"] = {}
_unpickled = threading.local()


def _accumulator_in_worker(aid: int, zero_value: Any, param: AccumulatorParam) -> "Accumulator":
    acc = _worker_accumulators.get(aid)
    if acc is None:
        acc = Accumulator(aid, param.zero(zero_value), param)
        acc._in_worker = True
        acc._zero = copy.deepcopy(acc._value)
        _worker_accumulators[aid] = acc
    seen = getattr(_unpickled, "accumulators", None)
    if seen is not None:
        seen.append(acc)
    return acc


class recording_accumulators:
    """Context manager: collects the accumulators unpickled inside it (those a command uses)."""

    def __enter__(self) -> list:
        self.found: list = []
        _unpickled.accumulators = self.found
        return self.found

    def __exit__(self, *exc: object) -> None:
        _unpickled.accumulators = None


def start_task_accumulators(accumulators: list["Accumulator"]) -> None:
    for acc in accumulators:
        acc._value = copy.deepcopy(acc._zero)


def task_accumulator_updates(accumulators: list["Accumulator"]) -> Optional[dict[int, Any]]:
    if not accumulators:
        return None
    return {acc.aid: acc._value for acc in accumulators}


class Accumulator(Generic[T]):
    """A shared variable tasks can only add to; the driver reads the total, as PySpark's ``sc.accumulator``.

    Examples
    --------
    >>> errors = sc.accumulator(0)
    >>> def parse(text):
    ...     try:
    ...         return [int(text)]
    ...     except ValueError:
    ...         errors.add(1)
    ...         return []
    >>> sc.parallelize(["1", "x", "3", "y"]).flatMap(parse).collect()
    [1, 3]
    >>> errors.value
    2
    """

    # A worker's copy: the value each task starts from (see _accumulator_in_worker).
    _zero: Any

    def __init__(self, aid: int, value: T, accum_param: AccumulatorParam[T]) -> None:
        self.aid = aid
        self.accum_param = accum_param
        self._value = value
        self._in_worker = False

    @property
    def value(self) -> T:
        """The total on the driver (after the actions that added to it); it may also be set there. Tasks cannot
        read it.

        Examples
        --------
        >>> total = sc.accumulator(0)
        >>> sc.parallelize([1, 2, 3, 4]).foreach(lambda x: total.add(x))
        >>> total.value
        10
        >>> total.value = 0
        >>> total.value
        0
        """
        if self._in_worker:
            raise RuntimeError("Accumulator.value cannot be accessed inside tasks")
        return self._value

    @value.setter
    def value(self, value: T) -> None:
        if self._in_worker:
            raise RuntimeError("Accumulator.value cannot be accessed inside tasks")
        self._value = value

    def add(self, term: T) -> None:
        """Adds ``term`` (in a task, to the task's share, which the driver adds to the total when the task ends);
        ``acc += term`` does the same.

        Examples
        --------
        >>> total = sc.accumulator(1.5)
        >>> total.add(2)
        >>> total += 1
        >>> sc.parallelize([1, 2]).foreach(lambda x: total.add(x))
        >>> total.value
        7.5
        """
        self._value = self.accum_param.addInPlace(self._value, term)

    def __iadd__(self, term: T) -> "Accumulator[T]":
        self.add(term)
        return self

    def __reduce__(self) -> tuple:
        return _accumulator_in_worker, (self.aid, self._value, self.accum_param)

    def __str__(self) -> str:
        return str(self._value)

    def __repr__(self) -> str:
        return f"Accumulator<id={self.aid}, value={self._value}>"
