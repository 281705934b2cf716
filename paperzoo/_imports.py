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


def _index_new_pdfs(log: Log, report: dict[str, Any]) -> bool:
    """After PDFs arrived: start the background indexer (:func:`paperzoo.index_in_background`, which knows whether
    it is on); True when it was started. An index folder that cannot be written leaves search by keyword working."""
    if not report.get("pdfs"):
        return False
    from ._search import index_in_background

    try:
        return index_in_background(log)
    except OSError:
        return False


def import_zotero(log: Log, folder: str | Path | None = None, *, attachments_base: str | Path | None = None,
                  progress: bool = False, on_progress: Any = None) -> dict[str, Any]:
    """Import a Zotero library (default ``~/Zotero``) and start indexing the PDFs it brought.

    Returns :func:`reading.import_zotero`'s report, plus ``indexing`` (whether background indexing started).
    """
    import reading

    report = reading.import_zotero(log, folder or Path("~/Zotero").expanduser(), attachments_base=attachments_base,
                                   progress=progress, on_progress=on_progress)
    report["indexing"] = _index_new_pdfs(log, report)
    return report


def import_file(log: Log, path: str | Path, *, fmt: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Import a BibTeX, CSL-JSON, RIS, JSONL or CSV file (PDFs named in it attached), then start indexing them."""
    report = log.import_file(Path(path), fmt=fmt, progress=progress)
    report["indexing"] = _index_new_pdfs(log, report)
    return report
