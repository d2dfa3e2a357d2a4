"""Process inspection helpers for the end-to-end tests (Linux /proc based, no timing assertions)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable, Optional

POLL_SECONDS = 0.05


def _stat_fields(pid: int) -> Optional[list[str]]:
    """Fields of /proc/<pid>/stat after the command name (state is index 0, ppid index 1), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()


def pid_gone(pid: int) -> bool:
    """True when no live process has this pid; a zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    fields = _stat_fields(pid)
    return fields is None or fields[0] in ("Z", "X")


def pid_alive(pid: int) -> bool:
    return not pid_gone(pid)


def wait_until_gone(pid: int, deadline: float) -> bool:
    """Polls until ``pid`` is gone or ``time.monotonic()`` passes ``deadline``; returns whether it is gone."""
    while True:
        if pid_gone(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def wait_until_all_gone(pids: Iterable[int], deadline: float) -> dict[int, bool]:
    """``wait_until_gone`` for several pids sharing one deadline: pid -> gone."""
    return {pid: wait_until_gone(pid, deadline) for pid in pids}


def parent_of(pid: int) -> Optional[int]:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[1])


def cmdline_of(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def live_children_of(pid: int) -> list[int]:
    """Pids of the live (non-zombie) processes whose parent is ``pid``."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            children.append(int(entry.name))
    return sorted(children)


def kill_if_alive(pids: Iterable[int], sig: int = 9) -> None:
    """Cleanup for processes a test started (directly or through its driver): SIGKILL each pid still alive."""
    for pid in pids:
        if pid_alive(pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def left_in_tmp() -> list[str]:
    """What is under TMPDIR, the user's private Ember root itself (``ember-<user>``, kept empty) aside."""
    import pwd
    tmp = os.environ["TMPDIR"]
    root = "ember-" + pwd.getpwuid(os.getuid()).pw_name
    left = sorted(name for name in os.listdir(tmp) if name != root)
    if os.path.isdir(os.path.join(tmp, root)):
        left += sorted(os.path.join(root, name) for name in os.listdir(os.path.join(tmp, root)))
    return left
