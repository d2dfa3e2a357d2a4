"""The examples in the API's docstrings run against the shared ``sc`` and print what they show, and every public
method and property of the documented classes has one.

Each docstring is one test (``test_docstring_examples[ember.rdd.RDD.map]``), so a wrong example fails by name and
the report shows the example, what it expected and what it got. The examples run in the pytest process, on the
session's context, with ``sc`` in their globals as PySpark's doctests have it.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import sys
from typing import Any, Iterator, Optional

import pytest

from ember import SparkContext

# The modules whose docstrings are run, and the classes of each that must show an example for every public method
# and property (and for themselves).
DOCUMENTED: dict[str, list[str]] = {
    "ember.rdd": ["RDD", "RDDBarrier", "ResultIterable"],
    "ember.context": ["SparkContext"],
    "ember.conf": ["SparkConf"],
    "ember.shared": ["Broadcast", "Accumulator", "AccumulatorParam"],
    "ember.statcounter": ["StatCounter"],
    "ember.storagelevel": ["StorageLevel"],
    "ember.taskcontext": ["TaskContext", "BarrierTaskContext"],
    "ember.sparkfiles": ["SparkFiles"],
}

# Public methods without an example, each with the reason. The test fails if one of them gets an example (so the
# entry goes) or no longer exists.
WITHOUT_EXAMPLES: dict[str, str] = {
    "SparkContext.stop": "an example would stop the session's shared context that every later example and test "
                         "uses; test_startup_and_api and test_processes stop contexts of their own",
}


def _find(module: Any, globs: Optional[dict[str, Any]] = None) -> list[doctest.DocTest]:
    """The docstrings of ``module`` (and of what it defines) that have examples."""
    return [test for test in doctest.DocTestFinder().find(module, globs=globs) if test.examples]


def _docstring_tests() -> list[str]:
    return sorted(test.name for module_name in DOCUMENTED for test in _find(importlib.import_module(module_name)))


DOCSTRING_TESTS = _docstring_tests()


def _public_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The methods, class methods and properties ``cls`` defines itself, without a leading underscore."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (classmethod, staticmethod)):
            yield name, member.__func__
        elif isinstance(member, property) or inspect.isfunction(member):
            yield name, member


@pytest.fixture
def isolated_context_state(sc: SparkContext) -> Iterator[None]:
    """Runs an example with none of this thread's local properties (job group, tags, ...) that earlier tests left,
    and afterwards puts back what later tests of the shared context may look at: the local properties, the
    checkpoint directory (examples set it to directories they delete), the files, Python files and archives listed
    as added (listFiles, listArchives; the copies stay in the files directory, under names no test uses) and
    sys.path (addPyFile puts a directory on it)."""
    properties = sc._local_properties()
    saved_properties = dict(properties)
    saved_checkpoint_dir = sc._checkpoint_dir
    saved_files, saved_archives = dict(sc._added_files), dict(sc._added_archives)
    saved_py_files = list(sc._py_files)
    saved_path = list(sys.path)
    properties.clear()
    try:
        yield
    finally:
        properties.clear()
        properties.update(saved_properties)
        sc._checkpoint_dir = saved_checkpoint_dir
        sc._added_files.clear()
        sc._added_files.update(saved_files)
        sc._added_archives.clear()
        sc._added_archives.update(saved_archives)
        sc._py_files[:] = saved_py_files
        sys.path[:] = saved_path


@pytest.mark.parametrize("name", DOCSTRING_TESTS)
def test_docstring_examples(sc: SparkContext, isolated_context_state: None, name: str) -> None:
    module_name = next(m for m in DOCUMENTED if name == m or name.startswith(m + "."))
    module = importlib.import_module(module_name)
    [test] = [t for t in _find(module, globs={**vars(module), "sc": sc}) if t.name == name]
    report: list[str] = []
    runner = doctest.DocTestRunner(verbose=False)
    result = runner.run(test, out=report.append)
    assert result.attempted == len(test.examples) > 0
    assert result.failed == 0, (f"{result.failed} of {result.attempted} examples of {name} failed:\n"
                                + "".join(report))


def test_every_public_method_and_property_has_an_example() -> None:
    missing, listed = [], set()
    for module_name, class_names in DOCUMENTED.items():
        module = importlib.import_module(module_name)
        for class_name in class_names:
            cls = getattr(module, class_name)
            if ">>>" not in (cls.__doc__ or ""):
                missing.append(class_name)
            for name, member in _public_members(cls):
                qualified = f"{class_name}.{name}"
                has_example = ">>>" in (member.__doc__ or "")
                if qualified in WITHOUT_EXAMPLES:
                    listed.add(qualified)
                    assert not has_example, f"{qualified} has an example now: remove it from WITHOUT_EXAMPLES"
                elif not has_example:
                    missing.append(qualified)
    assert not missing, f"these have no docstring example (>>>): {', '.join(missing)}"
    assert listed == set(WITHOUT_EXAMPLES), f"WITHOUT_EXAMPLES names what does not exist: " \
                                            f"{sorted(set(WITHOUT_EXAMPLES) - listed)}"


def test_the_examples_are_many_and_found() -> None:
    """Guards the collection above: a finder that found nothing would make the examples' test vacuous."""
    examples = 0
    for module_name in DOCUMENTED:
        examples += sum(len(t.examples) for t in _find(importlib.import_module(module_name)))
    assert len(DOCSTRING_TESTS) > 150 and examples > 500, (len(DOCSTRING_TESTS), examples)
