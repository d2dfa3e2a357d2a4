"""pytest plugin of both runs (``-p isolation``): one failing test does not fail the tests after it.

A test that fails before stopping the SparkContext it made (PySpark's ``sc = SparkContext(); ...; sc.stop()``
with an assertion in between) leaves that context active, and every later test that makes its own context would
fail with "Cannot run multiple SparkContexts at once". After a failed test, a context other than the test class's
shared ``sc`` is stopped. Passing tests are left alone.
"""

import pytest

_failed = set()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if outcome.get_result().failed:
        _failed.add(item.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if item.nodeid not in _failed:
        return
    from pyspark import SparkContext
    active = SparkContext._active_spark_context
    shared = getattr(item.cls, "sc", None) if item.cls is not None else None
    if active is not None and active is not shared:
        active.stop()
