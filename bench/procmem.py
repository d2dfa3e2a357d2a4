"""Peak memory of a process tree: the sum of the resident set sizes of a process and all its descendants, sampled.

psutil does the sampling when it is installed (the harness's own environment has it); without it (the smoke run
inside the client's test environment) the same numbers are read from /proc directly.
"""

from __future__ import annotations

import os
import threading
from typing import Optional

try:
    import psutil
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_psutil(pid: int) -> tuple[int, dict[int, float]]:
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0, {}
    total, cpu = 0, {}
    for proc in procs:
        try:
            with proc.oneshot():
                total += proc.memory_info().rss
                times = proc.cpu_times()
                cpu[proc.pid] = times.user + times.system
        except psutil.Error:
            pass  # Gone between listing and reading.
    return total, cpu


def _tree_proc(pid: int) -> tuple[int, dict[int, float]]:
    children: dict[int, list[int]] = {}
    stats: dict[int, list[bytes]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields after the last ')' are fixed.
        fields = stat[stat.rindex(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(name))
        stats[int(name)] = fields
    total, cpu, stack = 0, {}, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, ()))
        if current in stats:  # utime and stime, fields 14 and 15 of stat (11 and 12 after the name).
            cpu[current] = (int(stats[current][11]) + int(stats[current][12])) / CLOCK_TICKS
        try:
            with open(f"/proc/{current}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE_SIZE
        except OSError:
            pass
    return total, cpu


def tree(pid: int) -> tuple[int, dict[int, float]]:
    """Bytes resident in the process ``pid`` and its descendants now (0 once it is gone), and the CPU seconds each
    of them has used so far."""
    return _tree_psutil(pid) if psutil is not None else _tree_proc(pid)


def tree_rss(pid: int) -> int:
    """Bytes resident in the process ``pid`` and its descendants now (0 once it is gone)."""
    return tree(pid)[0]


class PeakSampler:
    """Samples ``tree(pid)`` every ``interval`` seconds on a thread until stopped: ``peak`` is the largest resident
    size, ``cpu_seconds`` the CPU time of every process seen in the tree (as last sampled; a process that exits
    within one interval is missed, so it is a lower bound)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def start(self) -> "PeakSampler":
        self._thread = threading.Thread(target=self._run, name=f"rss-{self.pid}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, cpu = tree(self.pid)
            self.peak = max(self.peak, rss)
            self._cpu.update(cpu)
            self.samples += 1
            self._stop.wait(self.interval)

    def stop(self) -> int:
        """Stops sampling and returns the peak in bytes."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.peak


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat (steal counts as busy: not ours to use)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return 0, 0
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def busy_fraction(seconds: float) -> float:
    """The fraction of the machine's CPU time that was busy over the next ``seconds``."""
    busy0, total0 = cpu_ticks()
    threading.Event().wait(seconds)
    busy1, total1 = cpu_ticks()
    return (busy1 - busy0) / max(1, total1 - total0)


def backend() -> str:
    """Which sampler is in use, for the report."""
    return f"psutil {psutil.__version__}" if psutil is not None else "/proc"
