"""Private temp directories: merge spills, a driver's work directory, a context's files directory.

They go under ``<tmp>/ember-<user>`` (the same root the JVM's spill files use, see ``dev.ember.security``), made
with mode 0700 and refused when it is a link, is not a directory, belongs to another user or lets others in: in a
shared ``/tmp``, another local user could otherwise make the directory first and plant or read files there.
"""

from __future__ import annotations

import os
import pwd
import re
import stat
import tempfile
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


def mkdtemp(prefix: str) -> str:
    """A new directory with a random name and mode 0700 under this user's root."""
    return tempfile.mkdtemp(prefix=prefix, dir=user_root())
