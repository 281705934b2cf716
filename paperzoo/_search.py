"""Search, related papers and the inbox over the log: the log (``reading``) and the index (``index``) together.

Each function syncs the index once (inside ``index``) and returns what the ``reading`` CLI prints and the pages
show. ``index`` (and with it numpy, faiss and the embedder) is imported inside each function.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from index import Embedder, SyncReport
    from reading import Log


def search(log: Log, query: str, k: int = 10, *, mode: str = "hybrid", embedder: Embedder | None = None,
           **filters: Any) -> list[dict[str, Any]]:
    """Hybrid / dense / keyword search of the log, best first (``index.search``; filters as ``log.filter_ids``)."""
    import index

    return index.search(log, query, k, mode=mode, embedder=embedder, **filters)


def related(log: Log, ref: int | str, k: int = 10, *, mode: str = "hybrid", embedder: Embedder | None = None,
            **filters: Any) -> list[dict[str, Any]]:
    """Papers of the log most like paper ``ref`` (row id, arXiv id or DOI), itself excluded (``index.related``)."""
    import index

    return index.related(log, ref, k, mode=mode, embedder=embedder, **filters)


def reindex(log: Log, *, full: bool = False, embedder: Embedder | None = None,
            progress: bool | None = None) -> SyncReport:
    """Bring the index up to date now, waiting for another writer; ``full`` re-embeds everything.

    PDFs stored before sections and reference lists were kept are read again first (``Log.reextract_pdfs``), so
    their passages get sections and lose their reference lists; the report's messages say so.
    """
    import index

    notes = reread_pdfs(log)
    report = index.reindex(log, full=full, embedder=embedder, progress=progress)
    report.messages[:0] = notes
    return report


def reread_pdfs(log: Log) -> list[str]:
    """Read the PDFs stored before sections and reference lists were kept again; one-line notes (also logged)."""
    import logging

    done, failed = log.reextract_pdfs()
    notes = [f"read {done} PDFs stored by an earlier version again for their sections and reference lists"] \
        if done else []
    notes += [f"{name} could not be read again ({why}); it keeps its old text" for name, why in failed]
    for note in notes:
        logging.getLogger("paperzoo").warning(note)
    return notes


def rank_inbox(log: Log, *, tag: str | None = None, k: int = 20, ranker: str = "fusion",
               embedder: Embedder | None = None, progress: bool | None = None) -> list[dict[str, Any]]:
    """The waiting inbox candidates ranked by the library, best first (``index.inbox.rank``); [] when none wait."""
    if not log.candidates(limit=1):
        return []
    from index import inbox

    return inbox.rank(log, tag=tag, k=k, ranker=ranker, embedder=embedder, progress=progress)


def embed_candidates(log: Log, *, embedder: Embedder | None = None, progress: bool | None = None) -> str | None:
    """Embed the inbox candidates not embedded yet, now; returns why that was impossible (the model cannot be
    loaded: ranking embeds them later), or ``None``."""
    from index import inbox

    try:
        inbox.sync_candidates(log, embedder=embedder, progress=progress)
    except OSError as err:
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return None


def fetch_inbox(log: Log, categories: Sequence[str] | None = None, *, since: Any = None,
                max_results: int | None = None, embed: bool = True, embedder: Embedder | None = None,
                progress: bool | None = None) -> dict[str, Any]:
    """Fetch new arXiv submissions into the log's inbox, then (``embed``) embed the new ones with the index's model.

    Returns the log's fetch report (``fetched``, ``added``, ``in_log``, ``skipped``, ``pending``, ``error`` ...)
    plus ``embed_error`` (see :func:`embed_candidates`; ``None`` when nothing new arrived or ``embed`` is off).
    """
    report = dict(log.fetch_inbox(list(categories) if categories else None, since=since, max_results=max_results,
                                  progress=bool(progress)))
    report["embed_error"] = None
    if embed and report["added"]:
        report["embed_error"] = embed_candidates(log, embedder=embedder, progress=progress)
    return report
