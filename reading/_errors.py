"""Errors of the reading log. Each carries a one-line message fit for a terminal."""
from __future__ import annotations


class ReadingError(Exception):
    """Base class of every error the reading log raises on bad input or state."""


class InvalidArxivId(ReadingError, ValueError):
    """A string that is none of the accepted arXiv identifier forms."""


class PaperNotFound(ReadingError, LookupError):
    """A reference (row id, arXiv id, DOI) that matches no paper in the log."""


class InvalidInput(ReadingError, ValueError):
    """A field value the log cannot store (bad rating, status, date, file format ...)."""


class LogDamaged(ReadingError):
    """The log file cannot be read as a database (damaged, truncated, or not a log at all)."""


class LogBusy(ReadingError):
    """Another program held the log's write lock for longer than the busy timeout."""


def database_error(err: Exception, path: object = None) -> ReadingError:
    """An ``sqlite3.DatabaseError`` as a one-line ReadingError: busy, or the file is damaged.

    The message never suggests an action that writes to the file: a damaged log is left exactly as it is.
    """
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    where = f" ({path})" if path is not None else ""
    if "locked" in text or "busy" in text:
        return LogBusy(f"the log{where} is busy: another program is writing to it; try again ({text})")
    return LogDamaged(f"the log file is damaged{where}: {text}; it was left as it is (restore a backup or an export)")
