"""Files against PySpark's semantics: textFile, wholeTextFiles, saveAsTextFile, saveAsPickleFile/pickleFile and
addPyFile. Expected lines are computed from the written text the way Hadoop's LineRecordReader splits it."""

from __future__ import annotations

import gzip
import importlib
import os
import uuid
import zipfile
from pathlib import Path

import pytest

from api_support import BIG, MIXED, PARTS, UNICODE, by_repr, hadoop_lines, multiset, slices
from ember import SparkContext

BLOCK_SIZE = 32 * 1024 * 1024  # fs.local.block.size


def hadoop_split_count(sizes: list[int], min_partitions: int, splittable: bool = True) -> int:
    """How many splits the old-API FileInputFormat (what textFile uses) makes of files of these sizes."""
    goal = sum(sizes) // max(min_partitions, 1)
    split = max(1, min(goal, BLOCK_SIZE))
    count = 0
    for size in sizes:
        if size == 0 or not splittable:
            count += 1
            continue
        remaining = size
        while remaining / split > 1.1:
            count += 1
            remaining -= split
        count += 1 if remaining else 0
    return count


def text_with_odd_characters(lines: int) -> str:
    """Lines of varying length with multi-byte characters and characters str.splitlines() would split on, but
    Hadoop does not (form feed, NEL, LINE SEPARATOR, file separator), plus empty lines."""
    odd = ["\x0c", "\x85", "\u2028", "\x1c", "\t", ""]
    rows = []
    for i in range(lines):
        if i % 17 == 0:
            rows.append("")
        else:
            rows.append(f"{i}:" + "üx日"[i % 3] * (i % 41) + odd[i % len(odd)] + UNICODE[i % len(UNICODE)])
    return "\n".join(rows) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


# -- textFile ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("min_partitions", [None, 1, 3, 7])
def test_text_file_single_file(sc: SparkContext, tmp_path: Path, min_partitions: int) -> None:
    text = text_with_odd_characters(3000)
    path = write(tmp_path / "big.txt", text)
    rdd = sc.textFile(str(path), min_partitions)
    expected_parts = hadoop_split_count([path.stat().st_size], min_partitions or sc.defaultMinPartitions)
    assert rdd.getNumPartitions() == expected_parts
    assert rdd.getNumPartitions() >= (min_partitions or 1)
    assert rdd.collect() == hadoop_lines(text)  # lines crossing split boundaries are read once, in order
    assert rdd.count() == len(hadoop_lines(text))


@pytest.mark.parametrize("text", ["", "\n", "one line, no newline", "a\n\nb\n\n", "ü\n日本\n", "x" * 100_000 + "\ny"],
                         ids=["empty", "newline", "no-newline", "blank-lines", "unicode", "long-line"])
@pytest.mark.parametrize("min_partitions", [1, 3, 7])
def test_text_file_shapes(sc: SparkContext, tmp_path: Path, text: str, min_partitions: int) -> None:
    path = write(tmp_path / "f.txt", text)
    assert sc.textFile(str(path), min_partitions).collect() == hadoop_lines(text)


def test_text_file_crlf_line_endings(sc: SparkContext, tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"first\r\nsecond\r\n\r\nlast")
    assert sc.textFile(str(crlf)).collect() == ["first", "second", "", "last"]


def test_text_file_lone_cr_ends_a_line(sc: SparkContext, tmp_path: Path) -> None:
    """Hadoop's LineRecordReader (no custom delimiter) ends a line at LF, CR or CR LF."""
    cr = tmp_path / "cr.txt"
    cr.write_bytes(b"one\rtwo\r\nthree\n")
    assert sc.textFile(str(cr)).collect() == ["one", "two", "three"]


def test_text_file_as_bytes(sc: SparkContext, tmp_path: Path) -> None:
    text = "ü\n日本\nplain\n"
    path = write(tmp_path / "f.txt", text)
    assert sc.textFile(str(path), use_unicode=False).collect() == [line.encode("utf-8") for line in hadoop_lines(text)]


