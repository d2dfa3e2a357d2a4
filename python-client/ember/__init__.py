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
    # "X as X": explicit re-exports, which type checkers (mypy --strict's no_implicit_reexport) require of a package
    # that says it is typed (py.typed); mypy does not read __all__ above, made from _EXPORTS.
    from ember.conf import SparkConf as SparkConf
    from ember.context import SparkContext as SparkContext
    from ember.errors import EmberError as EmberError
    from ember.errors import MalformedInputError as MalformedInputError
    from ember.errors import PythonException as PythonException
    from ember.errors import SparkJobError as SparkJobError
    from ember.rdd import RDD as RDD
    from ember.rdd import Partitioner as Partitioner
    from ember.rdd import RDDBarrier as RDDBarrier
    from ember.rdd import portable_hash as portable_hash
    from ember.sparkfiles import SparkFiles as SparkFiles
    from ember.taskcontext import BarrierTaskContext as BarrierTaskContext
    from ember.taskcontext import BarrierTaskInfo as BarrierTaskInfo
    from ember.taskcontext import TaskContext as TaskContext
    from ember.shared import Accumulator as Accumulator
    from ember.shared import AccumulatorParam as AccumulatorParam
    from ember.shared import Broadcast as Broadcast
    from ember.statcounter import StatCounter as StatCounter
    from ember.storagelevel import StorageLevel as StorageLevel
    from ember.util import InheritableThread as InheritableThread
    from ember.util import inheritable_thread_target as inheritable_thread_target
