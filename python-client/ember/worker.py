"""The Python worker: started by a JVM transport, it serves tasks one after another until told to stop.

Per task the JVM sends a JSON header frame, the pickled command unless this worker already has it, and the input
frames closed by END_OF_DATA. The worker answers with output frames and END_OF_DATA, or, when the user's function
raises, with EXCEPTION and a frame holding the traceback. Either way it first reads the rest of the input, so the
stream stays in step for the next task.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import pickle
import sys
import traceback
from collections import OrderedDict
from itertools import chain
from typing import IO, Any, Callable, Iterable, Iterator, Optional

import cloudpickle

from ember import merge, privatedirs
from ember import serializers as ser
from ember import shared
from ember import sparkfiles
from ember import taskcontext

# The JVM assumes a worker still holds the last 32 commands it sent (WorkerPool.KNOWN_COMMANDS). Keeping more here
# means whatever the JVM thinks is cached always is.
COMMAND_CACHE_SIZE = 64

TaskFunction = Callable[[int, Iterator[Any]], Iterator[Any]]
SHUFFLE_BATCH = 1024


class _Input:
    """The records of one task's input, read lazily so output can stream while input still arrives."""

    def __init__(self, stream: IO[bytes], codec: str = "pickle") -> None:
        self._frames = ser.read_frames(stream)
        self._load = ser.loader(codec)

    def __iter__(self) -> Iterator[Any]:
        # Chained in C: a record costs no generator step of its own (6% of a word count's worker time).
        return chain.from_iterable(map(self._load, self._frames))

    def drain(self) -> None:
        """Reads what the task left of its input (nothing once it read all)."""
        for _ in self._frames:
            pass


class _PartedInput:
    """The input of a task of an aligned stage: its partition of each of the stage's input segments, one part after
    another, each part after the first announced by NEXT_INPUT and a frame naming its codec. ``parts()`` gives one
    iterator of records per part (for the union's dispatch); iterating the object itself gives all records."""

    def __init__(self, stream: IO[bytes], codec: str) -> None:
        self._stream = stream
        self._codec = codec
        self._ended = False  # END_OF_DATA has been read
        self._between = False  # NEXT_INPUT has been read, the next part's codec frame not yet

    def _frames(self) -> Iterator[bytes]:
        """The frames of the current part, up to the code that ends it."""
        while True:
            length = ser.read_length(self._stream)
            if length == ser.END_OF_DATA:
                self._ended = True
                return
            if length == ser.NEXT_INPUT:
                self._between = True
                return
            if length < 0:
                raise ser.ProtocolError(f"unexpected control code {length} in a task's input")
            yield ser.read_exactly(self._stream, length)

    def _next_codec(self) -> str:
        self._between = False
        self._codec = ser.read_frame(self._stream).decode("utf-8")
        return self._codec

    def parts(self) -> Iterator[Iterator[Any]]:
        load = ser.loader(self._codec)
        while True:
            frames = self._frames()
            yield chain.from_iterable(map(load, frames))
            for _ in frames:  # what the consumer left of this part
                pass
            if self._ended:
                return
            load = ser.loader(self._next_codec())

    def __iter__(self) -> Iterator[Any]:
        return chain.from_iterable(self.parts())

    def drain(self) -> None:
        while not self._ended:
            if self._between:
                self._next_codec()
            for _ in self._frames():
                pass


class _TaskOutput:
    """Stands in for sys.stdout and sys.stderr in a worker: each line user code prints is prefixed with the stage
    and partition of the task, so the driver (which forwards worker output) can say where it came from. Lines go
    out whole, one write each, so workers sharing an output pipe never interleave within a line."""

    prefix = ""
    # Set while a task's output is captured: each labelled line goes to the JVM through the task's data stream
    # (for a driver of a service) instead of to this process's standard streams.
    sink: Optional[Callable[[str], None]] = None

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            *lines, self._pending = self._pending.split("\n")
            self._emit([f"{_TaskOutput.prefix}{line}" for line in lines])
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._emit([f"{_TaskOutput.prefix}{self._pending}"])
            self._pending = ""
        if _TaskOutput.sink is None:
            self._stream.flush()

    def _emit(self, lines: list[str]) -> None:
        sink = _TaskOutput.sink
        if sink is not None:
            for line in lines:
                sink(line)
            return
        self._stream.write("".join(line + "\n" for line in lines))
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def prefix_task_output() -> None:
    """Called once when a worker starts serving: prints go to the worker's stderr, prefixed and line-buffered."""
    sys.stdout = _TaskOutput(sys.stdout)
    sys.stderr = _TaskOutput(sys.stderr)


def _pipe_streams() -> tuple[IO[bytes], IO[bytes]]:
    """Takes stdin and stdout for the frame protocol and points file descriptors 0 and 1 elsewhere, so nothing
    user code prints or reads can touch the data stream."""
    data_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    data_out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    return data_in, data_out


