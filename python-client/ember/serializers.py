"""The frame protocol shared by the driver, the JVM and the workers, and the codecs' payload formats.

A frame is a big-endian int32 length followed by that many bytes. A negative length is a control code instead
(the constants below, the same as ``dev.ember.api.frames.Frames`` on the JVM side). Records travel as batches, in the
payload format of a codec (the same names as the JVM's codec bundles):

- ``pickle``: one frame holds one pickled ``list`` of records (the default);
- ``text``: UTF-8 lines, each ended by ``\n`` (what the JVM reads for ``textFile``);
- ``json``: one JSON document per line, UTF-8, each ended by ``\n`` (``jsonFile``).
"""

from __future__ import annotations

import json
import pickle
import struct
import threading
from itertools import islice
from typing import IO, Any, Callable, Iterable, Iterator

END_OF_DATA = -1
EXCEPTION = -2
TIMING = -3
END_OF_STREAM = -4
NULL = -5
PROGRESS = -6  # In a result stream only: a JSON progress event follows.
OUTPUT = -7  # From a worker that captures its task's output: a UTF-8 line the task printed follows.

NEXT_INPUT = -8  # In a task's input of an aligned stage: a frame naming the next part's codec, then its frames.
# A result stream in the streamed form (the driver asked for it): results as tasks make them, tagged by position.
STREAMED_RESULTS = -9
RESULT_FRAME = -10  # int32 position, then one frame of that result.
RESULT_RESTART = -11  # int32 position: the frames of that result so far are void; they come again.
RESULT_END = -12  # int32 position: that result is complete.

LOWEST_CONTROL_CODE = NEXT_INPUT
# The largest frame either side accepts: well above any batch, and below what the JVM can allocate.
MAX_FRAME_BYTES = 1 << 30

_INT = struct.Struct(">i")
PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL


class ProtocolError(IOError):
    """The peer sent something that is not a frame or control code where one was expected."""


def write_int(value: int, stream: IO[bytes]) -> None:
    stream.write(_INT.pack(value))


def read_int(stream: IO[bytes]) -> int:
    data = stream.read(4)
    if len(data) < 4:
        raise EOFError("the stream ended where a frame length was expected")
    return _INT.unpack(data)[0]


def read_length(stream: IO[bytes]) -> int:
    """A frame length or control code; anything else is a ProtocolError."""
    length = read_int(stream)
    if length < LOWEST_CONTROL_CODE:
        raise ProtocolError(f"{length} is neither a frame length nor a control code")
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"a frame of {length} bytes exceeds the limit of {MAX_FRAME_BYTES}")
    return length


# A frame's length and payload go out together even when another thread of a worker prints (write_output) meanwhile.
_WRITE_LOCK = threading.RLock()


def write_frame(payload: bytes, stream: IO[bytes]) -> None:
    with _WRITE_LOCK:
        stream.write(_INT.pack(len(payload)))
        stream.write(payload)


def write_output(line: str, stream: IO[bytes]) -> None:
    """A printed line as an OUTPUT control frame: it may fall between any two frames, never inside one."""
    data = line.encode("utf-8", "replace")
    with _WRITE_LOCK:
        stream.write(_INT.pack(OUTPUT) + _INT.pack(len(data)) + data)
        stream.flush()


def read_exactly(stream: IO[bytes], length: int) -> bytes:
    data = stream.read(length)
    if len(data) < length:
        raise EOFError(f"the stream ended inside a frame ({len(data)} of {length} bytes)")
    return data


class FrameReader:
    """Reads frames into one buffer it reuses, for a reader that is done with each frame before the next (it
    decodes it): no new object per frame, so big frames do not each cost fresh memory and its page faults."""

    def __init__(self, stream: IO[bytes], initial: int = 1 << 20) -> None:
        self.stream = stream
        self.buffer = bytearray(initial)

    def read(self, length: int) -> memoryview:
        """The next ``length`` bytes, valid until the next read."""
        if len(self.buffer) < length:
            self.buffer = bytearray(length)
        view = memoryview(self.buffer)[:length]
        got = self.stream.readinto(view)  # type: ignore[attr-defined]  # buffered binary streams have it
        if got < length:
            raise EOFError(f"the stream ended inside a frame ({got} of {length} bytes)")
        return view


def read_frame(stream: IO[bytes]) -> bytes:
    length = read_length(stream)
    if length < 0:
        raise ProtocolError(f"expected a frame, got control code {length}")
    return read_exactly(stream, length)


def read_frames(stream: IO[bytes]) -> Iterator[bytes]:
    """Yields frames until END_OF_DATA; any other control code is an error."""
    while True:
        length = read_length(stream)
        if length == END_OF_DATA:
            return
        if length < 0:
            raise ProtocolError(f"unexpected control code {length} in a data section")
        yield read_exactly(stream, length)


