"""SparkContext: the driver's entry point, as in PySpark."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import pickle
import re
import sys
import threading
import time
import warnings
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Optional, TypeVar, overload

from ember.conf import SparkConf
from ember.errors import EmberError, EmberStartError, SparkJobError, java_message
from ember.launch import Launched, Remote, find_home, find_secret
from ember.merge import parse_memory

if TYPE_CHECKING:
    from py4j.protocol import Py4JError, Py4JJavaError

    from ember import files
    from ember import serializers as ser
    from ember.java_gateway import ConnectionLost, SideChannel, check_runtime_version, connect
    from ember.plan import PlanBuilder, stage_partitions
    from ember.progress import JobTracker, StatusTracker, make_progress_bar
    from ember.rdd import RDD
    from ember.shared import (COMPLEX_ACCUMULATOR_PARAM, FLOAT_ACCUMULATOR_PARAM, INT_ACCUMULATOR_PARAM,
                              Accumulator, AccumulatorParam, Broadcast)

DEFAULT_BATCH_SIZE = 1024
# Type parameters of the signatures (RDD[T], Broadcast[T], ...), for type checkers only.
T = TypeVar("T")
U = TypeVar("U")
LOG_LEVELS = ("ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN")


def parse_master(master: str) -> tuple[int, Optional[int]]:
    """The worker slots ``local``, ``local[N]``, ``local[*]``, ``local[N, F]`` or ``local-cluster[N, C, M]`` asks
    for, and F (task failures allowed) when given. ``ember://host:port`` (a running service) gets one slot per
    core."""
    if master == "local":
        return 1, None
    if master.startswith("ember://"):
        return os.cpu_count() or 1, None
    if master.startswith("ember-cluster://"):
        # A cluster's scheduler reports the real slot count when the session opens (see _connect).
        if not re.fullmatch(r"ember-cluster://[^/:\s]+:\d+(,[^/:\s]+:\d+)*/?", master):
            raise ValueError(f"Could not parse Master URL: '{master}' (expected ember-cluster://host:port, a "
                             f"member of the cluster)")
        return os.cpu_count() or 1, None
    cluster = re.fullmatch(r"local-cluster\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]", master)
    if cluster:
        # Spark's test master (N executors of C cores, M MiB each): Ember runs it as one local pool of N * C slots,
        # with Spark's cluster default of 4 attempts per task (see SparkContext).
        slots = int(cluster.group(1)) * int(cluster.group(2))
        if slots < 1:
            raise ValueError(f"Master URL '{master}' asks for {slots} task slots; at least 1 is needed")
        return slots, None
    match = re.fullmatch(r"local\[\s*(\*|\d+)\s*(?:,\s*(\d+)\s*)?\]", master)
    if not match:
        raise ValueError(f"Could not parse Master URL: '{master}' (Ember runs 'local', 'local[N]', 'local[*]', "
                         f"'local[N, F]', 'ember://host:port' or 'ember-cluster://host:port')")
    slots = (os.cpu_count() or 1) if match.group(1) == "*" else int(match.group(1))
    if slots < 1:
        raise ValueError(f"Master URL '{master}' asks for {slots} workers; at least 1 is needed")
    return slots, int(match.group(2)) if match.group(2) else None


# The local property that holds a thread's job tags, as in Spark.
JOB_TAGS = "spark.job.tags"


def _check_tag(tag: str) -> None:
    if not tag:
        raise ValueError("Spark job tag cannot be an empty string.")
    if "," in tag:
        raise ValueError(f"Spark job tag cannot contain ','; got {tag!r}")


_warned_ignored: set[str] = set()


def _warn_ignored(**arguments: Any) -> None:
    """Says once per argument that Ember ignores it, when a program passes it."""
    for name, value in arguments.items():
        if value is not None:
            _warn_once(name, f"SparkContext({name}=...) is ignored by Ember: {_IGNORED_BECAUSE[name]}", stacklevel=4)


def _warn_once(key: str, message: str, stacklevel: int = 3) -> None:
    if key not in _warned_ignored:
        _warned_ignored.add(key)
        warnings.warn(message, UserWarning, stacklevel=stacklevel)


_IGNORED_BECAUSE = {
    "sparkHome": "Ember runs its own distribution (set EMBER_HOME or spark.ember.home to choose one)",
    "serializer": "records always travel as batched pickles (cloudpickle for functions)",
    "gateway": "the driver starts or connects to Ember's own gateway",
    "jsc": "there is no JavaSparkContext in Ember",
    "profiler_cls": "Ember has no Python profiler hooks",
}


@contextlib.contextmanager
def _quiet_py4j() -> Iterator[None]:
    """Py4J logs a traceback at ERROR for every call to a gateway that went away; where the caller handles that
    itself (stopping a context), those tracebacks only bury what it says."""
    import logging  # Py4J has imported it by now; the driver's start-up does not pay for it.
    logger = logging.getLogger("py4j")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


class _InterruptsDeferred:
    """Holds back Ctrl-C while a job is being submitted: a KeyboardInterrupt raised inside the Py4J call would leave
    the job running with no id to cancel it by (and the next job queued behind it). The interrupt is raised again by
    ``raise_pending()`` once the job's id is known, where the driver cancels it. Only the main thread receives
    signals, and only Python's own handler is swapped; a handler the program installed is left alone."""

    def __init__(self) -> None:
        self.interrupted = False
        self._previous: Any = None

    def __enter__(self) -> "_InterruptsDeferred":
        import signal
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._record)
        return self

    def _record(self, signum: int, frame: Any) -> None:
        self.interrupted = True

    def __exit__(self, *exc_info: Any) -> None:
        if self._previous is not None:
            import signal
            signal.signal(signal.SIGINT, self._previous)

    def raise_pending(self) -> None:
        if self.interrupted:
            self.interrupted = False
            raise KeyboardInterrupt


def _import_driver_modules() -> None:
    """Imports what the driver needs besides launching: Py4J, cloudpickle, the plan builder, the RDD API.

    ``SparkContext()`` calls this after it has launched the JVM, so these ~0.1 s of imports overlap the JVM's boot
    instead of preceding it; ``from ember import SparkContext`` alone imports only the standard library and the
    modules above. The names are this module's globals, as if imported at its top."""
    global Py4JError, Py4JJavaError, files, ser, ConnectionLost, SideChannel, connect, PlanBuilder, stage_partitions
    global make_progress_bar, JobTracker, check_runtime_version
    global StatusTracker, RDD, COMPLEX_ACCUMULATOR_PARAM, FLOAT_ACCUMULATOR_PARAM, INT_ACCUMULATOR_PARAM
    global Accumulator, AccumulatorParam, Broadcast
    # socket.getaddrinfo() encodes a str host with the IDNA codec, whose first use imports it (~6 ms); Py4J's first
    # connection would pay that after the JVM is up.
    import encodings.idna  # noqa: F401
    from py4j.protocol import Py4JError, Py4JJavaError

    from ember import files
    from ember import serializers as ser
    from ember.java_gateway import ConnectionLost, SideChannel, check_runtime_version, connect
    from ember.plan import PlanBuilder, stage_partitions
    from ember.progress import JobTracker, StatusTracker, make_progress_bar
    from ember.rdd import RDD
    from ember.shared import (COMPLEX_ACCUMULATOR_PARAM, FLOAT_ACCUMULATOR_PARAM, INT_ACCUMULATOR_PARAM,
                              Accumulator, AccumulatorParam, Broadcast)


