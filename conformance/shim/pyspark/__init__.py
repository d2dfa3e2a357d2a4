"""A stand-in ``pyspark`` package for running PySpark's own tests against Ember (conformance harness only).

It is not part of Ember and is never installed: ``conformance/run.py`` puts this directory first on the path of
the Ember run. Each module here re-exports Ember's implementation under PySpark's module names, so a test written
for PySpark exercises Ember's code and nothing else; what PySpark has and Ember does not is simply missing here,
and the tests that need it fail (or are listed out of scope in ../../out_of_scope.tsv).
"""

import sys

import ember
from ember import (Accumulator, AccumulatorParam, BarrierTaskContext, BarrierTaskInfo, Broadcast, RDD, RDDBarrier,
                   InheritableThread, SparkConf, SparkContext, SparkFiles, StatCounter, StorageLevel, TaskContext,
                   inheritable_thread_target)
from ember import conf, context, rdd, shared, sparkfiles, sql, statcounter, storagelevel, taskcontext
from ember.rdd import Partitioner

__version__ = ember.PYSPARK_API_VERSION


def _alias(name, module):
    sys.modules[name] = module


# PySpark's module layout, each name an Ember module.
from pyspark import _absent  # noqa: E402
_alias("pyspark.conf", conf)
_alias("pyspark.context", context)
_alias("pyspark.core.context", context)
_alias("pyspark.rdd", rdd)
_alias("pyspark.core.rdd", rdd)
_alias("pyspark.taskcontext", taskcontext)
_alias("pyspark.files", sparkfiles)
_alias("pyspark.statcounter", statcounter)
_alias("pyspark.storagelevel", storagelevel)
_alias("pyspark.broadcast", shared)
_alias("pyspark.accumulators", shared)
_absent.register("pyspark.sql", SparkSession=sql.SparkSession, is_remote=sql.is_remote)
_absent.register("pyspark.util", InheritableThread=InheritableThread,
                 inheritable_thread_target=inheritable_thread_target)

# PySpark internals without an Ember counterpart: importable, unusable (see _absent).
_absent.register("pyspark.serializers", "pyspark.shuffle", "pyspark.resource", "pyspark.resource.requests",
                 "pyspark.resource.profile", "pyspark.rddsampler", "pyspark.java_gateway", "pyspark.find_spark_home",
                 "pyspark.loose_version", "pyspark.worker_metrics", "pyspark.cloudpickle", "pyspark.daemon",
                 "pyspark.worker", "pyspark.errors", "pyspark.profiler")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _absent._Absent(f"pyspark.{name}")
