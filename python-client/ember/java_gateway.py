"""Talking to a running Ember gateway: Py4J for control calls, the side socket for bulk data.

Control calls go through Py4J. Bulk data (``parallelize`` input, command blobs, job results) goes through the
gateway's side socket as frames, never through Py4J. Starting the distribution is ``ember.launch``'s.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import struct
from contextlib import contextmanager
from typing import IO, Any, Callable, Iterator, Optional, cast

from py4j.java_gateway import GatewayParameters, JavaGateway
from py4j.protocol import Py4JAuthenticationError, Py4JError, Py4JNetworkError

from ember import serializers as ser
from ember.errors import (EmberAuthError, EmberError, EmberStartError, MalformedInputError, PythonException,
                          SparkJobError, user_exception)


def connect(port: int, secret: str, host: str = "127.0.0.1") -> tuple[JavaGateway, Any]:
    """Connects Py4J to a gateway and returns it with the entry point; a wrong secret raises EmberAuthError."""
    gateway = JavaGateway(gateway_parameters=GatewayParameters(
        address=host, port=port, auth_token=secret, auto_convert=False, auto_close=True))
    try:
        entry = gateway.entry_point
        entry.sidePort()  # The first call authenticates.
    except Py4JAuthenticationError as e:
        gateway.close()
        raise EmberAuthError(
            f"The Ember gateway on port {port} refused the secret: check the secret you gave (EMBER_SECRET or the "
            f"gateway's connection file)") from e
    except Py4JNetworkError as e:
        gateway.close()
        raise EmberAuthError(f"Could not talk to the Ember gateway on port {port}: {e}") from e
    return gateway, entry


def check_runtime_version(entry: Any, where: str) -> None:
    """Refuses a gateway whose runtime is of another release than this client (major.minor differ): the plans,
    frames and calls between them change between releases. A different micro version is only logged."""
    from ember import RUNTIME_VERSION, __version__
    ours = RUNTIME_VERSION.split(".")[:3]
    try:
        gateway_version = str(entry.version())
    except Py4JError:
        gateway_version = None
    if gateway_version == "unknown":
        return
    theirs = gateway_version.split(".")[:3] if gateway_version else []
    if ours[:2] != theirs[:2]:
        runs = (f"runs {gateway_version}" if gateway_version
                else "runs an older release (its gateway does not report a version)")
        install = f"pip install 'ember=={'.'.join(theirs[:2])}.*'" if theirs else "pip install the ember of its release"
        raise EmberStartError(
            f"This ember client is {__version__} (runtime {'.'.join(ours)}) but the Ember gateway at {where} {runs}: "
            f"client and runtime must be of the same release (major.minor). Install the client that matches the "
            f"runtime ({install}), or use a runtime that matches this client (EMBER_HOME, or another service's "
            f"master URL).")
    if ours != theirs:
        logging.getLogger("ember").warning("the Ember gateway at %s runs %s, this client %s", where,
                                           gateway_version, RUNTIME_VERSION)


class ConnectionLost(EmberError):
    """The side socket broke under a request (the gateway stopped or restarted, the JVM died). Raised only for
    failures of the connection itself, never for an error a task raised, whatever its type (a task's own
    ``ConnectionResetError`` is the job's failure); the socket's error is the ``__cause__``."""


_POSITION_AND_LENGTH = struct.Struct(">ii")


class _connection_guard:  # noqa: N801  # used as a function: ``with _connection_guard():``
    """Turns a failure of reading or writing the gateway's socket into ConnectionLost. Only socket I/O goes inside:
    callbacks and the raising of a task's error stay outside, so their exceptions keep their own meaning. A class,
    not a generator-based context manager: the result loop enters it twice per partition, and a job may have
    thousands of them (the generator's set-up cost ~10 us each time)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Optional[type], error: Optional[BaseException], _traceback: Any) -> None:
        if isinstance(error, (OSError, EOFError)) and not isinstance(error, ser.ProtocolError):
            raise ConnectionLost(f"the connection to the gateway broke: {error!r}") from error


class SideChannel:
    """Client of the gateway's side socket: one request per connection, authenticated with the secret and naming
    the session by its token (known only to this driver; the session id can be guessed)."""

    def __init__(self, port: int, secret: str, session_token: str, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.secret = secret.encode("utf-8")
        self.session_token = session_token

    @contextmanager
    def _request(self, request: dict) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
        with _connection_guard():
            sock = socket.create_connection((self.host, self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A BufferedReader and a BufferedWriter: typeshed types makefile with a buffer size other than -1, 0 or 1 as
        # IOBase.
        infile = cast("IO[bytes]", sock.makefile("rb", 1 << 16))
        outfile = cast("IO[bytes]", sock.makefile("wb", 1 << 16))
        try:
            with _connection_guard():
                ser.write_frame(self.secret, outfile)
                outfile.flush()
                status = ser.read_int(infile)
                error = _read_remote_error(infile) if status == ser.EXCEPTION else None
                if error is None:
                    request = dict(request, session=self.session_token)
                    ser.write_frame(json.dumps(request).encode("utf-8"), outfile)
            if error is not None:
                raise _remote_exception(error)
            yield infile, outfile
        finally:
            infile.close()
            outfile.close()
            sock.close()

    def store(self, partitions: list[list[bytes]]) -> int:
        """Uploads frames, one list per partition; returns the dataset id."""
        with self._request({"op": "store", "partitions": len(partitions)}) as (infile, outfile):
            with _connection_guard():
                for frames in partitions:
                    for frame in frames:
                        ser.write_frame(frame, outfile)
                    ser.write_int(ser.END_OF_DATA, outfile)
                outfile.flush()
            return _read_id(infile)

    def blob(self, payload: bytes) -> int:
        with self._request({"op": "blob"}) as (infile, outfile):
            with _connection_guard():
                ser.write_frame(payload, outfile)
                outfile.flush()
            return _read_id(infile)

    def broadcast(self, bid: int, payload: bytes) -> int:
        with self._request({"op": "broadcast", "id": bid}) as (infile, outfile):
            with _connection_guard():
                ser.write_frame(payload, outfile)
                outfile.flush()
            return _read_id(infile)

    def attach(self) -> socket.socket:
        """Opens the connection that keeps the session alive: when it closes (the driver stopped or died), the
        service closes the session. The caller holds the socket until it stops."""
        sock = socket.create_connection((self.host, self.port))
        out = sock.makefile("wb")
        ser.write_frame(self.secret, out)
        out.flush()
        infile = sock.makefile("rb")
        if ser.read_int(infile) == ser.EXCEPTION:
            raise _remote_exception(_read_remote_error(infile))
        ser.write_frame(json.dumps({"op": "attach", "session": self.session_token}).encode("utf-8"), out)
        out.flush()
        if ser.read_int(infile) == ser.EXCEPTION:
            raise _remote_exception(_read_remote_error(infile))
        return sock

    def results(self, job_id: int, partitions: int, decode: Callable[[memoryview], list],
                on_bytes: Callable[[int], None], on_accumulator_updates: Callable[[list[bytes]], None],
                on_progress: Optional[Callable[[dict], None]] = None) -> Iterator[list]:
        """Yields the records of the job's ``partitions`` result partitions, partition after partition, as lists
        ``decode`` makes of the frames; then hands the job's accumulator updates (the section after the partitions)
        to ``on_accumulator_updates``; raises if the job failed. ``on_bytes`` hears of every frame's size as it
        arrives, and of a negative size when frames already counted were withdrawn. With ``on_progress``, the job's
        events are pushed and handed to it as they come.

        The JVM streams results as its tasks make them (it keeps none), in any order of partitions: frames are decoded
        as they arrive, held per partition, and handed on once their partition is complete, so what was handed on is
        final (a task that failed midway has its frames withdrawn and sends them again). A gateway that cannot stream
        a job's results sends them partition after partition instead. Frames are read into one reused buffer, so
        ``decode`` must not keep what it is given."""
        with self._request({"op": "results", "job": job_id, "stream": True}) as (infile, outfile):
            with _connection_guard():
                outfile.flush()
            frames = ser.FrameReader(infile)
            streamed = False
            pending: dict[int, list[list]] = {}
            pending_bytes: dict[int, int] = {}
            complete: set[int] = set()
            next_position = 0
            section = 0  # In-order form: the partition (then the updates section) the untagged frames belong to.
            updates: list[bytes] = []
            while True:
                # Only the socket reads are guarded: what the callbacks raise, and a task's error (which may be the
                # user's own OSError), are not a broken connection.
                with _connection_guard():
                    length = ser.read_int(infile)
                    if length == ser.RESULT_FRAME:
                        position, size = _POSITION_AND_LENGTH.unpack(ser.read_exactly(infile, 8))
                        if not 0 <= size <= ser.MAX_FRAME_BYTES:
                            raise ser.ProtocolError(f"job {job_id} sent a result frame of {size} bytes")
                        frame = frames.read(size)
                    elif length >= 0:
                        frame = frames.read(length)
                    elif length in (ser.RESULT_END, ser.RESULT_RESTART):
                        position = ser.read_int(infile)
                    elif length == ser.PROGRESS:
                        event_frame = ser.read_frame(infile)
                    elif length == ser.EXCEPTION:
                        error = _read_remote_error(infile)
                if length == ser.RESULT_FRAME:
                    if not 0 <= position < partitions or position in complete:
                        raise ser.ProtocolError(f"job {job_id} sent a frame for result {position} out of place")
                    on_bytes(len(frame))
                    pending_bytes[position] = pending_bytes.get(position, 0) + len(frame)
                    pending.setdefault(position, []).append(decode(frame))  # Only records are held, no frame.
                elif length == ser.RESULT_END:
                    complete.add(position)
                    while next_position in complete:
                        pending_bytes.pop(next_position, None)
                        for records in pending.pop(next_position, ()):
                            yield records
                        next_position += 1
                elif length == ser.RESULT_RESTART:
                    on_bytes(-pending_bytes.pop(position, 0))
                    pending.pop(position, None)
                elif length >= 0:
                    if streamed or section >= partitions:
                        updates.append(bytes(frame))
                    else:
                        on_bytes(len(frame))
                        yield decode(frame)
                elif length == ser.STREAMED_RESULTS:
                    streamed = True
                elif length == ser.END_OF_DATA:
                    section += 1
                elif length == ser.END_OF_STREAM:
                    received = next_position if streamed else section - 1
                    if received != partitions:
                        raise ser.ProtocolError(
                            f"job {job_id} sent {received} results, expected {partitions} and its accumulator updates")
                    on_accumulator_updates(updates)
                    return
                elif length == ser.PROGRESS:
                    if on_progress is not None:
                        on_progress(json.loads(event_frame))
                elif length == ser.EXCEPTION:
                    raise _remote_exception(error)
                else:
                    raise ser.ProtocolError(f"unexpected control code {length} in job results")


def _read_id(infile: IO[bytes]) -> int:
    with _connection_guard():
        value = ser.read_int(infile)
        error = _read_remote_error(infile) if value == ser.EXCEPTION else None
    if error is not None:
        raise _remote_exception(error)
    return value


def _read_remote_error(infile: IO[bytes]) -> dict:
    """The error frame that follows an EXCEPTION code."""
    return json.loads(ser.read_frame(infile))


def _remote_exception(error: dict) -> BaseException:
    """The exception an error frame stands for: a task's own (rebuilt), or Ember's."""
    kind, message = error.get("kind", "SETUP"), error.get("message", "")
    if kind == "USER_CODE":
        detail = error.get("detail")
        if detail:
            return user_exception(message, base64.b64decode(detail))
        return PythonException(message)
    if "authentication failed" in message:
        return EmberAuthError(message)
    if kind == "INPUT":
        return MalformedInputError(message)
    return SparkJobError(message, kind)
