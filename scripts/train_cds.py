"""Rebuilds the distribution's class-data-sharing archive from a real session: boot, jobs, stop.

    .venv/bin/python scripts/train_cds.py [EMBER_HOME]

The Maven build already leaves an archive from a bare boot (launcher/pom.xml); that one misses every class the
first job loads (the Py4J command path, plan parsing, the engine's task path, the codecs), which then come from the
jars and are verified on the way to the first result. This driver runs the common job shapes once against the built
distribution with -XX:ArchiveClassesAtExit, so the archive holds them too. build.sh and test.sh run it after the
client's venv exists; if it fails, the bare-boot archive stays and only the start-up is slower.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def exercise(home: Path) -> None:
    from ember import SparkContext

    work = Path(tempfile.mkdtemp(prefix="ember-cds-"))
    try:
        sc = SparkContext("local[2]", "cds-training")
        words = ["a b", "b c", "c a b"]
        assert sc.parallelize([1]).count() == 1
        assert sc.parallelize(range(100), 4).map(lambda x: x * 2).filter(lambda x: x % 3).sum() == sum(
            x * 2 for x in range(100) if (x * 2) % 3)
        counts = sc.parallelize(words, 2).flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)
        assert sorted(counts.collect()) == [("a", 2), ("b", 3), ("c", 2)]
        left = sc.parallelize([(1, "x"), (2, "y")])
        assert sorted(left.join(sc.parallelize([(1, 10)])).collect()) == [(1, ("x", 10))]
        assert sorted((k, sorted(v)) for k, v in left.groupByKey().collect()) == [(1, ["x"]), (2, ["y"])]
        cached = sc.parallelize(range(10), 2).cache()
        assert cached.count() == 10 and cached.take(2) == [0, 1]
        factor = sc.broadcast(3)
        total = sc.accumulator(0)
        sc.parallelize(range(5)).foreach(lambda x: total.add(x * factor.value))
        assert total.value == 30
        sc.parallelize(words, 2).saveAsTextFile(str(work / "text"))
        assert sorted(sc.textFile(str(work / "text")).collect()) == sorted(words)
        sc.parallelize([{"k": 1}]).saveAsJsonFile(str(work / "json"))
        assert sc.jsonFile(str(work / "json")).collect() == [{"k": 1}]
        # The tools a driver-launched JVM starts a moment after the gateway (FileInstall, Gogo) load their classes
        # in that moment.
        time.sleep(1.5)
        sc.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    home = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("EMBER_HOME", ROOT / "launcher/target/ember"))
    archive = home / "lib" / "ember.jsa"
    fresh = home / "lib" / "ember.jsa.training"
    fresh.unlink(missing_ok=True)
    os.environ["EMBER_HOME"] = str(home)
    os.environ["EMBER_NO_CDS"] = "1"  # Trained on top of the JDK's own archive, as bin/ember's is.
    os.environ["EMBER_JAVA_OPTS"] = f"-XX:ArchiveClassesAtExit={fresh} -Xlog:cds=off -Xlog:cds+dynamic=off"
    try:
        exercise(home)
    except Exception as e:  # noqa: BLE001 (any failure leaves the bare-boot archive in place)
        print(f"train_cds: the training session failed, keeping the bare-boot archive: {e!r}", file=sys.stderr)
        fresh.unlink(missing_ok=True)
        return 1
    # The JVM writes the archive as it exits, which SparkContext.stop() waits for.
    if not fresh.is_file() or fresh.stat().st_size == 0:
        print("train_cds: the JVM wrote no archive; keeping the bare-boot one", file=sys.stderr)
        return 1
    os.replace(fresh, archive)
    print(f"train_cds: {archive} ({archive.stat().st_size >> 20} MiB) from a full session")
    return 0


if __name__ == "__main__":
    sys.exit(main())
