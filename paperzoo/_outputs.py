"""The one output guard: every file a command line or the app writes for the user goes through :func:`check_output`.

It refuses the reading log itself (by path, symlink or hard link), its ``-wal``/``-shm``/``-journal`` files, its PDF
library folder and its index folder and anything inside them, a folder, and a place that cannot hold a file. The
click type :class:`paperzoo._cli.OutputFile` calls it when a command line is parsed (before minutes of work);
code that writes a file whose name it was given (a Streamlit page, a new command with an output argument) calls
:func:`check_output` itself, and ``tests/test_hostile_storage.py`` walks both command lines to check that every
output option takes that type.

Light: imports neither click nor torch.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["check_output", "protected_files"]


def _candidates(db: Path) -> list[Path]:
    from index import index_dir  # a light module of index (no model, no faiss)
    from reading import library_dir, log_files

    out: list[Path] = []
    for path in dict.fromkeys((db, db.resolve())):
        # the folders the log uses now, and every name they have had or may take (legacy stem-named folders)
        out += [*log_files(path), library_dir(path), index_dir(path)]
        for suffix in (".pdfs", ".index"):
            out += [path.with_name(path.stem + suffix), path.with_name(path.name + suffix)]
    return list(dict.fromkeys(out))


def protected_files(db: Path | str | None = None) -> list[Path]:
    """What no command may write over: the reading log (``db``, default the configured one; also reached through a
    symlink), its WAL, shared-memory and journal files, its PDF folder and its index folder (under any name they
    may have)."""
    from reading import default_db_path

    path = Path(db).expanduser() if db is not None else default_db_path()
    if str(path) == ":memory:":
        return []
    return _candidates(path)


def check_output(path: str | os.PathLike[str], db: Path | str | None = None, *, replacing_log: bool = False
                 ) -> Path:
    """The guard every output path goes through; returns ``path`` as a :class:`~pathlib.Path`.

    Args:
        path: the file the caller is about to write.
        db: the reading log in use; the configured one (``$READING_DB`` or the default) is protected as well.
        replacing_log: the caller writes a whole log on purpose (``reading restore --force``): a log file itself is
            allowed as the target, never its WAL, shared-memory or journal file, nor anything in its folders.

    Raises:
        reading.InvalidInput: one line: the target is the log or one of its files or folders (``refusing to
        write``), a folder, or a place where no file can be created. Nothing is written.
    """
    from reading import check_writable

    protect = protected_files(None)
    if db is not None:
        protect += protected_files(db)
    target = Path(path)
    if replacing_log:
        from reading import default_db_path

        logs = {p.expanduser().resolve() for p in (default_db_path(), *([Path(db)] if db is not None else []))}
        if target.expanduser().resolve() in logs:
            protect = [p for p in protect if p.expanduser().resolve() not in logs]
    check_writable(target, protect=protect)
    return target
