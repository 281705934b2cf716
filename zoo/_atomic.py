"""The zoo's one way to write a file: a temporary file in the same folder, flushed and fsynced, renamed over the
target, then the folder fsynced, so a crash leaves the old file or the new one, never half of one."""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_path", "atomic_write_bytes", "atomic_write_text", "fsync_dir"]


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. on Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
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


def _new_file_mode(path: Path) -> int:
    """What the file written at ``path`` gets: the mode of the regular file it replaces, else 0o666 less the umask
    (as ``open`` would make it; ``mkstemp`` makes 0o600 whatever the umask)."""
    try:
        st = os.stat(path)
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()


def _fsync_file(path: Path, mode: int) -> None:
    with open(path, "rb+") as fh:
        os.fchmod(fh.fileno(), mode)
        os.fsync(fh.fileno())


#: A temporary file whose name carries no live process id is left behind by a kill once unchanged this long.
STALE_AFTER_S = 15 * 60


def _remove_stale(folder: Path, prefix: str, suffix: str) -> None:
    """Remove what killed writers left beside a target (``<prefix><pid>-<random><suffix>``): files of a process
    that is gone (unchanged for 10 s), or without a pid and unchanged for ``STALE_AFTER_S``; never a live one's."""
    import re
    import time

    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(suffix)):
            continue
        with contextlib.suppress(OSError):
            if not entry.is_file(follow_symlinks=False):
                continue
            age = time.time() - entry.stat(follow_symlinks=False).st_mtime
            pid = re.match(r"(\d+)-", entry.name[len(prefix):])
            dead = pid is not None and int(pid.group(1)) != os.getpid() and not _alive(int(pid.group(1)))
            if (dead and age > 10) or age > STALE_AFTER_S:
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` for writers that take a file name (``torch.onnx.export``, ``torch.save``
    to a name): on a normal exit the file written there is fsynced and replaces ``path`` atomically; on an
    exception it is deleted and ``path`` is untouched. The file gets the mode of the file it replaces, or for a new
    file 0o666 less the umask."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(path)
    _remove_stale(path.parent, f".{path.name}.", suffix)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync_file(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", *, encoding: str | None = None,
                suffix: str = ".tmp") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on a normal exit it replaces ``path`` atomically, on an
    exception it is deleted and ``path`` is untouched.

        with atomic_open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    """
    with atomic_path(path, suffix=suffix) as tmp:
        with open(tmp, mode, encoding=encoding, newline=None if "b" in mode else "") as fh:
            yield fh


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
