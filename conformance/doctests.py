"""Runs the ``>>>`` examples of PySpark's ``core/rdd.py`` and ``core/context.py`` on one implementation.

Usage: ``python doctests.py PYSPARK_SOURCE_DIR OUT.json`` where PYSPARK_SOURCE_DIR holds ``core/rdd.py`` and
``core/context.py`` (the baseline venv's installed pyspark). The docstrings are read from the source files with
``ast``, so both runs (PySpark itself, and Ember behind the ``shim/`` package) run the very same examples; each
runs with the globals PySpark's own ``_test()`` gives it: the module's names, and ``sc`` (``local[4]``) with a
checkpoint directory for rdd.py. Writes ``{"rdd": {name: "passed" | "failed: ..."}, "context": {...}}``.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import io
import json
import signal
import sys
import tempfile
from pathlib import Path


def docstrings(source: Path, module: str) -> list[tuple[str, str, int]]:
    """(qualified name, docstring, line) of the module, its classes and their functions, as doctest finds them."""
    tree = ast.parse(source.read_text())
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}"
                text = ast.get_docstring(child, clean=False)
                if text and ">>>" in text:
                    found.append((name, text, child.body[0].lineno))
                if isinstance(child, ast.ClassDef):
                    visit(child, name)

    text = ast.get_docstring(tree, clean=False)
    if text and ">>>" in text:
        found.append((module, text, 1))
    visit(tree, module)
    return found


def module_globals(source: Path, module_name: str) -> dict:
    """The names the module's examples see: its own module's attributes, after each top-level import of its
    source has been run (an import the implementation cannot satisfy is left out)."""
    module = importlib.import_module(module_name)
    names = dict(vars(module))
    tree = ast.parse(source.read_text())
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            try:
                exec(compile(ast.Module([node], []), str(source), "exec"), names)
            except Exception:
                pass
    return names


DOCTEST_TIMEOUT = 120


class TimedOut(BaseException):
    """Raised by the alarm in the example that runs too long (a BaseException, so doctest does not catch it)."""


def _time_out(_signum: int, _frame: object) -> None:
    raise TimedOut()


def run(source_dir: Path) -> dict:
    signal.signal(signal.SIGALRM, _time_out)
    from pyspark import SparkContext
    results: dict[str, dict[str, str]] = {}
    for short, module_name in (("rdd", "pyspark.core.rdd"), ("context", "pyspark.core.context")):
        source = source_dir / "core" / f"{short}.py"
        base = module_globals(source, module_name)
        sc = SparkContext("local[4]", "PythonTest" if short == "rdd" else "context tests")
        checkpoints = tempfile.TemporaryDirectory()
        if short == "rdd":
            sc.setCheckpointDir(checkpoints.name)
        outcomes = {}
        parser = doctest.DocTestParser()
        for name, text, line in docstrings(source, module_name):
            globs = dict(base, sc=sc)
            test = parser.get_doctest(text, globs, name, str(source), line)
            output = io.StringIO()
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            print(f"doctest {name}", file=sys.stderr, flush=True)
            signal.alarm(DOCTEST_TIMEOUT)  # A hanging example fails its docstring instead of the whole run.
            try:
                result = runner.run(test, out=output.write)
                outcomes[name] = "passed" if result.failed == 0 else "failed: " + output.getvalue()[-3000:]
            except TimedOut:
                outcomes[name] = f"failed: timed out after {DOCTEST_TIMEOUT} s\n" + output.getvalue()[-3000:]
            finally:
                signal.alarm(0)
        sc.stop()
        checkpoints.cleanup()
        results[short] = outcomes
    return results


if __name__ == "__main__":
    results = run(Path(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(results, indent=1))
