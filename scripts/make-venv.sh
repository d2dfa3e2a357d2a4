#!/usr/bin/env bash
# Creates .venv/ (if missing) with the ember client and its test dependencies, all pinned in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# setuptools as the client's build pins it: scripts/build_wheel.py builds the wheel with it, without isolation.
.venv/bin/python -m pip install -q --disable-pip-version-check 'setuptools==75.6.0'
.venv/bin/python -m pip install -q --disable-pip-version-check -e 'python-client[test]'
# pip byte-compiles what it installs, but not an editable install's sources; compile them here, so neither drivers
# nor workers compile Ember's modules at every start (nothing else would where PYTHONDONTWRITEBYTECODE is set).
.venv/bin/python -m compileall -q python-client/ember
