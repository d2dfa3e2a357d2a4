"""PySpark's ``pyspark.core`` package: its modules are aliased to Ember's in ``pyspark/__init__.py``."""
