"""User exceptions reach the driver with the worker's traceback; wrong secrets are refused; results are checked."""

from __future__ import annotations

import json
import operator
import os
from typing import Any, Iterator

import pytest

import helper_module
from ember import PythonException, SparkContext, SparkJobError
from ember.errors import EmberAuthError
from ember.java_gateway import SideChannel, connect


def test_user_exception_carries_the_worker_traceback(sc: SparkContext) -> None:
    def explode_on_42(x: int) -> int:
        if x == 42:
            raise ValueError("boom 42")
        return x

    with pytest.raises(PythonException) as info:
        sc.parallelize(list(range(100)), 4).map(explode_on_42).collect()
    message = str(info.value)
    assert "Traceback (most recent call last)" in message
    assert "explode_on_42" in message
    assert "ValueError: boom 42" in message
    assert isinstance(info.value, SparkJobError)
    assert info.value.kind == "USER_CODE"
    # The same context runs the next job, on all partitions.
    assert sc.parallelize(list(range(100)), 4).map(lambda x: x + 1).collect() == list(range(1, 101))


def test_user_exception_from_every_action(sc: SparkContext) -> None:
    def always_fails(x: int) -> int:
        raise ZeroDivisionError(f"no {x}")

    rdd = sc.parallelize([1, 2, 3], 2).map(always_fails)
    # Both partitions fail; whichever task fails first is reported.
    for action in (rdd.collect, rdd.count, rdd.sum, lambda: rdd.reduce(operator.add)):
        with pytest.raises(PythonException, match=r"ZeroDivisionError: no [12]\n"):
            action()
    # first and take compute partition 0 alone.
    for action in (rdd.first, lambda: rdd.take(2)):
        with pytest.raises(PythonException, match=r"ZeroDivisionError: no 1\n"):
            action()
    assert sc.parallelize([1, 2, 3], 2).sum() == 6


def test_exception_after_partial_output_keeps_workers_in_step(sc: SparkContext) -> None:
    def yields_then_fails(iterator: Iterator[int]) -> Iterator[int]:
        for i, x in enumerate(iterator):
            if i == 3000:
                raise RuntimeError("failed mid-partition")
            yield x

    data = list(range(20_000))
    for _ in range(3):
        with pytest.raises(PythonException, match="RuntimeError: failed mid-partition"):
            sc.parallelize(data, 2).mapPartitions(yields_then_fails).collect()
        assert sc.parallelize(data, 2).map(lambda x: x * 2).collect() == [x * 2 for x in data]


def test_exception_inside_an_imported_module(sc: SparkContext) -> None:
    with pytest.raises(PythonException) as info:
        sc.parallelize(list(range(10)), 2).map(helper_module.fail_deep).collect()
    message = str(info.value)
    assert "helper_module.py" in message
    assert "fail_deep" in message
    assert "KeyError: 'helper failed on 7'" in message
    assert sc.parallelize([1, 2, 8], 2).map(helper_module.fail_deep).collect() == [1, 2, 8]


def test_system_exit_in_user_code_is_reported(sc: SparkContext) -> None:
    def quits(x: Any) -> Any:
        raise SystemExit(3)

    with pytest.raises(PythonException, match="SystemExit"):
        sc.parallelize([1], 1).map(quits).collect()
    assert sc.parallelize([os.getpid()], 1).collect() == [os.getpid()]


def test_wrong_secret_is_refused_by_the_gateway(sc: SparkContext) -> None:
    with pytest.raises(EmberAuthError):
        connect(sc._launched.port, "wrong")
    with pytest.raises(EmberAuthError):
        connect(sc._launched.port, sc._launched.secret + "x")
    # The right secret on the same port is accepted (so the refusal was about the secret).
    gateway, entry = connect(sc._launched.port, sc._launched.secret)
    try:
        assert entry.sidePort() == sc._entry.sidePort()
    finally:
        gateway.close()
    assert sc.parallelize([1, 2, 3], 2).collect() == [1, 2, 3]


def test_wrong_secret_is_refused_by_the_side_socket(sc: SparkContext) -> None:
    with pytest.raises(EmberAuthError):
        SideChannel(sc._entry.sidePort(), "wrong", sc._session.token()).blob(b"x")
    with pytest.raises(EmberAuthError):
        SideChannel(sc._entry.sidePort(), "wrong", sc._session.token()).store([[b"x"]])
    good = SideChannel(sc._entry.sidePort(), sc._launched.secret, sc._session.token())
    assert isinstance(good.blob(b"x"), int)
    assert sc.parallelize(list(range(10)), 2).sum() == 45


def test_result_stream_yields_records_by_partition_and_checks_the_positions(sc: SparkContext) -> None:
    """The driver reads a job's results as the JVM streams them, knowing how many partitions it asked for: records
    come partition after partition, every frame's size is counted, and the accumulator updates come after the
    partitions. A result at a position the driver did not ask for is a protocol error, not wrong data."""
    from ember import serializers as ser
    from ember.plan import PlanBuilder

    def submit() -> int:
        rdd = sc.parallelize(list(range(30)), 3)
        plan = PlanBuilder(sc).build(rdd, [0, 1, 2], None, None, "pickle")
        return sc._session.submitJob(json.dumps(plan), False)

    updates: list = []
    sizes: list = []
    batches = list(sc._side.results(submit(), 3, ser.loads_batch, sizes.append, updates.append))
    assert [record for batch in batches for record in batch] == list(range(30))
    assert len(sizes) == len(batches) and all(size > 0 for size in sizes)
    assert updates == [[]]  # handed over once, after the partitions: no accumulators in this job
    with pytest.raises(ser.ProtocolError, match="result 2 out of place"):
        list(sc._side.results(submit(), 2, ser.loads_batch, sizes.append, updates.append))
