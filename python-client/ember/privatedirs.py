"""Private temp directories: merge spills, a driver's work directory, a context's files directory.

They go under ``<tmp>/ember-<user>`` (the same root the JVM's spill files use, see ``dev.ember.security``), made
with mode 0700 and refused when it is a link, is not a directory, belongs to another user or lets others in: in a
shared ``/tmp``, another local user could otherwise make the directory first and plant or read files there.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shutil
import stat
import tempfile
import time
from typing import Optional


class UnsafeDirectoryError(OSError):
    """A directory that would hold private files is open to, or owned by, someone else."""


def user_root(base: Optional[str] = None) -> str:
    """``<base>/ember-<user>`` (``base``: the temp directory), made 0700 when missing, checked either way."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", pwd.getpwuid(os.getuid()).pw_name)
    base = base or tempfile.gettempdir()
    root = os.path.join(base, f"ember-{name}")
    os.makedirs(base, exist_ok=True)
    try:
        os.mkdir(root, 0o700)
    except FileExistsError:
        pass  # Made earlier, by this user or by someone else: check() decides.
    check(root)
    return root


def check(directory: str) -> None:
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeDirectoryError(f"refusing {directory}: it is not a plain directory (a link or a file stands "
                                   f"there); remove it, or set TMPDIR to another directory")
    if info.st_uid != os.getuid():
        raise UnsafeDirectoryError(f"refusing {directory}: it belongs to uid {info.st_uid}, not to this user "
                                   f"(uid {os.getuid()}), who could read or replace the files put there; remove it, "
                                   f"or set TMPDIR to another directory")
    if info.st_mode & 0o077:
        raise UnsafeDirectoryError(f"refusing {directory}: its mode {stat.filemode(info.st_mode)} lets other users "
                                   f"in; chmod 700 it, or remove it")


#: The file in an owned directory whose lock (flock) says its owner still runs.
OWNER_LOCK = ".owner"
#: What Python processes make under the user's root (the JVM's own, ``spill-*``, it sweeps itself).
SWEPT_PREFIXES = ("driver-", "merge-", "files-")
#: Lock files younger than this are left alone by a sweep: their owner may be about to lock them.
YOUNG_LOCK_SECONDS = 10.0

_owned: dict[str, int] = {}


def mkdtemp(prefix: str) -> str:
    """A new directory with a random name and mode 0700 under this user's root, owned by this process: it holds a
    lock for as long as the process runs (or until ``remove``), so that ``sweep_dead`` can tell it from one that a
    killed process left behind."""
    directory = tempfile.mkdtemp(prefix=prefix, dir=user_root())
    fd = os.open(os.path.join(directory, OWNER_LOCK), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _owned[directory] = fd
    return directory


def remove(directory: str) -> None:
    """Deletes a directory made by ``mkdtemp`` and releases its lock."""
    shutil.rmtree(directory, ignore_errors=True)
    fd = _owned.pop(directory, None)
    if fd is not None:
        os.close(fd)


def sweep_dead(base: Optional[str] = None) -> list[str]:
    """Removes the directories Python processes made under this user's root whose owner no longer runs (a driver
    or a worker killed with SIGKILL leaves its work, files and merge spills); returns those removed."""
    try:
        root = user_root(base)
        names = os.listdir(root)
    except OSError:
        return []
    removed = []
    now = time.time()
    for name in names:
        if not name.startswith(SWEPT_PREFIXES):
            continue
        directory = os.path.join(root, name)
        try:
            lock = os.path.join(directory, OWNER_LOCK)
            if now - os.lstat(lock).st_mtime < YOUNG_LOCK_SECONDS:
                continue
            fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # No lock (gone meanwhile): left alone.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # Its owner runs.
        try:
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
        finally:
            os.close(fd)
    return removed
