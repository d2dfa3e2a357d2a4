"""pytest plugin of the Ember run (``-p ember_errors``): maps what has no Ember counterpart.

One mapping only: where PySpark's tests expect ``py4j.protocol.Py4JJavaError`` (the JVM's SparkException, which
is how PySpark reports a failed job), Ember raises its own ``SparkJobError`` (a failed task's exception is also
one). In each collected test module that imported the name, it becomes a tuple of both classes, which
``assertRaises`` and ``except`` accept; Ember's own modules and py4j keep the real class.
"""

from py4j.protocol import Py4JJavaError

from ember.errors import SparkJobError

JOB_FAILURE = (Py4JJavaError, SparkJobError)


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and getattr(module, "Py4JJavaError", None) is Py4JJavaError:
            module.Py4JJavaError = JOB_FAILURE
