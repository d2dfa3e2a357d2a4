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
import pickle
import socket
import sys
import traceback
from collections import OrderedDict
from typing import IO, Any, Callable, Iterable, Iterator

import cloudpickle

from ember import serializers as ser
from ember import shared

# The JVM assumes a worker still holds the last 32 commands it sent (WorkerPool.KNOWN_COMMANDS). Keeping more here
# means whatever the JVM thinks is cached always is.
COMMAND_CACHE_SIZE = 64

TaskFunction = Callable[[int, Iterator[Any]], Iterator[Any]]
SHUFFLE_BATCH = 1024


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
    commands: OrderedDict[str, shared.StageCommand] = OrderedDict()
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
        for bid in header.get("forgetBroadcasts", ()):
            shared.worker_forget_broadcast(bid)
        for _ in header.get("newBroadcasts", ()):
            bid = ser.read_int(infile)
            shared.worker_receive_broadcast(bid, ser.read_frame(infile))
        task_input = _Input(infile)
        command = None
        try:
            if command_bytes is not None:
                commands[command_id] = load_command(command_bytes)
                commands.move_to_end(command_id)  # A re-sent command is the newest, as the JVM sees it.
                if len(commands) > COMMAND_CACHE_SIZE:
                    commands.popitem(last=False)
            else:
                commands.move_to_end(command_id)
            command = commands[command_id]
            shared.start_task_accumulators(command.accumulators)
            records = command.func(header["partition"], iter(task_input))
            if header.get("output") == "shuffle":
                write_buckets(records, command.partition_func, header["numReducers"], outfile)
            else:
                batcher.dump(records, outfile)
        except BaseException:  # noqa: B036 - every failure of user code is reported, even SystemExit
            report = traceback.format_exc()
            task_input.drain()
            ser.write_int(ser.EXCEPTION, outfile)
            ser.write_frame(report.encode("utf-8", "replace"), outfile)
            outfile.flush()
            continue
        task_input.drain()
        ser.write_int(ser.END_OF_DATA, outfile)
        updates = shared.task_accumulator_updates(command.accumulators)
        if updates is None:
            ser.write_int(ser.NULL, outfile)
        else:
            ser.write_frame(ser.dumps_batch(updates), outfile)
        outfile.flush()


def load_command(blob: bytes) -> shared.StageCommand:
    """A command is the driver's addPyFile paths and the cloudpickled StageCommand; the paths go on sys.path
    first, since unpickling the command may import modules from them."""
    py_files, inner = pickle.loads(blob)
    for path in py_files:
        entry = os.path.dirname(path) if path.endswith(".py") else path
        if entry not in sys.path:
            sys.path.insert(0, entry)
    with shared.recording_accumulators() as accumulators:
        command = cloudpickle.loads(inner)
    command.accumulators = accumulators
    return command


def write_buckets(records: Iterable[Any], partition_func: Callable[[Any], int], reducers: int,
                  outfile: IO[bytes]) -> None:
    """Writes (key, value) records as batches per reduce partition, each frame preceded by its partition."""
    buckets: dict[int, list] = {}
    for record in records:
        bucket = partition_func(record[0]) % reducers
        batch = buckets.get(bucket)
        if batch is None:
            batch = buckets[bucket] = []
        batch.append(record)
        if len(batch) >= SHUFFLE_BATCH:
            ser.write_int(bucket, outfile)
            ser.write_frame(ser.dumps_batch(batch), outfile)
            buckets[bucket] = []
    for bucket, batch in buckets.items():
        if batch:
            ser.write_int(bucket, outfile)
            ser.write_frame(ser.dumps_batch(batch), outfile)


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
