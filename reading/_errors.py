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


class FileChanged(ReadingError):
    """A file changed while it was being read into the log (its bytes no longer hash as before); nothing stored."""


class LogBusy(ReadingError):
    """Another program held the log's write lock for longer than the busy timeout."""


class NotALog(ReadingError):
    """The file is not a reading log: another program's SQLite file, not SQLite at all, or a folder. Not changed."""


class LogNewer(ReadingError):
    """The log was written by a newer version of this program; it was not changed."""


class LogReadOnly(ReadingError):
    """The log's file or folder cannot be written: it can be read, not changed."""


class DiskFull(ReadingError):
    """The disk (or quota) holding the log is full: the write was rolled back."""


class LogUnavailable(ReadingError):
    """The log cannot be opened or read for a reason other than damage (no permission, I/O error)."""


def database_error(err: Exception, path: object = None) -> ReadingError:
    """An ``sqlite3.DatabaseError`` as a one-line ReadingError saying what happened: busy, read-only, disk full,
    a newer version, not a log, cannot be opened, or damaged.

    The message never suggests an action that writes to the file, and only a damaged file is called damaged: advice
    to restore a backup, given for a full disk, could make someone replace a good log with an old one.
    """
    from . import _db

    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    where = f" ({path})" if path is not None else ""
    code = str(getattr(err, "sqlite_errorname", "") or "")
    if isinstance(err, _db.NotALog):
        return NotALog(text)
    if isinstance(err, _db.NewerSchema):
        return LogNewer(text)
    if isinstance(err, _db.LogReadOnly):
        return LogReadOnly(text)
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return LogBusy(f"the log{where} is busy: another program is writing to it; try again ({text})")
    if code.startswith("SQLITE_READONLY") or "readonly database" in text:
        return LogReadOnly(f"the log{where} is read-only: it can be read, not changed; nothing was written ({text})")
    if code == "SQLITE_FULL" or "disk is full" in text:
        return DiskFull(f"the disk holding the log{where} is full: nothing was written and the log is as it was; "
                        "free some space and try again")
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return LogDamaged(f"the log file is damaged{where}: {text}; it was left as it is (restore a backup or an "
                          "export)")
    if code.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "unable to open" in text:
        return LogUnavailable(f"cannot open the log{where}: {text} (check that its folder exists and that you may "
                              "read it)")
    if code.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return LogUnavailable(f"cannot read or write the log{where}: {text} (an I/O error: a disk, network or "
                              "permission problem, not damage to the log)")
    return LogUnavailable(f"the log{where} could not be used: {text}")