def dumps(value: Any) -> bytes:
    """A value (a batch of records, a broadcast value) as one pickle. Values whose classes pickle cannot find by
    name (a namedtuple or class defined inside a function, say) go through cloudpickle, which carries the class
    itself; both load with ``pickle.loads``."""
    try:
        return pickle.dumps(value, PICKLE_PROTOCOL)
    except (pickle.PicklingError, AttributeError):
        import cloudpickle
        return cloudpickle.dumps(value, PICKLE_PROTOCOL)


def dumps_batch(records: list) -> bytes:
    return dumps(records)


def dumps_from_driver(value: Any) -> bytes:
    """A value the driver sends to workers (parallelize data, a broadcast value), through cloudpickle: classes of
    the driver's ``__main__`` (a namedtuple in a script, say) pickle by value, since a worker's ``__main__`` is
    not the driver's. Loads with ``pickle.loads``; costs about 5 % more than pickle for plain records."""
    import cloudpickle
    return cloudpickle.dumps(value, PICKLE_PROTOCOL)


def loads_batch(frame: "bytes | memoryview") -> list:
    return pickle.loads(frame)


def dump_fixed_batches(records: Iterable[Any], stream: IO[bytes], batch_size: int) -> None:
    """Writes records in batches of ``batch_size`` (the last one may be shorter)."""
    iterator = iter(records)
    while True:
        batch = list(islice(iterator, batch_size))
        if not batch:
            return
        write_frame(dumps_batch(batch), stream)


class AutoBatcher:
    """Writes records in batches sized by what they cost: the batch doubles while its frames stay under
    ``target_bytes`` and halves once a frame grows past ten times that, so many small records share a frame
    and huge ones do not pile up in memory."""

    def __init__(self, target_bytes: int = 1 << 16) -> None:
        self.target_bytes = target_bytes

    def dump(self, records: Iterable[Any], stream: IO[bytes]) -> None:
        iterator = iter(records)
        batch_size = 1
        while True:
            batch = list(islice(iterator, batch_size))
            if not batch:
                return
            frame = dumps_batch(batch)
            write_frame(frame, stream)
            if len(frame) < self.target_bytes:
                batch_size *= 2
            elif len(frame) > self.target_bytes * 10 and batch_size > 1:
                batch_size //= 2


def loads_text(frame: bytes) -> list[str]:
    """The lines of a text frame. Bytes that are not UTF-8 (only present when the JVM was told not to check, for
    ``use_unicode=False``) become lone surrogates, which ``encode("utf-8", "surrogateescape")`` turns back."""
    lines = frame.decode("utf-8", "surrogateescape").split("\n")
    lines.pop()  # After the last line's terminator.
    return lines


def loads_json(frame: bytes) -> list:
    return [json.loads(line) for line in loads_text(frame)]


def encode_text(record: Any) -> bytes:
    """A record as saveAsTextFile writes it: bytes as they are, anything else as its str() in UTF-8."""
    if isinstance(record, bytes):
        return record
    return (record if isinstance(record, str) else str(record)).encode("utf-8")


def encode_json(record: Any) -> bytes:
    """One JSON document. NaN and infinities are refused (ValueError): they are not JSON, and the JVM's reader would
    reject the file."""
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate in a string: \u escapes keep it, as Python's json round-trips it.
        return json.dumps(record, allow_nan=False).encode("ascii")


LOADERS: dict[str, Callable[[bytes], list]] = {"pickle": loads_batch, "text": loads_text, "json": loads_json}
LINE_ENCODERS: dict[str, Callable[[Any], bytes]] = {"text": encode_text, "json": encode_json}
LINE_FRAME_BYTES = 1 << 16


def loader(codec: str) -> Callable[[bytes], list]:
    try:
        return LOADERS[codec]
    except KeyError:
        raise ProtocolError(f"this worker does not know the codec {codec!r} (known: {sorted(LOADERS)})") from None


def dump_lines(records: Iterable[Any], stream: IO[bytes], codec: str) -> None:
    """Writes records as frames of lines of a line codec (``text`` or ``json``), about 64 KiB per frame."""
    encode = LINE_ENCODERS[codec]
    parts: list[bytes] = []
    size = 0
    for record in records:
        line = encode(record)
        parts.append(line)
        parts.append(b"\n")
        size += len(line) + 1
        if size >= LINE_FRAME_BYTES:
            write_frame(b"".join(parts), stream)
            parts, size = [], 0
    if parts:
        write_frame(b"".join(parts), stream)