def make_directory(root: Path) -> dict[str, str]:
    root.mkdir()
    texts = {
        "a.txt": "a1 ü\na2\n",
        "b.txt": "b1 日本\n\nb3",
        "c.log": "c1\nc2\n",
        "empty.txt": "",
    }
    for name, text in texts.items():
        write(root / name, text)
    write(root / "_SUCCESS", "hidden\n")
    write(root / ".hidden.txt", "hidden too\n")
    return texts


def test_text_file_directory_glob_and_list(sc: SparkContext, tmp_path: Path) -> None:
    root = tmp_path / "data"
    texts = make_directory(root)
    everything = sc.textFile(str(root)).collect()
    assert multiset(everything) == multiset(line for t in texts.values() for line in hadoop_lines(t))
    for text in texts.values():  # each file's lines keep their order
        lines = hadoop_lines(text)
        assert [x for x in everything if x in lines and x] == [x for x in lines if x]
    txt = sc.textFile(str(root / "*.txt")).collect()
    assert multiset(txt) == multiset(line for name, t in texts.items() if name.endswith(".txt")
                                     for line in hadoop_lines(t))
    listed = sc.textFile(f"{root / 'c.log'},{root / 'a.txt'}").collect()
    assert listed == hadoop_lines(texts["c.log"]) + hadoop_lines(texts["a.txt"])
    assert sc.textFile(f"file://{root / 'a.txt'}").collect() == hadoop_lines(texts["a.txt"])


def test_text_file_glob_skips_hidden_files(sc: SparkContext, tmp_path: Path) -> None:
    """Hadoop's FileInputFormat filters names starting with '_' or '.' out of a glob's matches too."""
    root = tmp_path / "data"
    texts = make_directory(root)
    visible = [line for t in texts.values() for line in hadoop_lines(t)]
    assert multiset(sc.textFile(str(root)).collect()) == multiset(visible)
    assert multiset(sc.textFile(str(root / "*")).collect()) == multiset(visible)


def test_text_file_directory_partitions(sc: SparkContext, tmp_path: Path) -> None:
    root = tmp_path / "data"
    texts = make_directory(root)
    sizes = [len(t.encode("utf-8")) for t in texts.values()]
    for min_partitions in (1, 2, 5):
        assert sc.textFile(str(root), min_partitions).getNumPartitions() == hadoop_split_count(sizes, min_partitions)


def test_text_file_gzip(sc: SparkContext, tmp_path: Path) -> None:
    text = text_with_odd_characters(500)
    gz = tmp_path / "data.txt.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    rdd = sc.textFile(str(gz), 4)
    assert rdd.getNumPartitions() == 1  # gzip cannot be split
    assert rdd.collect() == hadoop_lines(text)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "one.gz").write_bytes(gzip.compress("gz1\ngz2\n".encode()))
    write(mixed / "two.txt", "plain1\nplain2")
    assert multiset(sc.textFile(str(mixed)).collect()) == multiset(["gz1", "gz2", "plain1", "plain2"])


def test_text_file_empty_inputs_and_missing_path(sc: SparkContext, tmp_path: Path) -> None:
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    assert sc.textFile(str(empty_dir)).collect() == []
    assert sc.wholeTextFiles(str(empty_dir)).collect() == []
    write(tmp_path / "empty.txt", "")
    assert sc.textFile(str(tmp_path / "empty.txt")).collect() == []
    with pytest.raises(Exception):
        sc.textFile(str(tmp_path / "does-not-exist")).collect()
    with pytest.raises(Exception):
        sc.textFile(str(tmp_path / "nothing-*.txt")).collect()


