"""The gateway serves Ember's entry point and nothing else, even to a client that holds the secret."""

from __future__ import annotations

import pytest
from py4j.protocol import Py4JError

from ember import SparkContext
from ember.java_gateway import connect


def test_the_jvm_view_and_reflection_are_refused(sc: SparkContext) -> None:
    gateway, entry = connect(sc._launched.port, sc._launched.secret)
    try:
        with pytest.raises(Py4JError):
            gateway.jvm.java.lang.Runtime.getRuntime()
        with pytest.raises(Py4JError):
            gateway.jvm.java.util.ArrayList()
        with pytest.raises(Py4JError, match="getClass"):
            entry.getClass()
        assert entry.sidePort() > 0  # what the entry point declares is served
    finally:
        gateway.close()
    assert sc.parallelize(list(range(10)), 2).sum() == 45


def test_a_client_cannot_shut_the_gateway_down(sc: SparkContext) -> None:
    gateway, _ = connect(sc._launched.port, sc._launched.secret)
    try:
        gateway.shutdown()
    except Py4JError:
        pass
    other, entry = connect(sc._launched.port, sc._launched.secret)
    try:
        assert entry.sidePort() > 0
    finally:
        other.close()
    assert sc.parallelize([1, 2, 3], 3).map(lambda x: x * 2).collect() == [2, 4, 6]
