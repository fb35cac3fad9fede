"""Writing files without ever leaving a partial one (private).

Every file the course writes (``exercises.json``, a results table, a checkpoint,
a cache entry) goes through :func:`atomic_write`: the new content is written to a
temporary file in the same folder, flushed to disk, and only then renamed over
the old file with ``os.replace`` (atomic on POSIX and Windows). A failure
anywhere before the rename (disk full, quota, an exception in the caller's code)
removes the temporary file, which the course created, and leaves the old file
exactly as it was.

:func:`locked` serialises a read-edit-write between processes (two instructors'
``python -m course_utils add`` at once) with `filelock <https://py-filelock.readthedocs.io>`_,
which PyTorch itself depends on.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import filelock

__all__ = ["atomic_write", "lock_file", "locked"]


def _mode_for_new_file() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8", **kwargs
) -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; rename it to ``path`` on success.

    ``mode`` is ``"w"`` (text, ``encoding`` applies) or ``"wb"``; ``kwargs`` go to
    ``open`` (e.g. ``newline=""`` for ``csv``). The file keeps the permissions of
    the file it replaces (a new one gets the usual ``0o666 & ~umask``); a
    read-only file is refused with ``PermissionError``, as ``open(path, "w")`` would.

    Example::

        with atomic_write(path) as f:
            json.dump(data, f)
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    if path.exists() and not os.access(path, os.W_OK):
        # A rename would replace it anyway: respect the read-only flag its owner set.
        raise PermissionError(errno.EACCES, "the file is read-only", str(path))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            permissions = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            permissions = _mode_for_new_file()
        os.chmod(tmp, permissions)
        with open(fd, mode, encoding=None if "b" in mode else encoding, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # ours: created by mkstemp above
        raise


def lock_file(path: str | os.PathLike) -> Path:
    """The lock file for ``path``: in the temporary folder, named by a hash of its absolute path.

    Not next to ``path``, so that no lock file lands in a package's data folder or
    a repository, and a read-only folder can still be locked.
    """
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"course_utils-{key}.lock"


@contextmanager
def locked(path: str | os.PathLike, *, timeout: float = 60.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (through :func:`lock_file`) between processes.

    Waits at most ``timeout`` seconds, then raises ``filelock.Timeout``. The
    lock file is left in place (removing it would race with the next waiter).
    """
    # 0o666: on a shared machine another user's `add` of the same file can take it too.
    with filelock.FileLock(lock_file(path), timeout=timeout, mode=0o666):
        yield
