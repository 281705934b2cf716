"""What both command lines share: the log a command works on, and the one error policy.

Every library error derives from one base per package: ``reading.ReadingError``, ``index.SearchIndexError`` and
``zoo.ZooError``. :class:`Group` (the class of both CLIs' groups) turns exactly those into one-line click errors
(exit status 1) and lets anything else surface as the bug it is.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from reading import Log, ReadingError, open_log

#: The error bases of the heavier libraries, by module: looked up only once the module is imported (a ``reading
#: add`` must not import ``index`` or ``zoo`` just to name their errors; an error of a module never imported cannot
#: have been raised).
_LAZY_BASES = (("index", "SearchIndexError"), ("zoo", "ZooError"))


def library_errors() -> tuple[type[Exception], ...]:
    """The error bases of the libraries imported so far."""
    bases: list[type[Exception]] = [ReadingError]
    for module, name in _LAZY_BASES:
        if module in sys.modules:
            bases.append(getattr(sys.modules[module], name))
    return tuple(bases)


def one_line(err: BaseException) -> str:
    """The first line of an error's message (its type name when it has none)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class Group(click.Group):
    """A click group whose commands' library errors become one-line click errors (exit status 1); so do a log file
    that SQLite cannot read (damaged) or cannot lock (busy), and arguments that are not UTF-8 text."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from ._echo import bad_argument

        why = bad_argument(args)
        if why is not None:
            raise click.UsageError(why, ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        from ._echo import printable

        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except sqlite3.DatabaseError as err:
            from reading import database_error

            raise click.ClickException(printable(one_line(database_error(err)))) from None
        except OSError as err:  # the system refused (permissions, a full disk, a file-size limit): not a bug
            where = f": {err.filename}" if err.filename else ""
            raise click.ClickException(printable(f"{err.strerror or one_line(err)}{where}")) from None
        except MemoryError:
            raise click.ClickException("out of memory: this machine cannot hold what the command needs") from None
        except Exception as err:
            if isinstance(err, library_errors()):  # messages quote user text: printed escaped like all output
                raise click.ClickException(printable(one_line(err))) from None
            raise


def protected_files(db: Path | str | None = None) -> list[Path]:
    """What no command may write over: the reading log (``db``, default the configured one), its WAL and journal
    files, its PDF folder and its index folder."""
    from index import index_dir  # a light module of index (no model, no faiss)
    from reading import default_db_path, log_files

    path = Path(db) if db is not None else default_db_path()
    return [*log_files(path), index_dir(path)]


class OutputFile(click.ParamType):
    """A file a command will write, checked when the command line is parsed (before minutes of work): refused in
    one line when it is the log or one of its files (by path, symlink or hard link), a folder, or a place that
    cannot hold a file. Every output option of both command lines takes this type."""

    name = "file"

    def __init__(self, path_type: type = Path) -> None:
        self.path_type = path_type

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from reading import InvalidInput, check_writable

        path = Path(value)
        state = ctx.find_object(LogState) if ctx is not None else None
        db = state.db_path if state is not None else (ctx.params.get("db") if ctx is not None else None)
        try:
            check_writable(path, protect=protected_files(db))
        except InvalidInput as err:
            self.fail(str(err), param, ctx)
        return self.path_type(path)


class LogState:
    """The log of one command line invocation, opened on first use and closed when the command ends."""

    def __init__(self, db: Path | None):
        self.db_path = db
        self._log: Log | None = None

    def log(self) -> Log:
        if self._log is None:
            self._log = open_log(self.db_path)
        return self._log

    def close(self) -> None:
        if self._log is not None:
            self._log.close()


def log_of(ctx: click.Context) -> Log:
    """The log of the ``reading`` invocation that runs this command."""
    state = ctx.find_object(LogState)
    assert state is not None, "a reading command runs under the reading group"
    return state.log()
