"""Reading and writing files.

textFile/jsonFile and saveAsTextFile/saveAsJsonFile go through the JVM's codec bundles (``dev.ember.codec.text``,
``dev.ember.codec.json``): the JVM lists and splits the files, reads each split, checks it (UTF-8, JSON) and sends
its lines to the workers; for a save, workers send lines and the JVM writes and commits the part files.
wholeTextFiles, pickleFile and saveAsPickleFile are read and written by the workers themselves (driver, JVM and
workers share one filesystem on a local master).
"""

from __future__ import annotations

import bz2
import errno
import glob
import json
import gzip
import os
import re
import shutil
import uuid
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

from ember import serializers as ser
from ember.errors import SparkJobError

if TYPE_CHECKING:
    import io

    from ember.context import SparkContext
    from ember.rdd import RDD

COMPRESSED_SUFFIXES = (".gz", ".bz2")


def _strip_scheme(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path[len("file:"):] if path.startswith(
        "file:") else path


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _refuse_remote_scheme(path: str) -> None:
    """Ember reads and writes paths of this machine's file system (a shared mount included): a URI of another
    file system (``hdfs://``, ``s3a://``, ...) fails here, before any job, rather than as a missing file."""
    for part in split_paths(path):
        match = _SCHEME.match(part.strip())
        if match and match.group(1).lower() != "file":
            raise ValueError(
                f"Ember reads and writes local paths only (a shared mount works too), not {match.group(1)}:// URIs "
                f"such as {part.strip()!r}: copy the data to a local or mounted directory and pass that path "
                f"(or a file: URI)")


def split_paths(path: str) -> list[str]:
    """The comma-separated paths of ``path``; as in Hadoop, a comma inside braces (``{a,b}``) does not separate."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(path):
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(path[start:i])
            start = i + 1
    parts.append(path[start:])
    return parts


def expand_braces(pattern: str) -> list[str]:
    """The patterns a glob with ``{a,b}`` alternatives stands for (nested braces too), in order."""
    start = pattern.find("{")
    if start < 0:
        return [pattern]
    depth = 0
    for end in range(start, len(pattern)):
        if pattern[end] == "{":
            depth += 1
        elif pattern[end] == "}":
            depth -= 1
            if depth == 0:
                break
    else:
        return [pattern]  # An unclosed brace is a literal character.
    head, body, tail = pattern[:start], pattern[start + 1:end], pattern[end + 1:]
    return [expanded for choice in split_paths(body) for expanded in expand_braces(head + choice + tail)]


def list_files(path: str) -> list[str]:
    """The files a path names: comma-separated paths, each a file, a directory (its visible files) or a glob
    (``*``, ``?``, ``[...]`` and ``{a,b}``, as Hadoop's)."""
    _refuse_remote_scheme(path)
    found: list[str] = []
    for part in split_paths(path):
        part = _strip_scheme(part.strip())
        if glob.has_magic(part) or "{" in part:
            # Hadoop's hidden-file filter applies to glob matches too.
            matches = sorted({m for pattern in expand_braces(part) for m in glob.glob(pattern)
                              if not os.path.basename(m).startswith((".", "_"))})
        else:
            matches = [part]
        if not matches:
            raise FileNotFoundError(f"Input path does not exist: {part}")
        for match in matches:
            if os.path.isdir(match):
                found.extend(sorted(os.path.join(match, name) for name in os.listdir(match)
                                    if not name.startswith((".", "_"))
                                    and os.path.isfile(os.path.join(match, name))))
            elif os.path.isfile(match):
                found.append(match)
            elif os.path.exists(match):
                raise OSError(errno.EINVAL, f"Input path is not a regular file or directory: {match} (a device, "
                                            f"pipe or socket has no size to split into partitions; copy its data to "
                                            f"a file first)")
            else:
                raise FileNotFoundError(f"Input path does not exist: {match}")
    return [os.path.abspath(f) for f in found]


def _open_compressed(path: str) -> io.BufferedIOBase:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return bz2.open(path, "rb")


def _check_reply(reply: str, what: str) -> dict:
    """A JSON reply of the gateway's file calls, or the Python exception its error stands for."""
    result = json.loads(reply)
    error = result.get("error")
    if error is None:
        return result
    message = result.get("message", "")
    if error == "notFound":
        raise FileNotFoundError(message)
    if error == "exists":
        raise FileExistsError(message)
    if error == "codec":
        raise SparkJobError(message, "SETUP")
    raise OSError(f"{what}: {message}")


def open_files(ctx: "SparkContext", name: str, min_partitions: Optional[int], codec: str,
               options: dict[str, str]) -> "RDD":
    """An RDD over the splits of files the JVM reads with ``codec``."""
    from ember.rdd import RDD
    _refuse_remote_scheme(name)
    reply = ctx._session.openFiles(name, min_partitions or ctx.defaultMinPartitions, codec, json.dumps(options))
    opened = _check_reply(reply, f"cannot read {name}")
    rdd: RDD[Any] = RDD(ctx, RDD.SOURCE, opened["splits"], segment={"kind": "files", "id": opened["id"]},
              source=f"{codec.capitalize()}FileRDD").setName(name)
    ctx._on_release(rdd, "closeFiles", opened["id"])
    rdd._file_input_id = opened["id"]
    return rdd


def text_file(ctx: "SparkContext", name: str, min_partitions: Optional[int], use_unicode: bool) -> "RDD":
    policy = ctx.getConf().get("spark.ember.text.malformed", "strict")
    if policy not in ("strict", "replace"):
        raise ValueError(f"spark.ember.text.malformed must be 'strict' or 'replace', not {policy!r}")
    rdd = open_files(ctx, name, min_partitions, "text", {"utf8": policy if use_unicode else "none"})
    if use_unicode:
        return rdd

    def as_bytes(_split: int, lines: Iterator[str]) -> Iterator[bytes]:
        return (line.encode("utf-8", "surrogateescape") for line in lines)
    # Same RDD node, bytes out: the lines arrive unchecked and go back to their exact bytes.
    rdd._func = as_bytes
    return rdd


def json_file(ctx: "SparkContext", path: str, min_partitions: Optional[int], mode: str) -> "RDD":
    modes = {"FAILFAST": "fail", "DROPMALFORMED": "skip"}
    if mode.upper() not in modes:
        raise ValueError(f"mode must be one of {sorted(modes)}, not {mode!r}")
    return open_files(ctx, path, min_partitions, "json", {"malformed": modes[mode.upper()]})


def save_with_codec(rdd: "RDD", path: str, codec: str, compression_codec_class: Optional[str]) -> None:
    """Workers send the records as lines of ``codec``; the JVM writes part-NNNNN files under a temporary name and
    moves them into place, with _SUCCESS, only when every task has succeeded."""
    compression = {None: "none", "org.apache.hadoop.io.compress.GzipCodec": "gzip",
                   "gzip": "gzip"}.get(compression_codec_class)
    if compression is None:
        raise ValueError(f"Unsupported compression codec {compression_codec_class!r}; Ember supports "
                         f"'org.apache.hadoop.io.compress.GzipCodec'")
    ctx = rdd.ctx
    ctx._check_running()
    _refuse_remote_scheme(path)
    reply = ctx._session.createOutput(os.path.abspath(_strip_scheme(path)), json.dumps({"compression": compression}))
    output = _check_reply(reply, f"cannot write {path}")
    for _ in ctx._run(rdd, output={"kind": "files", "id": output["id"]}, output_codec=codec):
        pass


def whole_text_files(ctx: "SparkContext", path: str, min_partitions: Optional[int], use_unicode: bool) -> "RDD":
    """(``file:`` path, content) per file; compressed files are decompressed, as Hadoop's codecs do."""
    return _whole_files(ctx, path, min_partitions, "text" if use_unicode else "bytes")


def binary_files(ctx: "SparkContext", path: str, min_partitions: Optional[int]) -> "RDD":
    """(``file:`` path, the file's bytes as they are) per file."""
    return _whole_files(ctx, path, min_partitions, "raw")


def _whole_files(ctx: "SparkContext", path: str, min_partitions: Optional[int], mode: str) -> "RDD":
    from ember.rdd import RDD
    files = list_files(path)
    groups = max(1, min(min_partitions or ctx.defaultMinPartitions, len(files)))
    assignment = [files[i * len(files) // groups:(i + 1) * len(files) // groups] for i in range(groups)]

    def read_files(split: int, _ignored: Iterator[Any]) -> Iterator[Any]:
        for f in assignment[split]:
            compressed = mode != "raw" and f.endswith(COMPRESSED_SUFFIXES)
            with (_open_compressed(f) if compressed else open(f, "rb")) as stream:
                data = stream.read()
            yield "file:" + f, data.decode("utf-8") if mode == "text" else data

    source = "BinaryFileRDD" if mode == "raw" else "WholeTextFileRDD"
    return RDD(ctx, RDD.SOURCE, groups if files else 0, segment={"kind": "empty"}, func=read_files,
               source=source).setName(path)


def binary_records(ctx: "SparkContext", path: str, record_length: int) -> "RDD":
    """The files' bytes cut into records of ``record_length`` bytes, one partition per file."""
    from ember.rdd import RDD
    if record_length < 1:
        raise ValueError(f"recordLength must be positive, got {record_length}")
    files = list_files(path)

    def read_records(split: int, _ignored: Iterator[Any]) -> Iterator[bytes]:
        name = files[split]
        with open(name, "rb") as stream:
            while True:
                record = stream.read(record_length)
                if not record:
                    return
                if len(record) < record_length:
                    raise ValueError(f"{name} ends with a partial record of {len(record)} bytes: its size is not a "
                                     f"multiple of the record length {record_length}")
                yield record

    return RDD(ctx, RDD.SOURCE, len(files), segment={"kind": "empty"}, func=read_records,
               source="BinaryRecordsRDD").setName(path)


def pickle_file(ctx: "SparkContext", name: str, min_partitions: Optional[int]) -> "RDD":
    from ember.rdd import RDD
    files = [f for f in list_files(name) if os.path.basename(f).startswith("part-")]

    def read_part(split: int, _ignored: Iterator[Any]) -> Iterator[Any]:
        with open(files[split], "rb") as f:
            yield from read_pickle_batches(f)

    return RDD(ctx, RDD.SOURCE, len(files), segment={"kind": "empty"}, func=read_part,
               source="PickleFileRDD").setName(name)


def read_pickle_batches(stream: IO[bytes]) -> Iterator[Any]:
    """The records of a file of pickled batches (saveAsPickleFile's part files, checkpoints)."""
    while True:
        try:
            frame = ser.read_frame(stream)
        except EOFError:
            return
        yield from ser.loads_batch(frame)


Writer = Callable[[Iterable[Any], str], str]


def pickle_writer(batch_size: int) -> Writer:
    def write(records: Iterable[Any], path: str) -> str:
        with open(path, "wb") as out:
            ser.dump_fixed_batches(records, out, max(1, batch_size))
        return path
    return write


def save_partitions(rdd: "RDD", path: str, writer: Writer) -> None:
    """Each task writes its partition under _temporary; only when every task has succeeded are the files moved to
    part-NNNNN and _SUCCESS written. A failed job leaves no directory behind."""
    _refuse_remote_scheme(path)
    path = os.path.abspath(_strip_scheme(path))
    if os.path.exists(path):
        raise FileExistsError(f"Output directory file:{path} already exists")
    temporary = os.path.join(path, "_temporary", uuid.uuid4().hex)
    os.makedirs(temporary)

    def write_partition(split: int, iterator: Iterator[Any]) -> Iterator[str]:
        name = "part-%05d" % split
        attempt = os.path.join(temporary, f"{name}.{uuid.uuid4().hex}")
        os.makedirs(attempt)
        yield writer(iterator, os.path.join(attempt, name))

    try:
        written = rdd.mapPartitionsWithIndex(write_partition).collect()
        for file in written:
            os.replace(file, os.path.join(path, os.path.basename(file)))
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    shutil.rmtree(os.path.join(path, "_temporary"), ignore_errors=True)
    open(os.path.join(path, "_SUCCESS"), "wb").close()


def write_checkpoint(rdd: "RDD", directory: str) -> None:
    """Writes ``rdd``'s partitions as ``part-NNNNN`` pickle files (one per partition, empty ones too) into the new
    ``directory``, with ``_SUCCESS`` when all are written; a failed write leaves nothing."""
    save_partitions(rdd, directory, pickle_writer(1024))


def checkpoint_reader(directory: str, partitions: int) -> Callable[[int, Iterator[Any]], Iterator[Any]]:
    """The function of a source whose partition i reads ``part-i`` of a checkpoint directory."""
    def read_part(split: int, _ignored: Iterator[Any]) -> Iterator[Any]:
        path = os.path.join(directory, "part-%05d" % split)
        try:
            stream = open(path, "rb")
        except FileNotFoundError:
            raise FileNotFoundError(f"Checkpoint file {path} is missing: the checkpoint directory was changed or "
                                    f"removed after the RDD was checkpointed") from None
        with stream:
            yield from read_pickle_batches(stream)
    return read_part