def serve(infile: IO[bytes], outfile: IO[bytes]) -> None:
    """Serves tasks until the JVM ends the stream (or goes away)."""
    _tune_gc()
    _keep_freed_memory()
    try:
        _serve(infile, outfile)
    finally:
        remove_unpacked_files()


def _tune_gc() -> None:
    """Collects cycles less often than Python's default, which is made for programs that allocate a few objects at a
    time: a task allocates millions (every record a batch unpickles, every group a merge builds), and with the
    default thresholds the cyclic collector, scanning ever larger generations, took a quarter of a shuffle-heavy
    job's time (W7). Garbage in cycles is still collected, after 50,000 allocations instead of 700. What the worker
    holds before its first task (modules, the daemon's state) is frozen: collections never scan it, nor touch the
    pages a forked worker shares with the daemon."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


#: glibc's mallopt parameters, and the size below which blocks come from the heap and the free memory its top keeps.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
HEAP_BLOCKS_BELOW = 32 << 20


def _keep_freed_memory() -> bool:
    """Keeps memory a task frees for the next block instead of giving it back to the kernel at once. By default
    glibc maps a block of 1 MiB or more on its own (or trims the heap's top once 2 MiB are free), so a worker that
    makes and drops big objects (a 1 MB record, the pickled batch holding it) takes a page fault for every page of
    each new one: 0.6 s of system time per GB on a VM. Blocks under 32 MiB now come from the heap, which keeps up to
    32 MiB free at its top. True if set (Linux with glibc); elsewhere the allocator's defaults stay."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # No C library to load, or one without mallopt (musl).
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, HEAP_BLOCKS_BELOW)) and bool(mallopt(_M_TRIM_THRESHOLD, HEAP_BLOCKS_BELOW))


def _serve(infile: IO[bytes], outfile: IO[bytes]) -> None:
    prefix_task_output()
    # Pickled commands by id. Each task unpickles its own copy, as PySpark does, so state a function keeps in its
    # closure (or a fold's zero value) never leaks from one task into the next.
    commands: OrderedDict[str, bytes] = OrderedDict()
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
        if header.get("aligned"):
            task_input: Any = _PartedInput(infile, header.get("inputCodec", "pickle"))
        else:
            task_input = _Input(infile, header.get("inputCodec", "pickle"))
        _TaskOutput.prefix = f"[stage {header.get('stage')} partition {header['partition']}] "
        _TaskOutput.sink = (lambda line: ser.write_output(line, outfile)) if header.get("captureOutput") else None
        command = None
        try:
            if command_bytes is not None:
                commands[command_id] = command_bytes
                commands.move_to_end(command_id)  # A re-sent command is the newest, as the JVM sees it.
                if len(commands) > COMMAND_CACHE_SIZE:
                    commands.popitem(last=False)
            else:
                commands.move_to_end(command_id)
            command = load_command(commands[command_id])
            taskcontext.start_task(header, command.local_properties, command.cpus)
            shared.start_task_accumulators(command.accumulators)
            # An aligned stage's function (a union's dispatch) takes the input itself, for its parts.
            records = command.func(header["partition"], task_input if header.get("aligned") else iter(task_input))
            if header.get("output") == "shuffle":
                assert command.partition_func is not None  # a shuffle map stage's command has one
                write_buckets(records, command.partition_func, header["numReducers"], outfile)
            elif header.get("output") == "files":
                ser.dump_lines(records, outfile, header["outputCodec"])
            else:
                batcher.dump(records, outfile)
        except BaseException as error:  # noqa: B036 - every failure of user code is reported, even SystemExit
            report = traceback.format_exc()
            task_input.drain()
            # Before the driver hears of the failure: it may look for (or the user remove) the spills at once.
            merge.remove_task_spills()
            _finish_task_output()
            ser.write_int(ser.EXCEPTION, outfile)
            ser.write_frame(report.encode("utf-8", "replace"), outfile)
            ser.write_frame(_pickle_exception(error), outfile)
            outfile.flush()
            continue
        task_input.drain()
        merge.remove_task_spills()
        _finish_task_output()
        ser.write_int(ser.END_OF_DATA, outfile)
        updates = shared.task_accumulator_updates(command.accumulators)
        if updates is None:
            ser.write_int(ser.NULL, outfile)
        else:
            ser.write_frame(ser.dumps(updates), outfile)
        outfile.flush()


def _finish_task_output() -> None:
    """A last line printed without a newline still goes out with its task's label, before the task's end."""
    sys.stdout.flush()
    sys.stderr.flush()
    _TaskOutput.sink = None


