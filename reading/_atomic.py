"""The log's one way to write a file beside it (exports, stored PDFs): a temporary file in the target's folder,
flushed and fsynced, renamed over the target, then the folder fsynced, so a crash leaves the old file or the new
one, never half of one."""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ._stale import remove_stale, temp_prefix


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def rename_into_place(src: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Move a file already written and fsynced beside ``path`` over it, durably (for a file that must wait for
    others before it appears, as a restored database waits for its PDFs)."""
    os.replace(src, path)
    fsync_dir(Path(path).parent)


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux: ``/proc/self/status``);
    elsewhere set and restored at once under a lock (``os.umask`` has no read-only form)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def new_file_mode(path: str | os.PathLike[str]) -> int:
    """The mode a file written at ``path`` gets: an existing file's own, else what ``open`` would give a new one
    (0o666 less the umask; ``mkstemp`` makes its temporary files 0o600 whatever the umask)."""
    try:
        st = os.stat(path)
    except OSError:
        return 0o666 & ~current_umask()
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", *, encoding: str | None = None,
                permissions: int | None = None, prefix: str | None = None, suffix: str = ".tmp"
                ) -> Iterator[IO[Any]]:
    """Open a temporary file in ``path``'s folder (which must exist) for writing; on a normal exit it gets
    ``permissions`` (default: those of the file it replaces, or for a new file 0o666 less the umask) and replaces
    ``path`` atomically; on an exception it is deleted and ``path`` is untouched. Text is written with newlines as
    given."""
    path = Path(path)
    if permissions is None:
        permissions = new_file_mode(path)
    if prefix is None:  # an export: what a killed one left beside this target goes first
        prefix = f".{path.name}."
        remove_stale(path.parent, prefix, suffix)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(prefix), suffix=suffix)
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=None if "b" in mode else "") as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), permissions)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
