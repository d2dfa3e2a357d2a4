"""Base classes and helpers that PySpark's tests take from ``pyspark.testing.utils``, with the same names and the
same contract (one context per test or per class, ``local[4]``), for Ember's SparkContext."""

from __future__ import annotations

import functools
import importlib.util
import os
import signal
import sys
import time
import unittest
from typing import Any, Callable

from pyspark import SparkConf, SparkContext
from pyspark.testing.sqlutils import SPARK_HOME  # noqa: F401 - re-exported, as PySpark's module has it


def have_package(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


have_numpy = have_package("numpy")
have_pandas = have_package("pandas")
have_scipy = have_package("scipy")
numpy_requirement_message = "" if have_numpy else "No module named 'numpy'"
pandas_requirement_message = "" if have_pandas else "No module named 'pandas'"


def timeout(seconds: int) -> Callable:
    """Fails the decorated test with TimeoutError when it runs longer than ``seconds``."""
    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            def expire(_signum: int, _frame: Any) -> None:
                raise TimeoutError(f"Function {func.__name__} timed out after {seconds} seconds")
            previous = signal.signal(signal.SIGALRM, expire)
            signal.alarm(seconds)
            try:
                return func(*args, **kwargs)
            finally:
                signal.alarm(0)
                signal.signal(signal.SIGALRM, previous)
        return wrapper
    return decorator


def eventually(timeout: float = 30.0, catch_assertions: bool = False, catch_timeout: bool = False,
               quiet: bool = True, interval: float = 0.1, expected_exceptions: tuple = ()) -> Callable:
    """Retries the decorated check until it returns True or None, for up to ``timeout`` seconds."""
    caught = tuple(expected_exceptions) + ((AssertionError,) if catch_assertions else ()) + (
        (TimeoutError,) if catch_timeout else ())

    def decorator(condition: Callable) -> Callable:
        @functools.wraps(condition)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            deadline = time.time() + timeout
            last: Any = None
            while time.time() < deadline:
                try:
                    last = condition(*args, **kwargs)
                except caught as error:
                    last = error
                if last is True or last is None:
                    return
                time.sleep(interval)
            if isinstance(last, BaseException):
                raise last
            raise AssertionError(f"Test failed due to timeout after {timeout} sec, with last condition returning: "
                                 f"{last}")
        return wrapper
    return decorator


class QuietTest:
    """PySpark lowers the JVM's log level here; Ember's log goes to a file, so there is nothing to quieten."""

    def __init__(self, sc: SparkContext) -> None:
        self.sc = sc

    def __enter__(self) -> "QuietTest":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class PySparkBaseTestCase(unittest.TestCase):
    pass


class PySparkTestCase(PySparkBaseTestCase):
    """A new ``local[4]`` context for each test, named after the class."""

    def setUp(self) -> None:
        self._old_sys_path = list(sys.path)
        self.sc = SparkContext("local[4]", self.__class__.__name__)

    def tearDown(self) -> None:
        self.sc.stop()
        sys.path = self._old_sys_path


class ReusedPySparkTestCase(PySparkBaseTestCase):
    """One context for all the tests of a class (``master()``, ``conf()``)."""

    @classmethod
    def conf(cls) -> SparkConf:
        return SparkConf()

    @classmethod
    def master(cls) -> str:
        return "local[4]"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.sc = SparkContext(cls.master(), cls.__name__, conf=cls.conf())

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sc.stop()
        super().tearDownClass()

    def test_assert_classic_mode(self) -> None:
        from pyspark.sql import is_remote
        self.assertFalse(is_remote())

    def quiet(self) -> QuietTest:
        return QuietTest(self.sc)


def read_int(b: bytes) -> int:
    return int.from_bytes(b[:4], "big", signed=True)


def write_int(i: int) -> bytes:
    return i.to_bytes(4, "big", signed=True)


class ByteArrayOutput:
    """A file-like sink collecting bytes into a bytearray."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, b: bytes) -> None:
        self.buffer += b

    def close(self) -> None:
        pass
