"""Bringing a library in, one workflow for the CLI and the app: a Zotero data folder, or a BibTeX / CSL-JSON / RIS
file whose PDFs come along; then, when PDFs arrived, the passage index is brought up to date in the background.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from reading import Log


def is_zotero_folder(path: str | Path) -> bool:
    """Whether ``path`` is a Zotero data folder (it holds ``zotero.sqlite``) or that file itself."""
    p = Path(path).expanduser()
    return (p.is_dir() and (p / "zotero.sqlite").is_file()) or (p.is_file() and p.name == "zotero.sqlite")


def start_indexing(log: Log) -> bool:
    """Start embedding the new passages in the background (the index package's background indexer); False when
    it is not available or not started. The one place an import starts it: the caller never waits for it."""
    import index

    start = getattr(index, "start_background_indexing", None)
    if start is None:
        return False
    return bool(start(log.path))


def import_zotero(log: Log, folder: str | Path | None = None, *, attachments_base: str | Path | None = None,
                  progress: bool = False, on_progress: Any = None) -> dict[str, Any]:
    """Import a Zotero library (default ``~/Zotero``) and start indexing the PDFs it brought.

    Returns :func:`reading.import_zotero`'s report, plus ``indexing`` (whether background indexing started).
    """
    import reading

    report = reading.import_zotero(log, folder or Path("~/Zotero").expanduser(), attachments_base=attachments_base,
                                   progress=progress, on_progress=on_progress)
    report["indexing"] = bool(report["pdfs"]) and start_indexing(log)
    return report


def import_file(log: Log, path: str | Path, *, fmt: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Import a BibTeX, CSL-JSON, RIS, JSONL or CSV file (PDFs named in it attached), then start indexing them."""
    report = log.import_file(Path(path), fmt=fmt, progress=progress)
    report["indexing"] = bool(report.get("pdfs")) and start_indexing(log)
    return report