# -- wholeTextFiles ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("min_partitions", [None, 1, 3])
def test_whole_text_files(sc: SparkContext, tmp_path: Path, min_partitions: int) -> None:
    root = tmp_path / "data"
    texts = make_directory(root)
    (root / "big.txt").write_text(text_with_odd_characters(400), encoding="utf-8")
    texts["big.txt"] = text_with_odd_characters(400)
    rdd = sc.wholeTextFiles(str(root), min_partitions)
    result = rdd.collect()
    assert len(result) == len(texts)
    assert dict(result) == {"file:" + os.path.abspath(root / name): text for name, text in texts.items()}
    assert rdd.getNumPartitions() >= 1
    only_txt = dict(sc.wholeTextFiles(str(root / "*.txt"), min_partitions).collect())
    assert only_txt == {"file:" + os.path.abspath(root / name): text for name, text in texts.items()
                        if name.endswith(".txt")}
    assert dict(sc.wholeTextFiles(str(root / "a.txt")).collect()) == {
        "file:" + os.path.abspath(root / "a.txt"): texts["a.txt"]}


# -- saveAsTextFile ----------------------------------------------------------------------------------------------------

TEXT_RECORDS = [x for x in MIXED if not isinstance(x, bytes)] + UNICODE


def part_files(directory: Path, suffix: str = "") -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.startswith("part-") and p.name.endswith(suffix))


@pytest.mark.parametrize("n", PARTS)
def test_save_as_text_file(sc: SparkContext, tmp_path: Path, n: int) -> None:
    out = tmp_path / "out"
    assert sc.parallelize(TEXT_RECORDS, n).saveAsTextFile(str(out)) is None
    parts = part_files(out)
    assert [p.name for p in parts] == ["part-%05d" % i for i in range(n)]  # one per partition, empty ones too
    assert (out / "_SUCCESS").exists()
    for part, records in zip(parts, slices(TEXT_RECORDS, n)):
        assert part.read_bytes().decode("utf-8") == "".join(str(x) + "\n" for x in records)
    assert multiset(sc.textFile(str(out)).collect()) == multiset(str(x) for x in TEXT_RECORDS)


