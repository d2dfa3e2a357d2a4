"""One version for the runtime and the client (the Maven revision in .mvn/maven.config), and a clear refusal when a
client meets a gateway of another release."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import RunDriver, driver_result

import ember
from ember import SparkContext

ROOT = Path(__file__).resolve().parents[2]


def maven_revision() -> str:
    match = re.search(r"-Drevision=(\S+)", (ROOT / ".mvn" / "maven.config").read_text())
    assert match, "no revision in .mvn/maven.config"
    return match.group(1)


def test_client_and_runtime_versions_come_from_the_maven_revision(sc: SparkContext) -> None:
    revision = maven_revision()
    release = revision.removesuffix("-SNAPSHOT")
    assert ember.__version__ == (release + ".dev0" if revision.endswith("-SNAPSHOT") else release)
    # The gateway bundle's Bundle-Version: X.Y.Z, with a build stamp for snapshots.
    assert sc._entry.version().split(".")[:3] == release.split(".")


CLIENT_OF_ANOTHER_RELEASE = """
    import logging
    import ember
    records = []
    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    logging.getLogger("ember").addHandler(Keep())
    ember.RUNTIME_VERSION = {version!r}  # as a client built for that release would have it
    from ember import SparkContext
    try:
        sc = SparkContext("local[2]", "versions")
        outcome = {{"count": sc.parallelize(range(3)).count()}}
        sc.stop()
    except Exception as e:
        outcome = {{"error": type(e).__name__ + ": " + str(e)}}
    outcome["warnings"] = records
    report(outcome)
"""


def test_a_client_of_another_release_is_refused_with_what_to_install(run_driver: RunDriver) -> None:
    outcome = driver_result(run_driver(CLIENT_OF_ANOTHER_RELEASE.format(version="9.7.0")))
    release = maven_revision().removesuffix("-SNAPSHOT")
    major_minor = ".".join(release.split(".")[:2])
    error = outcome.get("error", "")
    assert error.startswith("EmberStartError: This ember client is"), outcome
    assert "(runtime 9.7.0)" in error and f"runs {release}" in error
    assert f"pip install 'ember=={major_minor}.*'" in error


def test_another_micro_version_runs_with_a_warning(run_driver: RunDriver) -> None:
    major, minor, micro = maven_revision().removesuffix("-SNAPSHOT").split(".")
    other = f"{major}.{minor}.{int(micro) + 1}"
    outcome = driver_result(run_driver(CLIENT_OF_ANOTHER_RELEASE.format(version=other)))
    assert outcome.get("count") == 3, outcome
    assert any(f"this client {other}" in message for message in outcome["warnings"]), outcome
