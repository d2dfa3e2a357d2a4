"""Ember: run PySpark RDD programs on a small, modular JVM runtime.

Change ``from pyspark import SparkContext`` to ``from ember import SparkContext``.
"""

__version__ = "0.1.0"

from ember.conf import SparkConf  # noqa: E402
from ember.context import SparkContext  # noqa: E402
from ember.errors import EmberError, PythonException, SparkJobError  # noqa: E402
from ember.rdd import RDD  # noqa: E402

__all__ = ["SparkConf", "SparkContext", "RDD", "EmberError", "PythonException", "SparkJobError", "__version__"]