def test_save_as_text_file_writes_bytes_as_they_are(sc: SparkContext, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sc.parallelize([b"caf\xc3\xa9", "ü", None, (1, "a")], 1).saveAsTextFile(str(out))
    assert (out / "part-00000").read_bytes() == b"caf\xc3\xa9\n" + "ü\n".encode() + b"None\n" + str((1, "a")).encode() \
        + b"\n"


@pytest.mark.parametrize("n", PARTS)
def test_save_as_text_file_gzip(sc: SparkContext, tmp_path: Path, n: int) -> None:
    out = tmp_path / "gz"
    sc.parallelize(TEXT_RECORDS, n).saveAsTextFile(str(out), "org.apache.hadoop.io.compress.GzipCodec")
    parts = part_files(out)
    assert [p.name for p in parts] == ["part-%05d.gz" % i for i in range(n)]
    for part, records in zip(parts, slices(TEXT_RECORDS, n)):
        assert gzip.decompress(part.read_bytes()).decode("utf-8") == "".join(str(x) + "\n" for x in records)
    assert multiset(sc.textFile(str(out)).collect()) == multiset(str(x) for x in TEXT_RECORDS)


def test_save_as_text_file_target_exists(sc: SparkContext, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rdd = sc.parallelize(["a", "b"], 2)
    rdd.saveAsTextFile(str(out))
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(FileExistsError):
        rdd.saveAsTextFile(str(out))
    assert sorted(p.name for p in out.iterdir()) == before
    existing = tmp_path / "made-by-hand"
    existing.mkdir()
    with pytest.raises(FileExistsError):
        rdd.saveAsTextFile(str(existing))
    with pytest.raises(FileExistsError):
        rdd.saveAsTextFile(str(out), "org.apache.hadoop.io.compress.GzipCodec")


def test_save_empty_rdd_as_text_file(sc: SparkContext, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    sc.parallelize([], 3).saveAsTextFile(str(out))
    assert [p.read_bytes() for p in part_files(out)] == [b"", b"", b""]
    assert sc.textFile(str(out)).collect() == []


# -- pickle files ------------------------------------------------------------------------------------------------------

PICKLED = MIXED + [{"k": [1, None], "ü": (BIG,)}, {1, 2}, [BIG, [None]], 1.5e300, complex(1, -2)]


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("batch_size", [1, 3, 10])
def test_pickle_file_round_trip(sc: SparkContext, tmp_path: Path, n: int, batch_size: int) -> None:
    out = tmp_path / "pickled"
    sc.parallelize(PICKLED, n).saveAsPickleFile(str(out), batch_size)
    assert len(part_files(out)) == n
    back = sc.pickleFile(str(out))
    assert by_repr(back.collect()) == by_repr(PICKLED)
    assert by_repr(sc.pickleFile(str(out), 3).collect()) == by_repr(PICKLED)
    assert back.count() == len(PICKLED)


def test_pickle_file_of_empty_rdd(sc: SparkContext, tmp_path: Path) -> None:
    out = tmp_path / "pickled"
    sc.parallelize([], 2).saveAsPickleFile(str(out))
    assert sc.pickleFile(str(out)).collect() == []


# -- addPyFile ---------------------------------------------------------------------------------------------------------

def test_add_py_file(sc: SparkContext, tmp_path: Path) -> None:
    name = f"ember_pyfile_{uuid.uuid4().hex}"
    directory = tmp_path / "pyfiles"
    directory.mkdir()
    module_file = directory / f"{name}.py"
    module_file.write_text(
        "import os\n"
        "FACTOR = 3\n"
        "def triple(x):\n"
        "    return x * FACTOR\n"
        "def origin(_x):\n"
        "    return os.path.realpath(__file__), os.getpid()\n")
    sc.addPyFile(str(module_file))
    module = importlib.import_module(name)
    data = list(range(20)) + [BIG]
    assert sc.parallelize(data, 3).map(module.triple).collect() == [module.triple(x) for x in data]
    assert sc.parallelize(data, 3).map(lambda x: module.triple(x) + 1).collect() == [x * 3 + 1 for x in data]
    origins = sc.parallelize(range(4), 2).map(module.origin).collect()
    # Workers import the copy addPyFile made (on a cluster, the copy shipped to their member), as PySpark's do.
    assert {os.path.basename(path) for path, _ in origins} == {module_file.name}
    assert os.path.realpath(module_file) not in {path for path, _ in origins}
    assert all(pid != os.getpid() for _, pid in origins)  # it really ran, and imported the file, in a worker


def test_add_py_file_zip(sc: SparkContext, tmp_path: Path) -> None:
    package = f"ember_pyzip_{uuid.uuid4().hex}"
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"{package}/__init__.py", "from .tools import shout\n")
        z.writestr(f"{package}/tools.py", "def shout(s):\n    return s.upper() + '!'\n")
    sc.addPyFile(str(archive))
    module = importlib.import_module(package)
    assert sc.parallelize(UNICODE, 3).map(module.shout).collect() == [s.upper() + "!" for s in UNICODE]


def test_add_py_file_missing(sc: SparkContext, tmp_path: Path) -> None:
    with pytest.raises(Exception):
        sc.addPyFile(str(tmp_path / "missing.py"))


def test_workers_import_the_copy_add_py_file_made(run_driver, tmp_path) -> None:
    from conftest import driver_result
    source = tmp_path / "src"
    source.mkdir()
    (source / "ember_copied_module.py").write_text("VALUE = 'original'\n")
    (source / "ember_neighbour_module.py").write_text("VALUE = 'neighbour'\n")
    proc = run_driver(f"""
        import os, sys
        from ember import SparkContext
        sc = SparkContext("local[2]", "copies")
        sc.addPyFile({str(source / "ember_copied_module.py")!r})
        # The source changes and goes after the call; the workers must still see what was added.
        with open({str(source / "ember_copied_module.py")!r}, "w") as f:
            f.write("VALUE = 'changed'\\n")
        def probe(_):
            import ember_copied_module
            try:
                import ember_neighbour_module  # beside the source only, never added
                neighbour = True
            except ImportError:
                neighbour = False
            return (ember_copied_module.VALUE, neighbour)
        os.remove({str(source / "ember_copied_module.py")!r})
        report(sc.parallelize([0, 1], 2).map(probe).collect())
        sc.stop()
    """)
    assert driver_result(proc) == [["original", False], ["original", False]]
