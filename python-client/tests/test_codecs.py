"""The codecs end to end: textFile/jsonFile read by the JVM through dev.ember.codec.text/json, saveAsTextFile and
saveAsJsonFile written by it, property-tested against plain Python (re for line splitting, json for documents)."""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ember import MalformedInputError, SparkContext, SparkJobError
from ember import serializers as ser

from conftest import EMBER_DIST, RunDriver, driver_result

E2E = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def reference_lines(data: bytes) -> list[bytes]:
    """Lines as Hadoop ends them (LF, CR or CR LF), independently of Ember."""
    parts = re.split(rb"\r\n|\r|\n", data)
    if parts and parts[-1] == b"":
        parts.pop()
    return parts


line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30)
terminators = st.sampled_from([b"\n", b"\r", b"\r\n"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12)


# -- the payload formats, in Python alone ------------------------------------------------------------------------

@given(st.lists(line_text, max_size=20))
def test_text_frames_round_trip(records: list[str]) -> None:
    frame = b"".join(ser.encode_text(r) + b"\n" for r in records)
    assert ser.loads_text(frame) == records


@given(st.lists(json_values, max_size=10))
def test_json_frames_round_trip_as_python_json_would(records: list) -> None:
    frame = b"".join(ser.encode_json(r) + b"\n" for r in records)
    assert ser.loads_json(frame) == json.loads(json.dumps(records))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1.0, math.nan], {"x": math.inf}])
def test_json_refuses_nan_and_infinity(bad: object) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        ser.encode_json(bad)


# -- reading with the JVM ----------------------------------------------------------------------------------------

@E2E
@given(lines=st.lists(line_text, max_size=40), ends=st.lists(terminators, min_size=40, max_size=40),
       final=st.booleans(), partitions=st.integers(1, 7))
def test_text_file_reads_every_line_once_in_any_number_of_splits(sc: SparkContext, tmp_path: Path, lines: list[str],
                                                                  ends: list[bytes], final: bool,
                                                                  partitions: int) -> None:
    data = b"".join(line.encode() + (ends[i] if i < len(lines) - 1 or final else b"")
                    for i, line in enumerate(lines))
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    rdd = sc.textFile(str(path), partitions)
    assert rdd.collect() == [line.decode() for line in reference_lines(data)]
    assert sc.textFile(str(path), partitions, use_unicode=False).collect() == reference_lines(data)


@E2E
@given(records=st.lists(line_text, max_size=30), partitions=st.integers(1, 5))
def test_save_as_text_file_round_trips(sc: SparkContext, tmp_path_factory: pytest.TempPathFactory,
                                       records: list[str], partitions: int) -> None:
    out = tmp_path_factory.mktemp("save") / "out"
    sc.parallelize(records, partitions).saveAsTextFile(str(out))
    assert sorted(os.listdir(out)) == ["_SUCCESS"] + [f"part-{i:05d}" for i in range(partitions)]
    assert sc.textFile(str(out)).collect() == records


@E2E
@given(records=st.lists(json_values, max_size=30), partitions=st.integers(1, 4), gz=st.booleans())
def test_json_files_round_trip_as_python_json_would(sc: SparkContext, tmp_path_factory: pytest.TempPathFactory,
                                                    records: list, partitions: int, gz: bool) -> None:
    out = tmp_path_factory.mktemp("json") / "out"
    sc.parallelize(records, partitions).saveAsJsonFile(
        str(out), "org.apache.hadoop.io.compress.GzipCodec" if gz else None)
    if gz:
        assert all(p.name.endswith(".gz") for p in out.glob("part-*"))
    assert sc.jsonFile(str(out)).collect() == json.loads(json.dumps(records))
    # The files are plain JSON lines that Python reads the same way.
    opener = gzip.open if gz else open
    from_files = []
    for part in sorted(out.glob("part-*")):
        with opener(part, "rt", encoding="utf-8") as f:
            from_files.extend(json.loads(line) for line in f)
    assert from_files == json.loads(json.dumps(records))


json_ish = st.text(st.sampled_from(list('{}[]",:0123456789.eE+- \tabtrufalsenulNIny\\') + ["\x01", "é"]),
                   max_size=12)


@E2E
@given(st.lists(json_ish, min_size=1, max_size=30))
def test_jvm_accepts_exactly_the_lines_python_json_accepts(sc: SparkContext, tmp_path: Path,
                                                           lines: list[str]) -> None:
    """A differential test of gson's strict checking against Python's json module. Ember's one deliberate
    difference: NaN and Infinity, which Python accepts and JSON does not."""
    def python_accepts(line: str) -> bool:
        if not line.strip():
            return False  # Blank lines are ignored, not records.
        try:
            value = json.loads(line)
        except ValueError:
            return False
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            return bool(re.search(r"\d[eE]", line))  # 1e999 overflows to inf in Python; gson reads the number.
        return True

    path = tmp_path / "fuzz.json"
    path.write_bytes("".join(line.replace("\n", " ").replace("\r", " ") + "\n" for line in lines).encode())
    cleaned = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    rdd = sc.jsonFile(str(path), mode="DROPMALFORMED")
    got = rdd.collect()
    expected = [json.loads(line) for line in cleaned if python_accepts(line)]
    assert json.dumps(got) == json.dumps(expected)
    assert rdd.malformedCount() == sum(1 for line in cleaned if line.strip() and not python_accepts(line))


