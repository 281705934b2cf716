"""The paper log: one SQLite file of papers, reads, notes, tags, zoo links and benchmark results.

    >>> from reading import open_log
    >>> log = open_log(tmp_path / "log.db")          # doctest: +SKIP
    >>> log.add("1512.03385", tags=["resnet"]).paper["title"]   # doctest: +SKIP
    'Deep Residual Learning for Image Recognition'

Importing this package is light: arxiv, bibtexparser and pypdfium2 are imported inside the functions that need
them; nothing heavy (torch, sentence-transformers, faiss) is ever imported here.
"""
from typing import TYPE_CHECKING, Any

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
from ._log import STATUSES, AddResult, Log, check_log_file, open_log
from ._pdf import EncryptedPdf, PdfError
from ._types import Note, Paper, Read

if TYPE_CHECKING:  # loaded on first use (PEP 562 below): `reading add/list/show` never need the Zotero importer
    from ._zotero import import_zotero
    from ._zotero import summary as zotero_summary


def __getattr__(name: str) -> Any:
    if name in ("import_zotero", "zotero_summary"):
        from . import _zotero

        return _zotero.import_zotero if name == "import_zotero" else _zotero.summary
    raise AttributeError(f"module 'reading' has no attribute {name!r}")


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
    "check_log_file",
    "check_writable",
    "database_error",
    "default_db_path",
    "import_summary",
    "import_zotero",
    "library_dir",
    "log_files",
    "normalise_title",
    "open_log",
    "parse_arxiv_id",
    "parse_doi",
    "restore",
    "starter_summary",
    "write_atomic",
    "zotero_summary",
]
