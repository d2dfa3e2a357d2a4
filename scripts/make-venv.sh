#!/usr/bin/env bash
# Creates .venv/ (if missing) with the ember client and its test dependencies, all pinned in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e 'python-client[test]'
