"""Reading and writing files: textFile, wholeTextFiles, pickleFile, saveAsTextFile, saveAsPickleFile.

Workers read and write the files themselves (driver, JVM and workers share one filesystem on a local master): the
driver only lists files and plans byte ranges, so no file data passes through the JVM.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import os
import shutil
import re
import uuid
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

from ember import serializers as ser

if TYPE_CHECKING:
    from ember.context import SparkContext
    from ember.rdd import RDD

# The split size Hadoop uses for local files (fs.local.block.size).
BLOCK_SIZE = 32 * 1024 * 1024
COMPRESSED_SUFFIXES = (".gz", ".bz2")
_LINE_END = re.compile(rb"\r\n|\r|\n")
CODECS = {
    "org.apache.hadoop.io.compress.GzipCodec": ".gz",
    "org.apache.hadoop.io.compress.BZip2Codec": ".bz2",
}


def _strip_scheme(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path[len("file:"):] if path.startswith(
        "file:") else path


def list_files(path: str) -> list[str]:
    """The files a path names: comma-separated paths, each a file, a directory (its visible files) or a glob."""
    found: list[str] = []
    for part in path.split(","):
        part = _strip_scheme(part.strip())
        if glob.has_magic(part):
            # Hadoop's hidden-file filter applies to glob matches too.
            matches = sorted(m for m in glob.glob(part) if not os.path.basename(m).startswith((".", "_")))
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
            else:
                raise FileNotFoundError(f"Input path does not exist: {match}")
    return [os.path.abspath(f) for f in found]


def plan_splits(files: list[str], min_partitions: int) -> list[tuple[str, int, int]]:
    """Byte ranges (path, start, end) as Hadoop's FileInputFormat cuts them; compressed files stay whole."""
    total = sum(os.path.getsize(f) for f in files)
    goal = total // max(min_partitions, 1)
    split_size = max(1, min(goal, BLOCK_SIZE))
    splits: list[tuple[str, int, int]] = []
    for f in files:
        size = os.path.getsize(f)
        if f.endswith(COMPRESSED_SUFFIXES) or size == 0:
            splits.append((f, 0, size))
            continue
        start = 0
        # The last split may be up to 10% larger rather than leave a sliver.
        while size - start > split_size * 1.1:
            splits.append((f, start, start + split_size))
            start += split_size
        splits.append((f, start, size))
    return splits


def _open_compressed(path: str) -> IO[bytes]:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return bz2.open(path, "rb")


def read_lines(path: str, start: int, end: int, use_unicode: bool) -> Iterator[Any]:
    """The lines that begin inside [start, end): the split before owns a line that crosses ``start``."""
    def decode(raw: bytes, offset: int) -> Any:
        line = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith((b"\n", b"\r")) else raw
        if not use_unicode:
            return line
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UnicodeDecodeError(e.encoding, e.object, e.start, e.end,
                                     f"{e.reason} in {path} at byte offset {offset + e.start}"
                                     + (" (pass use_unicode=False to read bytes)")) from None

    if path.endswith(COMPRESSED_SUFFIXES):
        with _open_compressed(path) as f:
            offset = 0
            for raw in _raw_lines(f):
                yield decode(raw, offset)
                offset += len(raw)
        return
    with open(path, "rb") as f:
        position = start
        lines = _raw_lines(f)
        if start > 0:
            # The line that crosses into this split (or ends right before it) belongs to the previous split.
            f.seek(start - 1)
            lines = _raw_lines(f)
            position = start - 1 + len(next(lines, b""))
        for raw in lines:
            if position >= end:
                break
            yield decode(raw, position)
            position += len(raw)


