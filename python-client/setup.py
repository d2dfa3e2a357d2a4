"""Ember's version has one home, the Maven build's ``revision`` in ``.mvn/maven.config`` at the root of the
checkout. This build step reads it and writes ``ember/_version.py``: the package's version (PEP 440: ``0.1.0-SNAPSHOT``
becomes ``0.1.0.dev0``) and the runtime version the client expects of a gateway. A build outside the checkout (the
staging copy ``scripts/build_wheel.py`` makes) keeps the ``_version.py`` the checkout's build wrote."""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
MAVEN_CONFIG = HERE.parent / ".mvn" / "maven.config"
VERSION_FILE = HERE / "ember" / "_version.py"


def maven_revision() -> str | None:
    try:
        text = MAVEN_CONFIG.read_text()
    except OSError:
        return None
    match = re.search(r"-Drevision=(\S+)", text)
    return match.group(1) if match else None


def python_version(revision: str) -> str:
    """Maven's ``X.Y.Z`` or ``X.Y.Z-SNAPSHOT`` as PEP 440."""
    if not re.fullmatch(r"\d+\.\d+\.\d+(-SNAPSHOT)?", revision):
        raise SystemExit(f"setup.py: cannot map the Maven revision {revision!r} of {MAVEN_CONFIG} to a Python "
                         f"version (expected X.Y.Z or X.Y.Z-SNAPSHOT)")
    return revision.replace("-SNAPSHOT", ".dev0")


def version() -> str:
    revision = maven_revision()
    if revision is None:
        if not VERSION_FILE.exists():
            raise SystemExit(f"setup.py: no {MAVEN_CONFIG} and no {VERSION_FILE}: build from the Ember checkout")
        match = re.search(r'^__version__ = "([^"]+)"', VERSION_FILE.read_text(), re.M)
        return match.group(1)
    text = (f'"""Written by setup.py from the Maven revision in .mvn/maven.config; not edited by hand."""\n\n'
            f'__version__ = "{python_version(revision)}"\n'
            f'# The version of the runtime (the gateway bundle\'s, as OSGi spells it) this client was built with.\n'
            f'RUNTIME_VERSION = "{revision.replace("-", ".")}"\n')
    if not VERSION_FILE.exists() or VERSION_FILE.read_text() != text:
        VERSION_FILE.write_text(text)
    return python_version(revision)


setup(version=version())
