"""addFile/addPyFile/addArchive with SparkFiles, reliable and local checkpoints, and binaryFiles/binaryRecords."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import TEST_MASTER
from ember import SparkContext, SparkFiles


def test_add_file_and_directory_reach_tasks_through_spark_files(sc: SparkContext, tmp_path: Path) -> None:
    source = tmp_path / "fixture"
    (source / "sub").mkdir(parents=True)
    (source / "greeting.txt").write_text("Hello World!\n")
    (source / "sub" / "inner.txt").write_text("Sub Hello World!\n")
    sc.addFile(str(source / "greeting.txt"))
    sc.addFile(str(source), recursive=True)
    with pytest.raises(ValueError, match="directory and recursive is not turned on"):
        sc.addFile(str(source / "sub"))

    def read(_):
        with open(SparkFiles.get("greeting.txt")) as a, open(os.path.join(SparkFiles.get("fixture"), "sub",
                                                                          "inner.txt")) as b:
            return a.read(), b.read(), SparkFiles.getRootDirectory()

    results = sc.parallelize([0, 1], 2).map(read).collect()
    root = SparkFiles.getRootDirectory()
    if TEST_MASTER.startswith("local"):
        assert results == [("Hello World!\n", "Sub Hello World!\n", root)] * 2
    else:  # a cluster's workers read the copies shipped to their member
        assert [result[:2] for result in results] == [("Hello World!\n", "Sub Hello World!\n")] * 2
        assert root not in {result[2] for result in results}
    assert SparkFiles.get("greeting.txt") != str(source / "greeting.txt")  # a copy, as PySpark's
    (source / "greeting.txt").write_text("changed")  # the copy was made when added
    assert sc.parallelize([0], 1).map(read).collect()[0][0] == "Hello World!\n"
    # (The shared context also lists what other tests added.)
    assert {"file:" + str(source / "greeting.txt"), "file:" + str(source)} <= set(sc.listFiles)
    sc.addFile(str(source / "greeting.txt"))  # the same path again: nothing happens
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "greeting.txt").write_text("other")
    with pytest.raises(ValueError, match="already registered with a different path"):
        sc.addFile(str(other / "greeting.txt"))
    with pytest.raises(FileNotFoundError):
        sc.addFile(str(tmp_path / "missing.txt"))


def test_add_py_file_and_archive(sc: SparkContext, tmp_path: Path) -> None:
    module = tmp_path / "ember_test_addpy_module.py"
    module.write_text("def hello():\n    return 'from an added module'\n")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("numbers.txt", "100")
    sc.addPyFile(str(module))
    sc.addArchive(str(archive))
    sc.addArchive(str(archive))  # again: ignored

    def use(x):
        import ember_test_addpy_module
        with open(os.path.join(SparkFiles.get("data.zip"), "numbers.txt")) as f:
            return ember_test_addpy_module.hello(), int(f.read()) * x, os.path.exists(
                SparkFiles.get("ember_test_addpy_module.py"))

    assert sc.parallelize([1, 2], 2).map(use).collect() == [("from an added module", 100, True),
                                                           ("from an added module", 200, True)]
    assert sc.listArchives == ["file:" + str(archive)]
    with pytest.raises(ValueError, match="Unsupported archive"):
        sc.addArchive(str(module))


def test_py_files_argument_makes_modules_importable_in_tasks(run_driver, result_of, tmp_path: Path) -> None:
    module = tmp_path / "lib" / "ember_pyfiles_module.py"
    module.parent.mkdir()
    module.write_text("VALUE = 42\n")
    proc = run_driver(f"""
        from ember import SparkContext
        sc = SparkContext("local[2]", "pyfiles", pyFiles=[{str(module)!r}])

        def value(_):
            import ember_pyfiles_module
            return ember_pyfiles_module.VALUE

        report(sc.parallelize([0, 1], 2).map(value).collect())
        sc.stop()
    """)
    assert result_of(proc) == [42, 42]


def test_a_reliable_checkpoint_cuts_the_lineage_and_survives_dropped_shuffles(sc: SparkContext,
                                                                               tmp_path: Path) -> None:
    sc.setCheckpointDir(str(tmp_path / "checkpoints"))
    checkpoint_dir = sc.getCheckpointDir()
    assert checkpoint_dir.startswith("file:" + str(tmp_path / "checkpoints") + "/")
    pairs = sc.parallelize(range(100), 4).map(lambda x: (x % 7, x))
    summed = pairs.reduceByKey(lambda a, b: a + b)
    marked = summed.mapValues(lambda v: v * 10)
    marked.checkpoint()
    assert marked.is_checkpointed and not marked.isCheckpointed() and marked.getCheckpointFile() is None
    expected = {k: 10 * sum(x for x in range(100) if x % 7 == k) for k in range(7)}
    assert dict(marked.collect()) == expected
    assert marked.isCheckpointed()
    directory = marked.getCheckpointFile()
    assert os.path.dirname(directory) == checkpoint_dir
    parts = sorted(p.name for p in Path(directory[len("file:"):]).iterdir())
    assert parts == ["_SUCCESS"] + [f"part-{i:05d}" for i in range(marked.getNumPartitions())]
    assert "ReliableCheckpointRDD" in marked.toDebugString().decode() and "ShuffledRDD" not in \
        marked.toDebugString().decode()
    sc._session.dropShuffle(summed._parents[0]._shuffle_id)  # the shuffle it came from is gone
    assert dict(marked.collect()) == expected
    assert dict(marked.map(lambda kv: (kv[0], kv[1] + 1)).collect()) == {k: v + 1 for k, v in expected.items()}


def test_checkpoint_without_a_directory_fails_clearly(run_driver, result_of) -> None:
    proc = run_driver("""
        from ember import SparkContext
        sc = SparkContext("local[1]", "no-dir")
        try:
            sc.parallelize([1]).checkpoint()
            report("no error")
        except RuntimeError as e:
            report(str(e))
        sc.stop()
    """)
    assert "Checkpoint directory has not been set" in result_of(proc)


def test_local_checkpoint_persists_and_is_marked_at_once(sc: SparkContext, tmp_path: Path) -> None:
    computed = tmp_path / "computed"
    computed.mkdir()

    def record(split, iterator):
        (computed / f"{split}-{len(list(computed.iterdir()))}").touch()
        return (x * x for x in iterator)

    rdd = sc.parallelize(range(6), 2).mapPartitionsWithIndex(record)
    rdd.localCheckpoint()
    assert rdd.isLocallyCheckpointed() and not rdd.isCheckpointed()
    assert rdd.collect() == [x * x for x in range(6)]
    assert rdd.isCheckpointed() and rdd.getCheckpointFile() is None
    assert rdd.sum() == sum(x * x for x in range(6))
    assert len(list(computed.iterdir())) == 2  # computed once, kept in the engine


def test_binary_files_and_records(sc: SparkContext, tmp_path: Path) -> None:
    (tmp_path / "1.bin").write_bytes(b"0000" + b"0001" + b"\x00\xffab")
    (tmp_path / "2.bin").write_bytes(b"-001")
    assert sorted(sc.binaryFiles(str(tmp_path)).collect()) == [
        ("file:" + str(tmp_path / "1.bin"), b"00000001\x00\xffab"), ("file:" + str(tmp_path / "2.bin"), b"-001")]
    assert sorted(sc.binaryRecords(str(tmp_path), 4).collect()) == sorted([b"-001", b"0000", b"0001", b"\x00\xffab"])
    (tmp_path / "3.bin").write_bytes(b"123")
    with pytest.raises(ValueError, match="partial record of 3 bytes"):
        sc.binaryRecords(str(tmp_path), 4).collect()
    shutil.rmtree(tmp_path)
