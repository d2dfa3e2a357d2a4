"""The Python worker: started by a JVM transport, it serves tasks one after another until told to stop.

Per task the JVM sends a JSON header frame, the pickled command unless this worker already has it, and the input
frames closed by END_OF_DATA. The worker answers with output frames and END_OF_DATA, or, when the user's function
raises, with EXCEPTION and a frame holding the traceback. Either way it first reads the rest of the input, so the
stream stays in step for the next task.
"""

from __future__ import annotations

import faulthandler
import json
import os
import socket
import sys
import traceback
from collections import OrderedDict
from typing import IO, Any, Callable, Iterator

import cloudpickle

from ember import serializers as ser

# The JVM assumes a worker still holds the last 32 commands it sent (WorkerPool.KNOWN_COMMANDS). Keeping more here
# means whatever the JVM thinks is cached always is.
COMMAND_CACHE_SIZE = 64

TaskFunction = Callable[[int, Iterator[Any]], Iterator[Any]]


class _Input:
    """The records of one task's input, read lazily so output can stream while input still arrives."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._frames = ser.read_frames(stream)
        self._exhausted = False

    def __iter__(self) -> Iterator[Any]:
        for frame in self._frames:
            yield from ser.loads_batch(frame)
        self._exhausted = True

    def drain(self) -> None:
        if not self._exhausted:
            for _ in self._frames:
                pass
            self._exhausted = True


def _connect() -> tuple[IO[bytes], IO[bytes], socket.socket]:
    port = int(os.environ["EMBER_WORKER_PORT"])
    secret = os.environ["EMBER_WORKER_SECRET"].encode("utf-8")
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    infile = sock.makefile("rb", 1 << 16)
    outfile = sock.makefile("wb", 1 << 16)
    ser.write_frame(secret, outfile)
    outfile.flush()
    return infile, outfile, sock


def serve(infile: IO[bytes], outfile: IO[bytes]) -> None:
    commands: OrderedDict[str, TaskFunction] = OrderedDict()
    batcher = ser.AutoBatcher()
    while True:
        try:
            length = ser.read_int(infile)
        except EOFError:
            return  # The JVM went away.
        if length == ser.END_OF_STREAM:
            return
        if length < 0:
            raise ser.ProtocolError(f"expected a task header, got control code {length}")
        header = json.loads(ser.read_exactly(infile, length))
        command_id = header["commandId"]
        if header["hasCommand"]:
            command_bytes = ser.read_frame(infile)
        else:
            command_bytes = None
        task_input = _Input(infile)
        try:
            if command_bytes is not None:
                commands[command_id] = cloudpickle.loads(command_bytes)
                commands.move_to_end(command_id)  # A re-sent command is the newest, as the JVM sees it.
                if len(commands) > COMMAND_CACHE_SIZE:
                    commands.popitem(last=False)
            else:
                commands.move_to_end(command_id)
            func = commands[command_id]
            batcher.dump(func(header["partition"], iter(task_input)), outfile)
        except BaseException:  # noqa: B036 - every failure of user code is reported, even SystemExit
            report = traceback.format_exc()
            task_input.drain()
            ser.write_int(ser.EXCEPTION, outfile)
            ser.write_frame(report.encode("utf-8", "replace"), outfile)
            outfile.flush()
            continue
        task_input.drain()
        ser.write_int(ser.END_OF_DATA, outfile)
        outfile.flush()


def main() -> None:
    faulthandler.enable()
    infile, outfile, sock = _connect()
    try:
        serve(infile, outfile)
    finally:
        sock.close()


if __name__ == "__main__":
    main()
    sys.exit(0)
