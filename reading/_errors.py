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
