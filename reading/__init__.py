"""The paper log: one SQLite file of papers, reads, notes, tags, zoo links and benchmark results.

    >>> from reading import open_log
    >>> log = open_log(tmp_path / "log.db")          # doctest: +SKIP
    >>> log.add("1512.03385", tags=["resnet"]).paper["title"]   # doctest: +SKIP
    'Deep Residual Learning for Image Recognition'

Importing this package is light: arxiv, bibtexparser and pypdfium2 are imported inside the functions that need
them; nothing heavy (torch, sentence-transformers, faiss) is ever imported here.
"""
from ._backup import BackupReport, RestoreReport, backup, restore
from ._config import ENV_VAR, default_db_path
from ._errors import (
    DiskFull,
    InvalidArxivId,
    InvalidInput,
    LogBusy,
    LogDamaged,
    LogNewer,
    LogReadOnly,
    LogUnavailable,
    NotALog,
    PaperNotFound,
    ReadingError,
    database_error,
)
from ._fulltext import ImportReport, PdfAddResult, library_dir
from ._ids import normalise_title, parse_arxiv_id, parse_doi
from ._export import check_writable, log_files, write_atomic
from ._intake import starter_summary
from ._intake import summary as import_summary
from ._log import STATUSES, AddResult, Log, open_log
from ._pdf import EncryptedPdf, PdfError
from ._types import Note, Paper, Read

__all__ = [
    "AddResult",
    "BackupReport",
    "DiskFull",
    "ENV_VAR",
    "EncryptedPdf",
    "ImportReport",
    "InvalidArxivId",
    "InvalidInput",
    "Log",
    "LogBusy",
    "LogDamaged",
    "LogNewer",
    "LogReadOnly",
    "LogUnavailable",
    "NotALog",
    "Note",
    "Paper",
    "PaperNotFound",
    "PdfAddResult",
    "PdfError",
    "Read",
    "ReadingError",
    "RestoreReport",
    "STATUSES",
    "backup",
    "check_writable",
    "database_error",
    "default_db_path",
    "import_summary",
    "library_dir",
    "log_files",
    "normalise_title",
    "open_log",
    "parse_arxiv_id",
    "parse_doi",
    "restore",
    "starter_summary",
    "write_atomic",
]
