"""Temporary files that killed processes left behind (a killed import's ``.incoming-*.pdf``, a killed export's
``.*.tmp``): found by their name's prefix and removed on the next run, only when stale.

A temporary name carries its writer's process id (``<prefix><pid>-<random><suffix>``). A file is stale when that
process is gone (and the file has not changed for a few seconds), or, for a name without a pid (made by an earlier
release, or by a process of another machine sharing the folder), when it has not changed for ``STALE_AFTER_S``. A
live writer's file is never touched: its process exists, or it keeps writing.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

#: Seconds after which a temporary file nobody can be shown to own counts as left behind.
STALE_AFTER_S = 15 * 60
#: Seconds a file of a dead process must have been still before it is removed (its writer may be on another machine).
DEAD_QUIET_S = 10

_PID = re.compile(r"(\d+)-")


def temp_prefix(prefix: str) -> str:
    """``prefix`` with this process's id, for :func:`tempfile.mkstemp`."""
    return f"{prefix}{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale(folder: str | os.PathLike[str], prefix: str, suffix: str = "") -> list[Path]:
    """Remove the stale temporary files named ``<prefix>...<suffix>`` in ``folder``; returns what was removed.
    Never raises: a folder that cannot be listed or a file that cannot be removed is left as it is."""
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)) or len(name) <= len(prefix) + len(suffix):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        match = _PID.match(name[len(prefix):])
        dead = match is not None and not _alive(int(match.group(1)))
        if (dead and age > DEAD_QUIET_S) or age > STALE_AFTER_S:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
