"""Ember: run PySpark RDD programs on a small, modular JVM runtime.

Change ``from pyspark import SparkContext`` to ``from ember import SparkContext``.

The names below are imported on first use, so a worker process (which imports ``ember.worker`` and never needs
the driver's context, Py4J or the RDD API) starts without loading them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ember._version import RUNTIME_VERSION, __version__  # noqa: F401  (written by setup.py)
# The PySpark release whose RDD API Ember implements (what SparkContext.version reports).
PYSPARK_API_VERSION = "4.3.0"

_EXPORTS = {
    "SparkConf": "ember.conf",
    "SparkContext": "ember.context",
    "EmberError": "ember.errors",
    "MalformedInputError": "ember.errors",
    "PythonException": "ember.errors",
    "SparkJobError": "ember.errors",
    "RDD": "ember.rdd",
    "RDDBarrier": "ember.rdd",
    "Partitioner": "ember.rdd",
    "portable_hash": "ember.rdd",
    "Accumulator": "ember.shared",
    "AccumulatorParam": "ember.shared",
    "Broadcast": "ember.shared",
    "SparkFiles": "ember.sparkfiles",
    "TaskContext": "ember.taskcontext",
    "BarrierTaskContext": "ember.taskcontext",
    "BarrierTaskInfo": "ember.taskcontext",
    "StatCounter": "ember.statcounter",
    "StorageLevel": "ember.storagelevel",
    "InheritableThread": "ember.util",
    "inheritable_thread_target": "ember.util",
}

__all__ = [*_EXPORTS, "__version__", "PYSPARK_API_VERSION"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ember' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from ember.conf import SparkConf
    from ember.context import SparkContext
    from ember.errors import EmberError, MalformedInputError, PythonException, SparkJobError
    from ember.rdd import RDD, Partitioner, RDDBarrier, portable_hash
    from ember.sparkfiles import SparkFiles
    from ember.taskcontext import BarrierTaskContext, BarrierTaskInfo, TaskContext
    from ember.shared import Accumulator, AccumulatorParam, Broadcast
    from ember.statcounter import StatCounter
    from ember.storagelevel import StorageLevel
    from ember.util import InheritableThread, inheritable_thread_target
