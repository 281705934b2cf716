"""The log's one way to write a file beside it (exports, stored PDFs): a temporary file in the target's folder,
flushed and fsynced, renamed over the target, then the folder fsynced, so a crash leaves the old file or the new
one, never half of one."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", *, encoding: str | None = None,
                permissions: int | None = None, prefix: str | None = None, suffix: str = ".tmp"
                ) -> Iterator[IO[Any]]:
    """Open a temporary file in ``path``'s folder (which must exist) for writing; on a normal exit it gets
    ``permissions`` (when given) and replaces ``path`` atomically; on an exception it is deleted and ``path`` is
    untouched. Text is written with newlines as given."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=None if "b" in mode else "") as fh:
            yield fh
            fh.flush()
            if permissions is not None:
                os.fchmod(fh.fileno(), permissions)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
