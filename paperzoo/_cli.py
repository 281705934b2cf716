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
        except Exception as err:
            if isinstance(err, library_errors()):  # messages quote user text: printed escaped like all output
                raise click.ClickException(printable(one_line(err))) from None
            raise


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