def test_empty_files_and_empty_partitions(sc: SparkContext, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert sc.textFile(str(tmp_path / "empty.txt")).collect() == []
    out = tmp_path / "out"
    sc.parallelize([], 3).saveAsTextFile(str(out))
    assert [p.stat().st_size for p in sorted(out.glob("part-*"))] == [0, 0, 0]
    assert sc.textFile(str(out)).collect() == []


def test_a_line_over_64_mib_streams_through(sc: SparkContext, tmp_path: Path) -> None:
    big = "é" * (33 * 1024 * 1024)  # 66 MiB of UTF-8 on one line
    path = tmp_path / "big.txt"
    path.write_text("a\n" + big + "\nz\n", encoding="utf-8")
    assert sc.textFile(str(path), 4).map(len).collect() == [1, len(big), 1]


# -- errors --------------------------------------------------------------------------------------------------------

def test_invalid_utf8_names_file_line_and_byte_offset_like_python(sc: SparkContext, tmp_path: Path) -> None:
    data = "ligne un\nzwei\r\n".encode() + b"caf\xe9 au lait\n" + b"fin\n"
    path = tmp_path / "latin1.txt"
    path.write_bytes(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        python_offset = e.start
    with pytest.raises(MalformedInputError) as raised:
        sc.textFile(str(path), 3).collect()
    message = str(raised.value)
    assert f"{path}: line 3 (byte offset {python_offset}): invalid UTF-8 (byte 0xe9)" in message
    assert "use_unicode=False" in message
    assert isinstance(raised.value, ValueError)
    # Bytes when asked for, replacement characters when configured.
    assert sc.textFile(str(path), use_unicode=False).collect()[2] == b"caf\xe9 au lait"


def test_replace_policy_for_invalid_utf8(run_driver: RunDriver, tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xff\xfeend\n")
    proc = run_driver(f'''
from ember import SparkConf, SparkContext
sc = SparkContext("local[1]", "replace", conf=SparkConf().set("spark.ember.text.malformed", "replace"))
report(sc.textFile({str(path)!r}).collect())
''')
    assert driver_result(proc) == ["ok", "\ufffd\ufffdend"]
    assert b"\xff\xfeend".decode("utf-8", "replace") == "\ufffd\ufffdend"


def test_malformed_json_names_file_line_and_text_or_is_skipped_and_counted(sc: SparkContext, tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"a": 1}\n\n{"b": [1, 2}\n"ok"\nNaN\n', encoding="utf-8")
    with pytest.raises(MalformedInputError, match=re.escape(f"{path}: line 3 (byte offset 10): not valid JSON")
                       + r".*: \{\"b\": \[1, 2\}"):
        sc.jsonFile(str(path), 1).collect()  # one split: the first malformed line is the one reported
    rdd = sc.jsonFile(str(path), mode="DROPMALFORMED")
    assert rdd.collect() == [{"a": 1}, "ok"]
    assert rdd.malformedCount() == 2
    with pytest.raises(ValueError, match="mode must be one of"):
        sc.jsonFile(str(path), mode="PERMISSIVE")


def test_truncated_gzip_fails_clearly_without_hanging(sc: SparkContext, tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(b"line %d\n" % i for i in range(100_000)))
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(MalformedInputError, match=re.escape(f"could not read {path}") + ".*EOF"):
        sc.textFile(str(path)).count()


def test_missing_input_and_existing_output_are_refused_at_once(sc: SparkContext, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Input path does not exist"):
        sc.jsonFile(str(tmp_path / "nowhere"))
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        sc.parallelize([1]).saveAsJsonFile(str(tmp_path / "exists"))


def test_a_failed_save_leaves_no_output_that_looks_complete(sc: SparkContext, tmp_path: Path) -> None:
    out = tmp_path / "out"

    def fail_late(split, it):
        for x in it:
            if split == 2:
                raise RuntimeError("boom in partition 2")
            yield x

    with pytest.raises(RuntimeError, match="boom in partition 2"):
        sc.parallelize(range(40), 4).mapPartitionsWithIndex(fail_late).saveAsTextFile(str(out))
    assert not out.exists()
    with pytest.raises(ValueError, match="JSON compliant"):
        sc.parallelize([1.0, 2.0, math.nan], 3).saveAsJsonFile(str(out))
    assert not out.exists()
    # The same path works once the data is fine.
    sc.parallelize([1.0, 2.0], 3).saveAsJsonFile(str(out))
    assert sc.jsonFile(str(out)).collect() == [1.0, 2.0]


def test_a_missing_codec_is_named_and_installing_it_into_load_works_without_restart(
        run_driver: RunDriver, tmp_path: Path) -> None:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    jar = next((home / "bundle").glob("dev.ember.codec.json-*.jar"))
    kept = shutil.move(str(jar), str(tmp_path / jar.name))
    data = tmp_path / "d.json"
    data.write_text('{"k": [1, 2]}\n', encoding="utf-8")
    proc = run_driver(f'''
import shutil, time
from ember import SparkContext, SparkJobError
sc = SparkContext("local[1]", "codecs")
try:
    sc.jsonFile({str(data)!r})
    first = "no error"
except SparkJobError as e:
    first = str(e)
shutil.copy({kept!r}, {str(home / "load")!r})
deadline = time.time() + 20
while True:
    try:
        second = sc.jsonFile({str(data)!r}).collect()
        break
    except SparkJobError:
        if time.time() > deadline:
            raise
        time.sleep(0.2)
report([first, second])
''', env={"EMBER_HOME": str(home)})
    first, second = driver_result(proc)
    assert "codec 'json' is not installed" in first and "dev.ember.codec.json" in first and "load/" in first
    assert second == [{"k": [1, 2]}]
