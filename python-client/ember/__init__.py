"""Ember: run PySpark RDD programs on a small, modular JVM runtime.

Change ``from pyspark import SparkContext`` to ``from ember import SparkContext``.
"""

__version__ = "0.1.0"

from ember.conf import SparkConf  # noqa: E402
from ember.context import SparkContext  # noqa: E402
from ember.errors import EmberError, MalformedInputError, PythonException, SparkJobError  # noqa: E402
from ember.rdd import RDD, Partitioner, portable_hash  # noqa: E402
from ember.shared import Accumulator, AccumulatorParam, Broadcast  # noqa: E402
from ember.statcounter import StatCounter  # noqa: E402
from ember.storagelevel import StorageLevel  # noqa: E402

__all__ = ["SparkConf", "SparkContext", "RDD", "Partitioner", "portable_hash", "Accumulator", "AccumulatorParam",
           "Broadcast", "StatCounter", "StorageLevel", "EmberError", "MalformedInputError", "PythonException",
           "SparkJobError",
           "__version__"]