def _pickle_exception(error: BaseException) -> bytes:
    """The exception's class, args and attributes, pickled for the driver to rebuild it as the user's own type
    without calling its __init__ (custom exceptions often take other arguments than their args). Attributes that
    cannot be pickled are left out; a class that cannot be pickled gives b"" and the driver raises
    PythonException with the traceback alone."""
    attributes = dict(getattr(error, "__dict__", {}))
    for candidate in (attributes, {}):
        try:
            data = cloudpickle.dumps((type(error), error.args, candidate))
            pickle.loads(data)
            return data
        except Exception:
            continue
    return b""


#: Shipped files unpacked by this worker, by content hash: each set once per worker, removed when it ends (or swept
#: by the next start if it is killed: they are owned private directories).
_unpacked_files: dict[str, str] = {}


def _unpack_shipped_files(digest: str, broadcast_id: int) -> str:
    directory = _unpacked_files.get(digest)
    if directory is None:
        import io
        import zipfile
        directory = privatedirs.mkdtemp("files-")
        with zipfile.ZipFile(io.BytesIO(shared.worker_broadcast_value(broadcast_id))) as archive:
            archive.extractall(directory)
        _unpacked_files[digest] = directory
    return directory


def remove_unpacked_files() -> None:
    while _unpacked_files:
        privatedirs.remove(_unpacked_files.popitem()[1])


def load_command(blob: bytes) -> shared.StageCommand:
    """A command is what the job's tasks share (the driver's addPyFile paths, the SparkFiles directory, the driver
    thread's local properties, spark.task.cpus) and the cloudpickled StageCommand. The paths go on sys.path first,
    since unpickling the command may import modules from them."""
    job, inner = pickle.loads(blob)
    files_root, py_files = job["filesRoot"], job["pyFiles"]
    shipped = job.get("shippedFiles")
    if shipped is not None:
        # On a cluster the driver's paths are on another machine: its files came as a zip, unpacked here.
        files_root = _unpack_shipped_files(shipped["hash"], shipped["broadcast"])
    # The copies addPyFile made, as PySpark's workers import them: not the driver's own paths, which may change or
    # go after the call (and whose directory may hold other modules).
    py_files = [os.path.join(files_root, os.path.basename(path.rstrip(os.sep))) for path in py_files]
    for path in py_files:
        entry = os.path.dirname(path) if path.endswith(".py") else path
        if entry not in sys.path:
            sys.path.insert(0, entry)
    merge.job_memory = job.get("workerMemory")
    sparkfiles.SparkFiles._root_directory = files_root
    sparkfiles.SparkFiles._is_running_on_worker = True
    with shared.recording_accumulators() as accumulators:
        command = cloudpickle.loads(inner)
    command.accumulators = accumulators
    command.local_properties = job["localProperties"]
    command.cpus = job["cpus"]
    return command


#: Key types whose portable_hash is their hash(): not None, not tuples (nor their subclasses), which it combines.
_HASHED_DIRECTLY = frozenset({int, str, bytes, float, bool})


def write_buckets(records: Iterable[Any], partition_func: Callable[[Any], int], reducers: int,
                  outfile: IO[bytes]) -> None:
    """Writes (key, value) records as batches per reduce partition, each frame preceded by its partition."""
    buckets: list[list] = [[] for _ in range(reducers)]
    # portable_hash (the default) is hash() itself for keys of these types: such keys skip the Python call. Its
    # module is loaded if the command holds it. Without PYTHONHASHSEED every key goes to it, to fail as it does.
    rdd = sys.modules.get("ember.rdd")
    hashed_directly: frozenset = frozenset()
    if rdd is not None and partition_func is getattr(rdd, "portable_hash", None) and "PYTHONHASHSEED" in os.environ:
        hashed_directly = _HASHED_DIRECTLY
    for record in records:
        key = record[0]
        bucket = (hash(key) if type(key) in hashed_directly else partition_func(key)) % reducers
        batch = buckets[bucket]
        batch.append(record)
        if len(batch) >= SHUFFLE_BATCH:
            ser.write_int(bucket, outfile)
            ser.write_frame(ser.dumps_batch(batch), outfile)
            buckets[bucket] = []
    for bucket, batch in enumerate(buckets):
        if batch:
            ser.write_int(bucket, outfile)
            ser.write_frame(ser.dumps_batch(batch), outfile)


def main() -> None:
    """A worker on the pipe transport: the JVM started this process and talks to it over its stdin and stdout.
    (Socket transports fork workers from ember.daemon instead.)"""
    faulthandler.enable()
    transport = os.environ.get("EMBER_WORKER_TRANSPORT", "pipe")
    if transport != "pipe":
        raise SystemExit(f"ember.worker runs on the pipe transport; {transport!r} workers come from ember.daemon")
    infile, outfile = _pipe_streams()
    ser.write_int(os.getpid(), outfile)
    outfile.flush()
    serve(infile, outfile)


if __name__ == "__main__":
    main()
    sys.exit(0)