def _raw_lines(stream: IO[bytes], chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """Lines with their terminator, ended as Hadoop ends them: by LF, CR or CR LF."""
    pending = b""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            if pending:
                yield pending
            return
        data = pending + chunk
        begin = 0
        while True:
            match = _LINE_END.search(data, begin)
            if match is None:
                break
            if match.group() == b"\r" and match.end() == len(data):
                break  # A CR at the end of the chunk may be the start of CR LF.
            yield data[begin:match.end()]
            begin = match.end()
        pending = data[begin:]


def text_file(ctx: "SparkContext", name: str, min_partitions: Optional[int], use_unicode: bool) -> "RDD":
    from ember.rdd import RDD
    splits = plan_splits(list_files(name), min_partitions or ctx.defaultMinPartitions)

    def read_split(split: int, _ignored: Iterator[Any]) -> Iterator[Any]:
        path, start, end = splits[split]
        return read_lines(path, start, end, use_unicode)

    return RDD(ctx, RDD.SOURCE, len(splits), segment={"kind": "empty"}, func=read_split).setName(name)


def whole_text_files(ctx: "SparkContext", path: str, min_partitions: Optional[int], use_unicode: bool) -> "RDD":
    from ember.rdd import RDD
    files = list_files(path)
    groups = max(1, min(min_partitions or ctx.defaultMinPartitions, len(files)))
    assignment = [files[i * len(files) // groups:(i + 1) * len(files) // groups] for i in range(groups)]

    def read_files(split: int, _ignored: Iterator[Any]) -> Iterator[Any]:
        for f in assignment[split]:
            opener = _open_compressed if f.endswith(COMPRESSED_SUFFIXES) else (lambda p: open(p, "rb"))
            with opener(f) as stream:
                data = stream.read()
            yield "file:" + f, data.decode("utf-8") if use_unicode else data

    return RDD(ctx, RDD.SOURCE, groups if files else 0, segment={"kind": "empty"}, func=read_files).setName(path)


def pickle_file(ctx: "SparkContext", name: str, min_partitions: Optional[int]) -> "RDD":
    from ember.rdd import RDD
    files = [f for f in list_files(name) if os.path.basename(f).startswith("part-")]

    def read_part(split: int, _ignored: Iterator[Any]) -> Iterator[Any]:
        with open(files[split], "rb") as f:
            while True:
                try:
                    frame = ser.read_frame(f)
                except EOFError:
                    return
                yield from ser.loads_batch(frame)

    return RDD(ctx, RDD.SOURCE, len(files), segment={"kind": "empty"}, func=read_part).setName(name)


Writer = Callable[[Iterable[Any], str], str]


def text_writer(codec_class: Optional[str]) -> Writer:
    if codec_class is not None and codec_class not in CODECS:
        raise ValueError(f"Unsupported compression codec {codec_class!r}; Ember supports {sorted(CODECS)}")
    suffix = CODECS.get(codec_class, "")

    def write(records: Iterable[Any], path: str) -> str:
        target = path + suffix
        opener = gzip.open if suffix == ".gz" else bz2.open if suffix == ".bz2" else open
        with opener(target, "wb") as out:
            for record in records:
                out.write(record if isinstance(record, bytes) else record.encode("utf-8"))
                out.write(b"\n")
        return target
    return write


def pickle_writer(batch_size: int) -> Writer:
    def write(records: Iterable[Any], path: str) -> str:
        with open(path, "wb") as out:
            ser.dump_fixed_batches(records, out, max(1, batch_size))
        return path
    return write


def save_partitions(rdd: "RDD", path: str, writer: Writer) -> None:
    """Each task writes its partition to a temporary file and renames it to part-NNNNN; _SUCCESS marks the end."""
    path = os.path.abspath(_strip_scheme(path))
    if os.path.exists(path):
        raise FileExistsError(f"Output directory file:{path} already exists")
    temporary = os.path.join(path, "_temporary", uuid.uuid4().hex)
    os.makedirs(temporary)

    def write_partition(split: int, iterator: Iterator[Any]) -> Iterator[str]:
        name = "part-%05d" % split
        written = writer(iterator, os.path.join(temporary, name))
        final = os.path.join(path, os.path.basename(written))
        os.replace(written, final)
        yield final

    rdd.mapPartitionsWithIndex(write_partition).collect()
    shutil.rmtree(os.path.join(path, "_temporary"), ignore_errors=True)
    open(os.path.join(path, "_SUCCESS"), "wb").close()
