"""What both command lines share: the log a command works on, and the one error policy.

Every library error derives from one base per package (``reading.ReadingError``, ``zoo.ZooError``,
``index.IndexError_``); :class:`Group` turns exactly those into one-line click errors (exit status 1).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reading import Log, ReadingError, open_log


class Group(click.Group):
    """Turns library errors into one-line click errors (exit status 1), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReadingError as err:
            raise click.ClickException(str(err)) from None


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
    return ctx.find_object(LogState).log()
