#!/usr/bin/env bash
# Runs every test: JVM unit tests (Surefire), in-framework tests (bnd-testing in a real Felix) and the Python
# end-to-end suite (pytest against the built distribution). Prints one closing line 'N passed, N failed' with the
# totals of all three, and fails if any test failed or any suite ran no test at all.
set -uo pipefail
cd "$(dirname "$0")"

# The venv comes first: the in-framework tests start real Python workers with .venv/bin/python.
./scripts/make-venv.sh || { echo "test.sh: could not set up .venv" >&2; echo "0 passed, 1 failed"; exit 1; }

# Keep going past test failures so every suite runs and is counted; compile errors still stop the build.
mvn -B -ntp install -Dmaven.test.failure.ignore=true -Dbnd.testing.failure.ignore=true
mvn_status=$?
if [ $mvn_status -ne 0 ]; then
  echo "test.sh: the Maven build failed (exit $mvn_status); see above" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
# As build.sh does: the archive the Maven build left covers the boot only; a failed training keeps it.
.venv/bin/python scripts/train_cds.py || echo "test.sh: the class-data-sharing training failed; going on" >&2
rm -f python-client/target/pytest.xml
(cd python-client && ../.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml=target/pytest.xml)

exec .venv/bin/python scripts/count_tests.py
