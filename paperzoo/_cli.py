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

from ._outputs import check_output, protected_files

__all__ = ["Group", "LogState", "OutputFile", "check_output", "log_of", "protected_files", "recheck_outputs"]

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
        except BrokenPipeError:  # the reader went away (`reading list | head`): stop quietly, as Unix tools do
            _silence_stdout()
            ctx.exit(1)
        except OSError as err:  # the system refused (permissions, a full disk, a file-size limit): not a bug
            where = f": {err.filename}" if err.filename else ""
            raise click.ClickException(printable(f"{err.strerror or one_line(err)}{where}")) from None
        except MemoryError:
            raise click.ClickException("out of memory: this machine cannot hold what the command needs") from None
        except Exception as err:
            if isinstance(err, library_errors()):  # messages quote user text: printed escaped like all output
                raise click.ClickException(printable(one_line(err))) from None
            raise


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush of what is still buffered for a closed pipe
    prints no second error at exit."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer): nothing to flush
        pass


class OutputFile(click.ParamType):
    """A file a command will write, checked when the command line is parsed (before minutes of work) by the one
    output guard, :func:`paperzoo._outputs.check_output`: refused in one line when it is the log or one of its files
    or folders (by path, symlink or hard link), a folder, or a place that cannot hold a file. Every output option
    and argument of both command lines takes this type (``tests/test_hostile_storage.py`` enumerates them); a
    ``--db`` given after the output option is checked too (see :func:`recheck_outputs`)."""

    name = "file"

    def __init__(self, path_type: type = Path) -> None:
        self.path_type = path_type

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from reading import InvalidInput

        path = Path(value)
        try:
            check_output(path, _db_of(ctx))
        except InvalidInput as err:
            self.fail(str(err), param, ctx)
        return self.path_type(path)


def _db_of(ctx: click.Context | None) -> Path | None:
    """The log named on this command line so far (the group's ``--db`` or the command's own)."""
    if ctx is None:
        return None
    state = ctx.find_object(LogState)
    if state is not None and state.db_path is not None:
        return state.db_path
    db = ctx.params.get("db")
    return Path(db) if db else None


def recheck_outputs(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of a command's own ``--db`` option: the file must be a log (or not exist yet), checked before any
    work; and click converts options in the order they were typed, so output paths typed before ``--db`` were
    checked against the configured log only: check them against this one too."""
    from reading import InvalidInput, ReadingError, check_log_file

    if value:
        try:  # a --db that is not a log is refused now, not after a benchmark
            check_log_file(Path(value))
        except ReadingError as err:
            raise click.BadParameter(str(err), ctx, param) from None
        for other in ctx.command.params:
            name = other.name or ""
            if isinstance(other.type, OutputFile) and ctx.params.get(name) is not None:
                try:
                    check_output(Path(ctx.params[name]), Path(value))
                except InvalidInput as err:
                    raise click.BadParameter(str(err), ctx, other) from None
    return value


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