class SparkContext:
    """Connects to Ember, launching the distribution as a child process, and creates RDDs. Only one runs at a time
    in a process: make it with ``SparkContext("local[2]", "my app")`` (or ``with SparkContext(...) as sc:``, which
    stops it at the end), and ``stop()`` it before making another.

    Examples
    --------
    >>> numbers = sc.parallelize(range(1, 5))
    >>> numbers.map(lambda x: x * x).sum()
    30
    """

    _active_spark_context: Optional["SparkContext"] = None
    _lock = threading.RLock()

    def __init__(self, master: Optional[str] = None, appName: Optional[str] = None,
                 sparkHome: Optional[str] = None, pyFiles: Optional[list[str]] = None,
                 environment: Optional[dict[str, Any]] = None, batchSize: int = 0,
                 serializer: Any = None, conf: Optional[SparkConf] = None, gateway: Any = None,
                 jsc: Any = None, profiler_cls: Any = None) -> None:
        from ember.taskcontext import TaskContext
        allowed_in_tasks = conf is not None and conf.get("spark.executor.allowSparkContext", "false").lower() == "true"
        if TaskContext.get() is not None and not allowed_in_tasks:
            raise RuntimeError("[CONTEXT_ONLY_VALID_ON_DRIVER] It appears that you are attempting to create a "
                               "SparkContext inside a task: SparkContext can only be used on the driver, not in "
                               "code that runs on workers. For more information, see SPARK-5063.")
        if gateway is not None and getattr(getattr(gateway, "gateway_parameters", None), "auth_token", None) is None:
            raise ValueError("You are trying to pass an insecure Py4j gateway to Spark. This is not allowed as it is "
                             "a security risk (and Ember does not use a caller's gateway: it starts or connects to "
                             "its own).")
        _warn_ignored(sparkHome=sparkHome, serializer=serializer, gateway=gateway, jsc=jsc,
                      profiler_cls=profiler_cls)
        with SparkContext._lock:
            if SparkContext._active_spark_context is not None:
                raise ValueError(
                    f"Cannot run multiple SparkContexts at once; existing SparkContext(app="
                    f"{SparkContext._active_spark_context.appName}, master={SparkContext._active_spark_context.master})")
            self._conf = conf if conf is not None else SparkConf()
            if master:
                self._conf.setMaster(master)
            if appName:
                self._conf.setAppName(appName)
            if not self._conf.contains("spark.master") and os.environ.get("EMBER_GATEWAY"):
                # A running service named by the environment, when the program names no master itself.
                self._conf.setMaster("ember://" + os.environ["EMBER_GATEWAY"])
            self._conf.setIfMissing("spark.master", "local[*]")
            self._conf.setIfMissing("spark.app.name", "ember")
            # Both set just above: the defaults only tell a type checker the values are strings.
            self.master: str = self._conf.get("spark.master", "local[*]")
            self.appName: str = self._conf.get("spark.app.name", "ember")
            self._parallelism, max_failures = parse_master(self.master)
            # As in Spark, a local master runs each task once (local[N, F] allows F attempts); spark.task.maxFailures
            # (4 by default for a service and local-cluster) also applies to a local master when set. A task whose worker died is
            # retried either way (the engine's own budget): that is not the code's failure.
            default_failures = "4" if self.master.startswith(("ember://", "local-cluster[")) else "1"
            self._max_task_failures = max_failures or int(self._conf.get("spark.task.maxFailures", default_failures))
            if self._max_task_failures < 1:
                raise ValueError(f"spark.task.maxFailures must be at least 1, got {self._max_task_failures}")
            self._batch_size = batchSize if batchSize > 0 else DEFAULT_BATCH_SIZE
            self.environment = {k[len("spark.executorEnv."):]: v for k, v in self._conf.getAll()
                                if k.startswith("spark.executorEnv.")}
            self.environment.update({k: str(v) for k, v in (environment or {}).items()})
            self._stopped = False
            self._ids = itertools.count(1)
            self._pending_drops: list[tuple[str, int]] = []
            self._py_files: list[str] = []
            self._added_files: dict[str, str] = {}  # Base name -> source path, of files added with addFile.
            self._added_archives: dict[str, str] = {}  # The same for addArchive.
            self._files_dir: Optional[str] = None
            # On a cluster, tasks run on other machines: the files directory travels as a zip in a broadcast,
            # made again when files are added ({"hash": ..., "broadcast": id}, or None before the first).
            self._ships_files = self.master.startswith("ember-cluster://")
            self._shipped_files: Optional[dict[str, Any]] = None
            self._files_changed = self._ships_files  # The first job ships the directory, empty or not.
            self._checkpoint_dir: Optional[str] = None
            self._running_jobs: dict[int, set[str]] = {}  # Job id -> its tags, while the job runs.
            self._task_cpus = int(self._conf.get("spark.task.cpus", "1"))
            self._accumulators: dict[int, Accumulator] = {}
            self._broadcast_values: dict[int, Any] = {}
            self._broadcasts: set[int] = set()  # Broadcast ids whose value the engine holds now.
            self._local = threading.local()
            self._launch()
            try:
                _import_driver_modules()  # While the JVM boots.
                self._tracker = JobTracker()
                self._progress_bar = make_progress_bar(self._tracker, self._conf.get("spark.ui.showConsoleProgress"))
                # Events cost a little per task, so they flow only while someone watches.
                self._track_jobs = self._progress_bar is not None
            except BaseException:
                self._launched.close()
                raise
            self._ui_url: Optional[str] = None
            self._connect()
            self.startTime = int(time.time() * 1000)
            if self._ui_enabled() and self.uiWebUrl:
                # As Spark's driver says where its UI is, once, as it starts.
                print(f"Ember web UI at {self._ui_url}", file=sys.stderr, flush=True)
            SparkContext._active_spark_context = self
        try:
            for path in [*(pyFiles or []), *filter(None, self._conf.get("spark.submit.pyFiles", "").split(","))]:
                self.addPyFile(path)
            # What spark-submit's --files and --archives (ember-submit's too) name, as Spark adds them.
            for path in filter(None, self._conf.get("spark.files", "").split(",")):
                self.addFile(path)
            for path in filter(None, self._conf.get("spark.archives", "").split(",")):
                self.addArchive(path)
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)

    def _launch(self) -> None:
        """Launches the JVM (local masters) or names the service to connect to; does not wait for either."""
        if self.master.startswith("ember://"):
            host, _, port = self.master[len("ember://"):].rstrip("/").rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"Could not parse Master URL: '{self.master}' (expected ember://host:port)")
            self._launched: Launched | Remote = Remote(
                host, int(port), find_secret(self._conf.get("spark.ember.secret"), int(port)))
            # As for a local master, the lines tasks print come with each job's results, to this driver alone;
            # spark.ember.workerOutput=log leaves them in the service's logs/ember.out.
            self._output_with_results = self._conf.get("spark.ember.workerOutput", "driver").lower() == "driver"
        else:
            # What tasks print comes back with each job's results (output frames), and is written to the driver's
            # stderr before the action returns: in a notebook, under the cell that ran the job.
            # spark.ember.workerOutput=log leaves it in the JVM's log instead.
            self._output_with_results = self._conf.get("spark.ember.workerOutput", "driver").lower() == "driver"
            home = find_home(self._conf.get("spark.ember.home"))
            timeout = float(self._conf.get("spark.ember.startTimeout", "60"))
            cluster = self.master.startswith("ember-cluster://")
            # On a cluster the workers run on the members: none to start here.
            self._launched = Launched(home, timeout, None if cluster else (self._python_exec(), self._worker_env()),
                                      self._java_options(), cluster=cluster)

    def _java_options(self) -> Optional[str]:
        """spark.driver.extraJavaOptions, and the web UI's settings for the JVM this driver launches."""
        options = [self._conf.get("spark.driver.extraJavaOptions") or ""]
        if not self._ui_enabled():
            options.append("-Dember.ui.enabled=false")
        port = self._conf.get("spark.ui.port")
        if port is not None:
            if not str(port).strip().isdigit() or int(port) > 65535:
                raise ValueError(f"spark.ui.port must be a port number (0 for any free port), got {port!r}")
            options.append(f"-Dember.ui.port={int(port)}")
        return " ".join(option for option in options if option.strip()) or None

    def _ui_enabled(self) -> bool:
        return (self._conf.get("spark.ui.enabled") or "true").strip().lower() != "false"

    def _connect(self) -> None:
        """Waits for the gateway, connects, and opens this driver's session and its side channel."""
        try:
            self._launched.await_gateway()
            self._gateway, self._entry = connect(self._launched.port, self._launched.secret, self._launched.host)
            check_runtime_version(self._entry, f"{self._launched.host}:{self._launched.port}")
            session_conf = {
                "appName": self.appName,
                "parallelism": self._parallelism,
                "pythonExec": self._python_exec(),
                "workerEnv": self._worker_env(),
                "maxTaskFailures": self._max_task_failures,
                "workerMemoryLimit": self._worker_memory_limit(),
                "master": self.master,
                "driverPid": os.getpid(),  # for the service's log and ember:sessions
                # What the engine may need of the driver's settings (a cluster's name and secret, say).
                "settings": {**{key: value for key, value in self._conf.getAll()
                                if key.startswith("spark.ember.") and key != "spark.ember.secret"},
                             "ember.python.version": f"{sys.version_info[0]}.{sys.version_info[1]}"},
            }
            if self._conf.get("spark.ember.engine"):
                session_conf["engine"] = self._conf.get("spark.ember.engine")
            try:
                self._session = self._entry.openSession(json.dumps(session_conf))
            except Py4JJavaError as e:
                raise EmberStartError(f"could not open a session: {java_message(e)}") from None
            # The engine decides: a cluster's has as many slots as its members have cores.
            self._parallelism = self._session.defaultParallelism()
            self._side = SideChannel(self._entry.sidePort(), self._launched.secret, self._session.token(),
                                     self._launched.host)
            self._lease = self._side.attach()
        except BaseException:
            self._launched.close()
            raise

    def statusTracker(self) -> StatusTracker:
        """PySpark's status API. Every job of this context is known from its plan; live task counts of running
        stages come from the engine's events, which flow from the first time a tracker (or the console bar) asks
        for them (they cost a little per task).

        Examples
        --------
        >>> tracker = sc.statusTracker()
        >>> sc.setJobGroup("doc-tracked", "a job to look up")
        >>> sc.parallelize(range(4), 2).count()
        4
        >>> sc.setJobGroup(None, None)
        >>> [job] = tracker.getJobIdsForGroup("doc-tracked")
        >>> tracker.getJobInfo(job).status, tracker.getActiveJobsIds()
        ('SUCCEEDED', [])
        """
        self._track_jobs = True
        return StatusTracker(self._tracker)

    def _python_exec(self) -> str:
        return (self._conf.get("spark.pyspark.python") or os.environ.get("PYSPARK_PYTHON") or sys.executable)

    def _worker_env(self) -> dict[str, str]:
        env = dict(self.environment)
        # Workers import what the driver can: its script directory, site-packages and PYTHONPATH.
        paths = [p for p in sys.path if p and os.path.exists(p)]
        existing = env.get("PYTHONPATH") or os.environ.get("PYTHONPATH")
        if existing:
            paths.append(existing)
        env["PYTHONPATH"] = os.pathsep.join(paths)
        # The same hash seed everywhere, so string keys hash alike in every worker.
        env.setdefault("PYTHONHASHSEED", "0")
        env.setdefault("EMBER_PYTHON_WORKER_MEMORY", self._conf.get("spark.python.worker.memory", "512m"))
        return env

    def __repr__(self) -> str:
        return f"<SparkContext master={self.master} appName={self.appName}>"

    def __getnewargs__(self) -> Any:
        raise RuntimeError(
            "It appears that you are attempting to reference SparkContext from a broadcast variable, action, or "
            "transformation. SparkContext can only be used on the driver, not in code that it run on workers. "
            "For more information, see SPARK-5063.")

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> "SparkContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops the session and the JVM this context launched (and with it every worker)."""
        with SparkContext._lock:
            if self._stopped:
                return
            self._stopped = True
            if not self._launched.alive():
                # Nothing to tell a JVM that is gone; Py4J would log a traceback for each call it tried.
                print("ember: " + self._launched.death_report().split(";")[0] + " before stop(); cleaning up",
                      file=sys.stderr)
            else:
                with _quiet_py4j():
                    try:
                        self._session.stop()
                    except (Py4JError, OSError):
                        pass  # The gateway went away meanwhile (a service that stopped): closing is all that is left.
            with _quiet_py4j():
                try:
                    self._gateway.close()
                except (Py4JError, OSError):
                    pass
            try:
                self._lease.close()
            except (AttributeError, OSError):
                pass
            self._launched.close()
            if self._files_dir is not None:
                from ember import privatedirs
                privatedirs.remove(self._files_dir)
            if SparkContext._active_spark_context is self:
                SparkContext._active_spark_context = None

    @classmethod
    def getOrCreate(cls, conf: Optional[SparkConf] = None) -> "SparkContext":
        """The running SparkContext, or a new one made from ``conf`` when there is none (only one runs at a time
        in a process).

        Examples
        --------
        >>> SparkContext.getOrCreate() is sc
        True
        """
        with cls._lock:
            if cls._active_spark_context is None:
                cls(conf=conf or SparkConf())
            return cls._active_spark_context  # type: ignore[return-value]  # made just above

    # -- properties --------------------------------------------------------------------------------------------

    @property
    def defaultParallelism(self) -> int:
        """How many tasks run at once (the worker slots the master gives: N for ``local[N]``, the members' cores on
        a cluster); the default number of partitions of ``parallelize`` and ``range``.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3]).getNumPartitions() == sc.defaultParallelism
        True
        """
        return self._parallelism

    @property
    def defaultMinPartitions(self) -> int:
        """The default least number of partitions of the files' RDDs (``textFile``, ...): at most 2.

        Examples
        --------
        >>> sc.defaultMinPartitions == min(sc.defaultParallelism, 2)
        True
        """
        return min(self.defaultParallelism, 2)

    @property
    def version(self) -> str:
        """The PySpark version whose API Ember implements; Ember's own version is ``ember.__version__``.

        Examples
        --------
        >>> sc.version
        '4.3.0'
        """
        from ember import PYSPARK_API_VERSION
        return PYSPARK_API_VERSION

    @property
    def applicationId(self) -> str:
        """This context's id: ``local-<session>`` for a local master, ``ember-<session>`` for a service,
        ``cluster-<session>`` on a cluster.

        Examples
        --------
        >>> sc.applicationId.startswith(("local-", "ember-", "cluster-"))
        True
        """
        prefix = ("ember" if self.master.startswith("ember://")
                  else "cluster" if self.master.startswith("ember-cluster://") else "local")
        return f"{prefix}-{self._session.id()}"

    def _repr_html_(self) -> str:
        """What a notebook shows for the context: its master, app name and versions, and a link to the web UI when
        there is one."""
        from html import escape

        import ember
        url = self.uiWebUrl
        ui = f'<p><a href="{escape(url)}">Web UI</a></p>' if url else ""
        rows = [("Master", self.master), ("App name", self.appName), ("Ember", ember.__version__),
                ("PySpark API", self.version), ("Parallelism", str(self.defaultParallelism))]
        if self._stopped:
            rows.append(("State", "stopped"))
        cells = "".join(f"<dt>{name}</dt><dd><code>{escape(value)}</code></dd>" for name, value in rows)
        return f'<div class="ember-context"><p><b>SparkContext (Ember)</b></p>{ui}<dl>{cells}</dl></div>'

    @property
    def uiWebUrl(self) -> Optional[str]:
        """The URL of the web UI (the JVM's, or the service's), or None when it does not run: ``spark.ui.enabled``
        is false, or the ``dev.ember.ui`` bundle is not installed. ``spark.ui.port`` sets the port of a local
        master's UI (4040 by default, the next free one when taken; 0 for any).

        Examples
        --------
        >>> url = sc.uiWebUrl
        >>> url is None or url.startswith("http://")
        True
        """
        if self._ui_url is None and not self._stopped and self._ui_enabled():
            self._ui_url = self._entry.uiWebUrl()
        return self._ui_url

    def sparkUser(self) -> str:
        """The user this context runs as (``SPARK_USER`` when set, as in Spark).

        Examples
        --------
        >>> import getpass, os
        >>> sc.sparkUser() == (os.environ.get("SPARK_USER") or getpass.getuser())
        True
        """
        import getpass
        return os.environ.get("SPARK_USER") or getpass.getuser()

    @property
    def resources(self) -> dict[str, Any]:
        """Resources (GPUs, ...) of the driver: none on Ember.

        Examples
        --------
        >>> sc.resources
        {}
        """
        return {}

    @property
    def pythonVer(self) -> str:
        """The driver's Python version, ``major.minor``; the workers run the same.

        Examples
        --------
        >>> import sys
        >>> sc.pythonVer == "%d.%d" % sys.version_info[:2]
        True
        """
        return "%d.%d" % sys.version_info[:2]

    @property
    def pythonExec(self) -> str:
        """The Python the workers run: ``spark.pyspark.python``, else ``PYSPARK_PYTHON``, else the driver's own.

        Examples
        --------
        >>> import os, sys
        >>> sc.pythonExec == (sc.getConf().get("spark.pyspark.python") or os.environ.get("PYSPARK_PYTHON")
        ...                   or sys.executable)
        True
        """
        return self._python_exec()

    def getConf(self) -> SparkConf:
        """A copy of this context's configuration (changing it changes nothing for the context).

        Examples
        --------
        >>> conf = sc.getConf()
        >>> conf.get("spark.app.name") == sc.appName, conf.get("spark.master") == sc.master
        (True, True)
        >>> conf.set("spark.app.name", "renamed").get("spark.app.name")
        'renamed'
        >>> sc.getConf().get("spark.app.name") == sc.appName
        True
        """
        copy = SparkConf(loadDefaults=False)
        copy.setAll(self._conf.getAll())
        return copy

    # -- creating RDDs -----------------------------------------------------------------------------------------

    def parallelize(self, c: Iterable[T], numSlices: Optional[int] = None) -> "RDD[T]":
        """Distributes a local collection into ``numSlices`` partitions (``defaultParallelism`` by default); slices
        are as even as PySpark makes them. A ``range`` is not copied: each partition makes its own part of it.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4, 5], 2).glom().collect()
        [[1, 2], [3, 4, 5]]
        >>> sc.parallelize(range(5), 2).glom().collect()
        [[0, 1], [2, 3, 4]]
        """
        from ember.rdd import RDD
        self._check_running()
        num_slices = int(numSlices) if numSlices is not None else self.defaultParallelism
        if num_slices < 1:
            raise ValueError(f"numSlices must be at least 1, got {num_slices}")
        if isinstance(c, range):
            return self._parallelize_range(c, num_slices)  # type: ignore[return-value]  # T is int
        data = c if isinstance(c, list) else list(c)
        # As PySpark does: pickle in batches of min(len // numSlices, batchSize) records, then deal whole batches to
        # the partitions as evenly as possible (so partition boundaries fall on batch boundaries).
        batch = max(1, min(len(data) // num_slices, self._batch_size))
        frames = [ser.dumps_from_driver(data[j:j + batch]) for j in range(0, len(data), batch)]
        partitions = [frames[i * len(frames) // num_slices:(i + 1) * len(frames) // num_slices]
                      for i in range(num_slices)]
        try:
            dataset_id = self._side.store(partitions)
        except ConnectionLost as e:
            raise self._connection_lost(e.__cause__) from e.__cause__
        rdd: RDD[T] = RDD(self, RDD.SOURCE, num_slices, segment={"kind": "dataset", "id": dataset_id},
                          source="ParallelCollectionRDD")
        self._on_release(rdd, "dropDataset", dataset_id)
        return rdd

    def _parallelize_range(self, r: range, num_slices: int) -> "RDD[int]":
        # No data moves: each partition computes its own slice of the range in the worker.
        from ember.rdd import RDD, _RangeSlice
        # As PySpark: empty slices, each made into its part of the range by a Python function.
        slices: RDD[Any] = RDD(self, RDD.SOURCE, num_slices, segment={"kind": "empty"}, source="ParallelCollectionRDD")
        return slices.mapPartitionsWithIndex(_RangeSlice(r, num_slices))

    def range(self, start: int, end: Optional[int] = None, step: int = 1,
              numSlices: Optional[int] = None) -> "RDD[int]":
        """The integers of ``range(start, end, step)`` (``range(start)`` when ``end`` is not given) as an RDD.

        Examples
        --------
        >>> sc.range(5).collect()
        [0, 1, 2, 3, 4]
        >>> sc.range(2, 10, 3).collect()
        [2, 5, 8]
        >>> sc.range(10, numSlices=3).getNumPartitions()
        3
        """
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    def emptyRDD(self) -> "RDD[Any]":
        """An RDD with no partitions and no records.

        Examples
        --------
        >>> empty = sc.emptyRDD()
        >>> empty.collect(), empty.getNumPartitions()
        ([], 0)
        """
        from ember.rdd import RDD
        return RDD(self, RDD.SOURCE, 0, segment={"kind": "empty"}, source="EmptyRDD")

    @overload
    def textFile(self, name: str, minPartitions: Optional[int] = None,
                 use_unicode: Literal[True] = True) -> "RDD[str]": ...

    @overload
    def textFile(self, name: str, minPartitions: Optional[int], use_unicode: Literal[False]) -> "RDD[bytes]": ...

    @overload
    def textFile(self, name: str, *, use_unicode: Literal[False]) -> "RDD[bytes]": ...

    def textFile(self, name: str, minPartitions: Optional[int] = None, use_unicode: bool = True) -> "RDD[Any]":
        """Lines of a file, a directory of files, a glob or a comma-separated list of them (.gz files too), read
        and split by the JVM. Invalid UTF-8 fails with the file, line and byte offset, unless
        ``use_unicode=False`` (lines as bytes) or ``spark.ember.text.malformed=replace`` (U+FFFD).

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "poem.txt")
        ...     with open(path, "w", encoding="utf-8") as f:
        ...         _ = f.write("roses are red\\nviolets are blue\\n")
        ...     lines = sc.textFile(path).collect()
        ...     first = sc.textFile(path, use_unicode=False).first()
        >>> lines, first
        (['roses are red', 'violets are blue'], b'roses are red')
        """
        self._check_running()
        return files.text_file(self, name, minPartitions, use_unicode)

    def jsonFile(self, path: str, minPartitions: Optional[int] = None, mode: str = "FAILFAST") -> "RDD[Any]":
        """One record per line of JSON-lines files (dicts, lists or values, as ``json.loads`` gives them), split
        and checked by the JVM. A malformed line fails the job with its file, line number and text; with
        ``mode="DROPMALFORMED"`` it is skipped and counted (``rdd.malformedCount()``). Blank lines are ignored.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "people.jsonl")
        ...     with open(path, "w") as f:
        ...         _ = f.write('{"name": "Ana", "age": 31}\\n[1, 2]\\n\\n"text"\\n')
        ...     records = sc.jsonFile(path).collect()
        >>> records
        [{'name': 'Ana', 'age': 31}, [1, 2], 'text']
        """
        self._check_running()
        return files.json_file(self, path, minPartitions, mode)

    @overload
    def wholeTextFiles(self, path: str, minPartitions: Optional[int] = None,
                       use_unicode: Literal[True] = True) -> "RDD[tuple[str, str]]": ...

    @overload
    def wholeTextFiles(self, path: str, minPartitions: Optional[int],
                       use_unicode: Literal[False]) -> "RDD[tuple[str, bytes]]": ...

    @overload
    def wholeTextFiles(self, path: str, *, use_unicode: Literal[False]) -> "RDD[tuple[str, bytes]]": ...

    def wholeTextFiles(self, path: str, minPartitions: Optional[int] = None,
                       use_unicode: bool = True) -> "RDD[tuple[str, Any]]":
        """(path, content) pairs, one per file: the path a ``file:`` URI, the content a str (bytes with
        ``use_unicode=False``).

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for name, text in [("a.txt", "one\\ntwo\\n"), ("b.txt", "three")]:
        ...         with open(os.path.join(d, name), "w") as f:
        ...             _ = f.write(text)
        ...     pairs = sc.wholeTextFiles(d).collect()
        >>> sorted((os.path.basename(path), text) for path, text in pairs)
        [('a.txt', 'one\\ntwo\\n'), ('b.txt', 'three')]
        >>> pairs[0][0].startswith("file:")
        True
        """
        self._check_running()
        return files.whole_text_files(self, path, minPartitions, use_unicode)

    def binaryFiles(self, path: str, minPartitions: Optional[int] = None) -> "RDD[tuple[str, bytes]]":
        """(path, bytes) pairs, one per file, the bytes as they are in the file.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with open(os.path.join(d, "blob.bin"), "wb") as f:
        ...         _ = f.write(bytes([0, 1, 255]))
        ...     [(path, data)] = sc.binaryFiles(d).collect()
        >>> os.path.basename(path), data
        ('blob.bin', b'\\x00\\x01\\xff')
        """
        self._check_running()
        return files.binary_files(self, path, minPartitions)

    def binaryRecords(self, path: str, recordLength: int) -> "RDD[bytes]":
        """The bytes of the files cut into records of ``recordLength`` bytes each.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "records.bin")
        ...     with open(path, "wb") as f:
        ...         _ = f.write(b"abcdef")
        ...     records = sc.binaryRecords(path, 2).collect()
        >>> records
        [b'ab', b'cd', b'ef']
        """
        self._check_running()
        return files.binary_records(self, path, recordLength)

    def pickleFile(self, name: str, minPartitions: Optional[int] = None) -> "RDD[Any]":
        """Records written by ``RDD.saveAsPickleFile``, one partition per part file (``minPartitions`` is a hint
        Ember does not take: it warns once).

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "saved")
        ...     sc.parallelize([{"a": 1}, (2, 3)], 2).saveAsPickleFile(path)
        ...     rdd = sc.pickleFile(path)
        ...     records, partitions = rdd.collect(), rdd.getNumPartitions()
        >>> records, partitions
        ([{'a': 1}, (2, 3)], 2)
        """
        self._check_running()
        if minPartitions is not None:
            _warn_once("pickleFile.minPartitions", "pickleFile(minPartitions=...) is ignored by Ember: it reads one "
                                                   "partition per part file; repartition() the RDD for more")
        return files.pickle_file(self, name, minPartitions)

    def union(self, rdds: list["RDD[T]"]) -> "RDD[T]":
        """The partitions of all ``rdds``, one after another; when they all share a partitioner (as after the same
        partitionBy or reduceByKey), partition i of the union holds partition i of each, and keeps the
        partitioner, so a join or groupByKey on it needs no shuffle (Spark's PartitionerAwareUnionRDD).

        Examples
        --------
        >>> first, second = sc.parallelize([1, 2], 1), sc.parallelize([3], 1)
        >>> sc.union([first, second, first]).collect()
        [1, 2, 3, 1, 2]
        >>> pairs = sc.parallelize([("a", 1), ("b", 2), ("c", 3)]).partitionBy(2)
        >>> sc.union([pairs, pairs.mapValues(lambda v: v * 10)]).getNumPartitions()
        2
        """
        from ember.rdd import RDD
        if not rdds:
            raise ValueError("union() needs at least one RDD")
        first = rdds[0].partitioner
        if len(rdds) > 1 and first is not None and all(r.partitioner == first for r in rdds):
            union: RDD[T] = RDD(self, RDD.UNION, first.numPartitions, parents=rdds, partitioner=first)
            union._aligned = True
            return union
        return RDD(self, RDD.UNION, sum(r.getNumPartitions() for r in rdds), parents=rdds)

    # -- shared variables --------------------------------------------------------------------------------------

    def broadcast(self, value: T) -> "Broadcast[T]":
        """Ships ``value`` to each worker once, however many tasks use it; tasks read it as ``.value``.

        Examples
        --------
        >>> names = sc.broadcast({1: "one", 2: "two"})
        >>> sc.parallelize([1, 2, 1]).map(lambda k: names.value[k]).collect()
        ['one', 'two', 'one']
        """
        return Broadcast(self, value)

    def _register_broadcast(self, value: Any) -> int:
        """Keeps a new broadcast's value and stores it in the engine; returns its id."""
        self._check_running()
        try:
            payload = ser.dumps_from_driver(value)
        except Exception as e:
            raise pickle.PicklingError(f"Could not serialize broadcast: {type(e).__name__}: {e}") from e
        bid = next(self._ids)
        self._broadcast_values[bid] = value
        self._upload_broadcast(bid, payload)
        return bid

    def _broadcast_file(self, bid: int) -> str:
        """A file in this context's files directory holding broadcast ``bid``'s pickled value."""
        path = os.path.join(self._files_root(), f"broadcast-{bid}.pickle")
        if not os.path.exists(path):
            with open(path + ".tmp", "wb") as f:
                f.write(ser.dumps_from_driver(self._broadcast_values[bid]))
            os.replace(path + ".tmp", path)
        return path

    def _upload_broadcast(self, bid: int, payload: Optional[bytes] = None) -> None:
        if payload is None:
            payload = ser.dumps_from_driver(self._broadcast_values[bid])
        self._side.broadcast(bid, payload)
        self._broadcasts.add(bid)

    def _unpersist_broadcast(self, bid: int, destroy: bool) -> None:
        if bid in self._broadcasts:
            self._broadcasts.discard(bid)
            self._session.dropBroadcast(bid)
        if destroy:
            self._broadcast_values.pop(bid, None)

    def accumulator(self, value: T, accum_param: Optional["AccumulatorParam[T]"] = None) -> "Accumulator[T]":
        """A variable tasks add to; the driver reads the total after each action. Numbers (int, float, complex)
        need no ``accum_param``; other values need an AccumulatorParam that says how to add them.

        Examples
        --------
        >>> evens = sc.accumulator(0)
        >>> def count_even(x):
        ...     if x % 2 == 0:
        ...         evens.add(1)
        >>> sc.parallelize(range(10)).foreach(count_even)
        >>> evens.value
        5
        >>> sc.accumulator(0.5).value, sc.accumulator(1j).value
        (0.5, 1j)
        """
        if accum_param is None:
            if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
                raise TypeError(f"No default accumulator param for type {type(value)}")
            accum_param = (INT_ACCUMULATOR_PARAM if isinstance(value, int) else
                           FLOAT_ACCUMULATOR_PARAM if isinstance(value, float) else COMPLEX_ACCUMULATOR_PARAM)
        acc = Accumulator(next(self._ids), value, accum_param)
        self._accumulators[acc.aid] = acc
        return acc

    def _merge_accumulator_updates(self, frames: list[bytes]) -> None:
        for frame in frames:
            for aid, value in pickle.loads(frame).items():
                acc = self._accumulators.get(aid)
                if acc is not None:
                    acc._value = acc.accum_param.addInPlace(acc._value, value)

    # -- jobs, groups, settings --------------------------------------------------------------------------------

    def setJobGroup(self, groupId: Optional[str], description: Optional[str], interruptOnCancel: bool = False) -> None:
        """Jobs started by this thread from now on belong to ``groupId``, for cancelJobGroup. As in Spark, the group
        is a local property (``spark.jobGroup.id``) that tasks see through TaskContext too; None leaves the group.

        Examples
        --------
        >>> from ember import TaskContext
        >>> sc.setJobGroup("reports", "the weekly reports")
        >>> sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("spark.jobGroup.id")).collect()
        ['reports']
        >>> sc.setJobGroup(None, None)
        >>> sc.getLocalProperty("spark.jobGroup.id") is None
        True
        """
        if groupId is not None and not isinstance(groupId, str):  # None clears the group, as PySpark's null does
            raise TypeError(f"setJobGroup: groupId must be a str, got {groupId!r}")
        if description is not None and not isinstance(description, str):
            raise TypeError(f"setJobGroup: description must be a str, got {description!r}")
        self.setLocalProperty("spark.jobGroup.id", groupId)
        self.setLocalProperty("spark.job.description", description)
        self.setLocalProperty("spark.job.interruptOnCancel", str(interruptOnCancel).lower())

    def setJobDescription(self, value: Optional[str]) -> None:
        """Describes the jobs this thread starts from now on (the ``spark.job.description`` local property); None
        removes the description.

        Examples
        --------
        >>> sc.setJobDescription("counts the words")
        >>> sc.getLocalProperty("spark.job.description")
        'counts the words'
        >>> sc.setJobDescription(None)
        """
        self.setLocalProperty("spark.job.description", value)

    def setLocalProperty(self, key: str, value: Optional[str]) -> None:
        """Sets (or, with None, removes) a property of the jobs this thread starts; tasks read it with
        ``TaskContext.get().getLocalProperty(key)``.

        Examples
        --------
        >>> from ember import TaskContext
        >>> sc.setLocalProperty("report.owner", "ana")
        >>> sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("report.owner")).collect()
        ['ana']
        >>> sc.setLocalProperty("report.owner", None)
        >>> sc.getLocalProperty("report.owner") is None
        True
        """
        # Local properties travel with jobs as JSON strings (as in Spark, where they are java.util.Properties).
        if not isinstance(key, str):
            raise TypeError(f"local property key must be a str, got {key!r}")
        if value is not None and not isinstance(value, str):
            raise TypeError(f"local property {key!r} must be a str or None, got {value!r}")
        props = self._local_properties()
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value

    def getLocalProperty(self, key: str) -> Optional[str]:
        """A local property set in this thread, or None.

        Examples
        --------
        >>> import threading
        >>> sc.setLocalProperty("report.owner", "ana")
        >>> seen_by_another_thread = []
        >>> other = threading.Thread(target=lambda: seen_by_another_thread.append(sc.getLocalProperty("report.owner")))
        >>> other.start()
        >>> other.join()
        >>> sc.getLocalProperty("report.owner"), seen_by_another_thread
        ('ana', [None])
        >>> sc.setLocalProperty("report.owner", None)
        """
        return self._local_properties().get(key)

    def _local_properties(self) -> dict[str, str]:
        props = getattr(self._local, "properties", None)
        if props is None:
            props = self._local.properties = {}
        return props

    def setInterruptOnCancel(self, interruptOnCancel: bool) -> None:
        """Recorded for Spark's sake (the ``spark.job.interruptOnCancel`` local property); cancelling a job always
        stops its tasks (their workers are replaced).

        Examples
        --------
        >>> sc.setInterruptOnCancel(True)
        >>> sc.getLocalProperty("spark.job.interruptOnCancel")
        'true'
        >>> sc.setLocalProperty("spark.job.interruptOnCancel", None)
        """
        self.setLocalProperty("spark.job.interruptOnCancel", str(interruptOnCancel).lower())

    def addJobTag(self, tag: str) -> None:
        """Tags the jobs this thread starts from now on, for ``cancelJobsWithTag``. A tag may not be empty or
        contain a comma.

        Examples
        --------
        >>> sc.addJobTag("nightly")
        >>> sc.addJobTag("reports")
        >>> sorted(sc.getJobTags())
        ['nightly', 'reports']
        >>> sc.clearJobTags()
        """
        _check_tag(tag)
        self._set_job_tags(self.getJobTags() | {tag})

    def removeJobTag(self, tag: str) -> None:
        """Stops tagging this thread's jobs with ``tag`` (nothing happens if it was not added).

        Examples
        --------
        >>> sc.addJobTag("nightly")
        >>> sc.removeJobTag("nightly")
        >>> sc.removeJobTag("never-added")
        >>> sc.getJobTags()
        set()
        """
        _check_tag(tag)
        self._set_job_tags(self.getJobTags() - {tag})

    def getJobTags(self) -> set[str]:
        """The tags this thread's jobs get.

        Examples
        --------
        >>> sc.getJobTags()
        set()
        >>> sc.addJobTag("reports")
        >>> sc.getJobTags()
        {'reports'}
        >>> sc.clearJobTags()
        """
        return set(filter(None, (self.getLocalProperty(JOB_TAGS) or "").split(",")))

    def clearJobTags(self) -> None:
        """Removes all the tags of this thread's jobs.

        Examples
        --------
        >>> sc.addJobTag("nightly")
        >>> sc.addJobTag("reports")
        >>> sc.clearJobTags()
        >>> sc.getJobTags()
        set()
        """
        self._set_job_tags(set())

    def _set_job_tags(self, tags: set[str]) -> None:
        self.setLocalProperty(JOB_TAGS, ",".join(sorted(tags)) if tags else None)

    def cancelJobsWithTag(self, tag: str) -> None:
        """Cancels the running jobs (of any thread) that were started with ``tag``: their tasks stop and the
        actions that started them raise SparkJobError.

        Examples
        --------
        >>> import threading, time
        >>> failures = []
        >>> def slow_job():
        ...     sc.addJobTag("slow")
        ...     try:
        ...         sc.parallelize(range(2), 2).foreach(lambda _: time.sleep(60))
        ...     except Exception as e:
        ...         failures.append(type(e).__name__)
        >>> runner = threading.Thread(target=slow_job)
        >>> runner.start()
        >>> while not sc.statusTracker().getActiveJobsIds():
        ...     time.sleep(0.01)
        >>> sc.cancelJobsWithTag("slow")
        >>> runner.join()
        >>> failures
        ['SparkJobError']
        """
        _check_tag(tag)
        for job_id, tags in list(self._running_jobs.items()):
            if tag in tags:
                self._session.cancelJob(job_id)

    def cancelJobGroup(self, groupId: str) -> None:
        """Cancels the running jobs of the group ``groupId`` (see ``setJobGroup``): their tasks stop and the actions
        that started them raise SparkJobError.

        Examples
        --------
        >>> import threading, time
        >>> failures = []
        >>> def slow_job():
        ...     sc.setJobGroup("slow", "a job that takes too long")
        ...     try:
        ...         sc.parallelize(range(2), 2).foreach(lambda _: time.sleep(60))
        ...     except Exception as e:
        ...         failures.append(type(e).__name__)
        >>> runner = threading.Thread(target=slow_job)
        >>> runner.start()
        >>> while not sc.statusTracker().getActiveJobsIds():
        ...     time.sleep(0.01)
        >>> sc.cancelJobGroup("slow")
        >>> runner.join()
        >>> failures
        ['SparkJobError']
        """
        self._session.cancelJobGroup(groupId)

    def cancelAllJobs(self) -> None:
        """Cancels every running job of this context: their tasks stop and the actions that started them raise
        SparkJobError.

        Examples
        --------
        >>> import threading, time
        >>> failures = []
        >>> def slow_job():
        ...     sc.setJobDescription("a job that takes too long")
        ...     try:
        ...         sc.parallelize(range(2), 2).foreach(lambda _: time.sleep(60))
        ...     except Exception as e:
        ...         failures.append(type(e).__name__)
        >>> runner = threading.Thread(target=slow_job)
        >>> runner.start()
        >>> while not sc.statusTracker().getActiveJobsIds():
        ...     time.sleep(0.01)
        >>> sc.cancelAllJobs()
        >>> runner.join()
        >>> failures
        ['SparkJobError']
        """
        self._session.cancelAllJobs()

    def setLogLevel(self, logLevel: str) -> None:
        """Sets the level of the JVM's log (Spark's level names), at once; it applies to the whole distribution, so
        for a shared service to every driver's jobs, as Spark's applies to its whole JVM.

        Examples
        --------
        >>> sc.setLogLevel("WARN")
        >>> sc.setLogLevel("LOUD")
        Traceback (most recent call last):
            ...
        ValueError: Supplied level LOUD did not match one of: ALL,DEBUG,ERROR,FATAL,INFO,OFF,TRACE,WARN
        """
        if logLevel.upper() not in LOG_LEVELS:
            raise ValueError(f"Supplied level {logLevel} did not match one of: {','.join(LOG_LEVELS)}")
        self._check_running()
        problem = self._session.setLogLevel(logLevel.upper())
        if problem:
            raise EmberError(f"the log level could not be set: {problem}")
        self._log_level = logLevel.upper()

    def setCheckpointDir(self, dirName: str) -> None:
        """Where reliable checkpoints (``rdd.checkpoint()``) go: a new directory of this context under ``dirName``,
        as Spark makes one per application.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sc.setCheckpointDir(d)
        ...     directory = sc.getCheckpointDir()[len("file:"):]
        ...     made_inside = os.path.dirname(directory) == os.path.abspath(d) and os.path.isdir(directory)
        >>> made_inside
        True
        """
        import uuid
        files._refuse_remote_scheme(dirName)
        root = os.path.abspath(files._strip_scheme(dirName))
        directory = os.path.join(root, str(uuid.uuid4()))
        os.makedirs(directory)
        self._checkpoint_dir = directory

    def getCheckpointDir(self) -> Optional[str]:
        """This context's checkpoint directory as a ``file:`` URI, or None before ``setCheckpointDir``.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sc.setCheckpointDir(d)
        ...     uri = sc.getCheckpointDir()
        >>> uri.startswith("file:" + os.path.abspath(d) + os.sep)
        True
        """
        return None if self._checkpoint_dir is None else "file:" + self._checkpoint_dir

    def addPyFile(self, path: str) -> None:
        """Makes a .py, .zip or .egg file importable in the workers of this context's jobs (and, as in PySpark, in
        the driver); ``SparkFiles.get`` finds it by name, as a file added with ``addFile``.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "ember_doc_shapes.py")
        ...     with open(path, "w") as f:
        ...         _ = f.write("def area(w, h):\\n    return w * h\\n")
        ...     sc.addPyFile(path)
        ...     def area(size):
        ...         import ember_doc_shapes
        ...         return ember_doc_shapes.area(*size)
        ...     areas = sc.parallelize([(2, 3), (4, 5)]).map(area).collect()
        >>> areas
        [6, 20]
        """
        path = self._add_file(path, recursive=False)
        if path not in self._py_files:
            self._py_files.append(path)
        entry = os.path.dirname(path) if path.endswith(".py") else path
        if entry not in sys.path:
            sys.path.insert(0, entry)

    def addFile(self, path: str, recursive: bool = False) -> None:
        """Copies a file (or, with ``recursive=True``, a directory) for the tasks of later jobs, which find it with
        ``SparkFiles.get(name)`` (``name`` is its base name). Adding the same path again does nothing; adding another
        file of the same name fails.

        Examples
        --------
        >>> import os, tempfile
        >>> from ember import SparkFiles
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "ember-doc-stopwords.txt")
        ...     with open(path, "w") as f:
        ...         _ = f.write("a\\nthe\\n")
        ...     sc.addFile(path)
        ...     sc.addFile(path)
        >>> def is_stopword(word):
        ...     with open(SparkFiles.get("ember-doc-stopwords.txt")) as f:
        ...         return word in f.read().split()
        >>> sc.parallelize(["the", "cat"]).map(is_stopword).collect()
        [True, False]
        """
        self._add_file(path, recursive)

    def _add_file(self, path: str, recursive: bool) -> str:
        """Copies ``path`` into the files directory (once per name) and returns its absolute source path."""
        import shutil

        def check(source: str, _name: str) -> None:
            if os.path.isdir(source) and not recursive:
                raise ValueError(f"Added file {source} is a directory and recursive is not turned on; pass "
                                 f"recursive=True to add a directory")

        def copy(source: str, target: str) -> None:
            if os.path.isdir(source):
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)

        return self._install(path, self._added_files, "File", check, copy)

    def addArchive(self, path: str) -> None:
        """Unpacks an archive (.zip, .jar, .tar, .tar.gz, .tgz) for the tasks of later jobs, which find its
        directory with ``SparkFiles.get(name)`` (``name`` is the archive's base name). Adding it again does
        nothing.

        Examples
        --------
        >>> import os, tempfile, zipfile
        >>> from ember import SparkFiles
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "ember-doc-rates.zip")
        ...     with zipfile.ZipFile(path, "w") as archive:
        ...         archive.writestr("rates.csv", "eur,1.0\\nusd,1.1\\n")
        ...     sc.addArchive(path)
        >>> def rate(currency):
        ...     with open(os.path.join(SparkFiles.get("ember-doc-rates.zip"), "rates.csv")) as f:
        ...         return dict(line.split(",") for line in f.read().split())[currency]
        >>> sc.parallelize(["usd", "eur"]).map(rate).collect()
        ['1.1', '1.0']
        """
        import shutil
        formats = {".zip": "zip", ".jar": "zip", ".tar": "tar", ".tar.gz": "gztar", ".tgz": "gztar"}

        def archive_format(name: str) -> Optional[str]:
            return next((f for suffix, f in formats.items() if name.lower().endswith(suffix)), None)

        def check(source: str, name: str) -> None:
            if not os.path.isfile(source) or archive_format(name) is None:
                raise ValueError(f"Unsupported archive {name}: addArchive takes .zip, .jar, .tar, .tar.gz and .tgz "
                                 f"files")

        self._install(path, self._added_archives, "Archive", check,
                      lambda source, target: shutil.unpack_archive(source, target, archive_format(source)))

    def _install(self, path: str, registry: dict[str, str], what: str, check: Callable[[str, str], None],
                 install: Callable[[str, str], None]) -> str:
        """Puts ``path`` into the files directory under its base name with ``install(source, target)``, unless
        that name is in ``registry`` already (the same source again is ignored, another one refused). Returns the
        absolute source path."""
        self._check_running()
        files._refuse_remote_scheme(path)
        source = os.path.abspath(files._strip_scheme(path))
        if not os.path.exists(source):
            raise FileNotFoundError(f"File {source} does not exist")
        name = os.path.basename(source.rstrip(os.sep))
        check(source, name)
        with SparkContext._lock:
            known = registry.get(name)
            if known is None:
                install(source, os.path.join(self._files_root(), name))
                registry[name] = source
                self._files_changed = True
            elif known != source:
                raise ValueError(f"{what} {name} was already registered with a different path (was {known}, now "
                                 f"{source}); added files are found by name, so names must differ")
        return source

    @property
    def listArchives(self) -> list[str]:
        """The archives added with ``addArchive``, as ``file:`` URIs.

        Examples
        --------
        >>> import os, tempfile, zipfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "ember-doc-listed.zip")
        ...     with zipfile.ZipFile(path, "w") as archive:
        ...         archive.writestr("readme.txt", "listed")
        ...     sc.addArchive(path)
        >>> "file:" + path in sc.listArchives
        True
        """
        return ["file:" + source for source in self._added_archives.values()]

    @property
    def listFiles(self) -> list[str]:
        """The files and directories added with ``addFile`` and ``addPyFile``, as ``file:`` URIs.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "ember-doc-listed.txt")
        ...     with open(path, "w") as f:
        ...         _ = f.write("listed")
        ...     sc.addFile(path)
        >>> "file:" + path in sc.listFiles
        True
        """
        return ["file:" + source for source in self._added_files.values()]

    def _files_root(self) -> str:
        """This context's files directory (``SparkFiles.getRootDirectory()``), made private to the user when first
        asked for and removed by ``stop()``."""
        from ember import privatedirs
        with SparkContext._lock:
            if self._files_dir is None:
                self._files_dir = privatedirs.mkdtemp("files-")
            return self._files_dir

    def _job_info(self) -> dict[str, Any]:
        """What every task of the next job of this thread is told besides its function (ember.worker reads it)."""
        info = {"pyFiles": list(self._py_files), "filesRoot": self._files_root(),
                "localProperties": dict(self._local_properties()), "cpus": self._task_cpus,
                "workerMemory": self._conf.get("spark.python.worker.memory", "512m")}
        if self._ships_files:
            shipped = self._ship_files()
            if shipped is not None:
                info["shippedFiles"] = shipped
        return info

    def _ship_files(self) -> Optional[dict[str, Any]]:
        """For a cluster master: the files directory (addFile, addPyFile, addArchive) zipped into a broadcast, which
        each worker unpacks once per content hash (ember.worker); made again after files were added."""
        import hashlib
        import io
        import zipfile

        from ember import privatedirs
        with SparkContext._lock:
            if not self._files_changed:
                return self._shipped_files
            root = self._files_root()
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for directory, _, names in sorted(os.walk(root)):
                    for name in sorted(names):
                        path = os.path.join(directory, name)
                        relative = os.path.relpath(path, root)
                        if relative == privatedirs.OWNER_LOCK or relative.startswith("broadcast-"):
                            continue
                        archive.write(path, relative)
            data = buffer.getvalue()
            previous = self._shipped_files
            bid = self._register_broadcast(data)
            self._shipped_files = {"hash": hashlib.sha256(data).hexdigest(), "broadcast": bid}
            self._files_changed = False
            if previous is not None:
                self._pending_drops.append(("dropBroadcast", previous["broadcast"]))
                self._broadcasts.discard(previous["broadcast"])
                self._broadcast_values.pop(previous["broadcast"], None)
            return self._shipped_files

    # -- running jobs ------------------------------------------------------------------------------------------

    def _new_rdd_id(self) -> int:
        return next(self._ids)

    def _new_shuffle_id(self) -> int:
        return next(self._ids)

    def _on_release(self, rdd: "RDD", method: str, resource_id: int) -> None:
        """Frees an engine resource once the RDD that owns it is garbage, at the next job or at stop()."""
        weakref.finalize(rdd, self._pending_drops.append, (method, resource_id))

    def _unpersist_rdd(self, rdd_id: int) -> None:
        if not self._stopped:
            self._session.unpersist(rdd_id)

    def _release_pending(self) -> None:
        while self._pending_drops:
            method, resource_id = self._pending_drops.pop()
            getattr(self._session, method)(resource_id)

    def runJob(self, rdd: "RDD[T]", partitionFunc: Callable[[Iterator[T]], Iterable[U]],
               partitions: Optional[Iterable[int]] = None, allowLocal: bool = False) -> list[U]:
        """Runs ``partitionFunc`` on the given partitions of ``rdd`` (all by default) and returns all results,
        partition by partition, in the order the partitions were given.

        Examples
        --------
        >>> numbers = sc.parallelize(range(6), 3)
        >>> sc.runJob(numbers, lambda iterator: [sum(iterator)])
        [1, 5, 9]
        >>> sc.runJob(numbers, lambda iterator: [sum(iterator)], [2, 0])
        [9, 1]
        """
        return list(self._run(rdd.mapPartitions(partitionFunc), partitions))

    def _run(self, rdd: "RDD", partitions: Optional[Iterable[int]] = None, output: Optional[dict] = None,
             output_codec: str = "pickle") -> Iterable[Any]:
        """Runs a job for ``rdd`` and yields its records as they stream back, partition by partition; with
        ``output``, the JVM writes the records into files instead (see PlanBuilder.build) and nothing comes back."""
        self._check_running()
        try:
            self._release_pending()
        except Py4JError as e:
            raise self._connection_lost(e) from e
        wanted = list(range(rdd.getNumPartitions()) if partitions is None else partitions)
        builder = PlanBuilder(self)
        plan = builder.build(rdd, wanted, self.getLocalProperty("spark.jobGroup.id"), output, output_codec)
        for bid in builder.broadcasts:
            if bid not in self._broadcasts and bid in self._broadcast_values:
                self._upload_broadcast(bid)  # Unpersisted earlier, used again.
        watching = self._track_jobs or self._output_with_results
        with _InterruptsDeferred() as deferred:
            try:
                if self._output_with_results:
                    job_id = self._session.submitJob(json.dumps(plan), self._track_jobs, True)
                else:
                    job_id = self._session.submitJob(json.dumps(plan), watching)
            except Py4JJavaError as e:
                raise SparkJobError(f"the gateway refused the job: {java_message(e)}") from None
            except Py4JError as e:
                raise self._connection_lost(e) from e
            self._running_jobs[job_id] = self.getJobTags()
            self._tracker.started(job_id, plan["jobGroup"], [
                len(wanted) if stage is plan["stages"][-1] else stage_partitions(stage)
                for stage in plan["stages"]])
            bar = self._progress_bar

            def on_progress(event: dict) -> None:
                if event["event"] == "output":
                    sys.stderr.write(event["line"] + "\n")
                    return
                if not self._track_jobs:
                    return  # Events for the output only: the few others just wake the stream; there is no progress.
                self._tracker.on_event(event)
                if bar is not None:
                    bar.update(job_id, force=event["event"] == "stageStart")

        succeeded = False
        try:
            deferred.raise_pending()  # Ctrl-C during the submission: cancelled below like one during the job.
            limit = self._max_result_bytes()
            received = 0

            def on_bytes(size: int) -> None:
                nonlocal received
                received += size
                if limit and received > limit:
                    self._session.cancelJob(job_id)
                    raise SparkJobError(
                        f"Total size of serialized results ({received / 2**20:.1f} MiB so far) is bigger than "
                        f"spark.driver.maxResultSize ({limit / 2**20:.1f} MiB): raise the setting, or bring less "
                        f"to the driver (take, aggregate, or save the RDD to files)", "SETUP")

            # Frame by frame: the driver never holds a partition's pickled frames beside their records.
            for records in self._side.results(job_id, len(wanted), ser.loads_batch, on_bytes,
                                              self._merge_accumulator_updates, on_progress if watching else None):
                yield from records
            succeeded = True
        except KeyboardInterrupt:
            # Ctrl-C: stop the job's tasks (their workers are killed and replaced), then let the interrupt go on.
            self._session.cancelJob(job_id)
            raise
        except ConnectionLost as e:
            # Only a failure of the socket itself: a task's own OSError or ConnectionError is the job's failure.
            raise self._connection_lost(e.__cause__) from e.__cause__
        finally:
            self._running_jobs.pop(job_id, None)
            self._tracker.finished(job_id, succeeded)
            if bar is not None:
                bar.clear()
        if succeeded:
            self._checkpoint_marked(rdd)

    def _checkpoint_marked(self, rdd: "RDD") -> None:
        """After a job: checkpoints the RDDs of its lineage that are marked for it (the outermost on each path, as
        Spark does without spark.checkpoint.checkpointAllMarkedAncestors)."""
        pending, seen = [rdd], set()
        while pending:
            node = pending.pop()
            if id(node) in seen or node._checkpoint_done:
                continue
            seen.add(id(node))
            if node._checkpoint_wanted is not None:
                node._checkpoint_after_job()
            else:
                pending.extend(node._parents)

    def _worker_memory_limit(self) -> int:
        """spark.executor.pyspark.memory in bytes (MiB when no unit is given, as in Spark); 0 means no limit. The
        engine stops a worker whose resident memory goes over it and fails the job, naming the setting."""
        setting = self._conf.get("spark.executor.pyspark.memory", "0").strip()
        return parse_memory(setting + "m" if setting.isdigit() else setting)

    def _max_result_bytes(self) -> int:
        """spark.driver.maxResultSize in bytes (default 1g); 0 means no limit, as in Spark."""
        return parse_memory(self._conf.get("spark.driver.maxResultSize", "1g"))

    def _connection_lost(self, cause: Optional[BaseException]) -> EmberError:
        """The error for a gateway that stopped answering: the JVM's death, or a gateway restart."""
        if not self._launched.alive():
            return EmberError(self._launched.death_report())
        return EmberError(
            f"Lost the connection to the Ember gateway on {self._launched.host}:{self._launched.port}: the gateway "
            f"restarted or stopped ({type(cause).__name__}). This context's session is gone; create a new "
            f"SparkContext (a restarted service publishes its new port in run/gateway.json).")

    def _check_running(self) -> None:
        if self._stopped:
            raise EmberError("This SparkContext has been stopped; create a new one to run jobs")
        if not self._launched.alive():
            raise EmberError(self._launched.death_report())

