"""``SPARK_HOME`` for PySpark's tests: the fetched copy of Spark's ``python/test_support`` lives under it."""

import os

SPARK_HOME = os.environ.get("EMBER_CONFORMANCE_SPARK_HOME", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "pyspark-tests"))
