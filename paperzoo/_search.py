"""Search, related papers and the inbox over the log: the log (``reading``) and the index (``index``) together.

Each function syncs the index once (inside ``index``) and returns what the ``reading`` CLI prints and the pages
show. ``index`` (and with it numpy, faiss and the embedder) is imported inside each function.
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

#: Seconds between commits of a foreground passage reindex (searches meanwhile see the index fill).
COMMIT_EVERY = 20.0

if TYPE_CHECKING:  # pragma: no cover
    from index import Embedder, SyncReport
    from reading import Log


#: Log setting: False embeds PDFs' pages in the foreground (a full-text search waits for them) instead of in a
#: background process. The environment variable, when set ("0"/"false" or "1"/"true"), overrides it.
BACKGROUND_SETTING = "index.background"
BACKGROUND_ENV = "INDEX_BACKGROUND"
#: How the background process opens the log (``index`` does not import ``reading``).
LOG_OPENER = "reading:open_log"


def background_indexing(log: Log) -> bool:
    """Whether the PDFs' passages are embedded in the background (``$INDEX_BACKGROUND``, else the log's
    ``index.background`` setting, default on)."""
    raw: Any = os.environ.get(BACKGROUND_ENV)
    if raw is None or not raw.strip():
        raw = log.get_setting(BACKGROUND_SETTING, True)
    return str(raw).strip().lower() not in ("0", "false", "no", "off")


def index_in_background(log: Log, *, embedder: Embedder | None = None) -> bool:
    """Start the background indexer for ``log``'s PDF pages unless it is off (:func:`background_indexing`), one
    already runs, or the log is in memory; True when one was started. Call it after adding PDFs (the CLI's
    ``add``/``import``/``attach``, app uploads, other importers) and at app start; never embed yourself."""
    if not background_indexing(log):
        return False
    import index

    return index.start_background_indexing(log.path, model=embedder.name if embedder is not None else None,
                                           opener=LOG_OPENER)


def indexing_status(log: Log) -> dict[str, Any]:
    """How far the passage index is (``index.indexing_status``): pages_total, pages_indexed, pages_waiting,
    running, rate (pages/s), eta_s, path."""
    import index

    return index.indexing_status(log)


def search(log: Log, query: str, k: int = 10, *, mode: str = "hybrid", embedder: Embedder | None = None,
           fulltext: bool = False, **filters: Any) -> list[dict[str, Any]]:
    """Hybrid / dense / keyword search of the log, best first (``index.search``; filters as ``log.filter_ids``).

    With background indexing on, a full-text search never waits for the passage index, and a paper-level one
    waits only for a few new papers (``index.FOREGROUND_PAPERS``): it answers from what is indexed, its
    ``metadata`` says how much waits, and it starts the indexer if something waits and none runs.
    Each passage also names its PDF (``file``: the file name as it was added, beside its ``sha256``), and
    passages scoring 0 (nothing of the query in them) are left out.
    """
    import index

    background = background_indexing(log)
    hits = index.search(log, query, k, mode=mode, embedder=embedder, fulltext=fulltext, foreground=not background,
                        **filters)
    meta = getattr(hits, "metadata", None) or {}
    if background and (meta.get("pages_waiting") or meta.get("papers_waiting")) and not meta.get("running"):
        try:
            meta["running"] = index_in_background(log, embedder=embedder)
        except OSError:  # the index folder cannot be written: the answer stands, the line says nothing runs
            meta["running"] = False
    return _with_files(log, hits) if fulltext else hits


def _with_files(log: Log, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``hits`` (the same list: it carries the search's ``metadata``) with each passage's file name, those scoring
    0 left out."""
    names: dict[str, str] = {}
    for paper_id in dict.fromkeys(h["id"] for h in hits):
        names.update((pdf["sha256"], pdf["file_name"]) for pdf in log.pdfs(paper_id))
    hits[:] = [{**h, "file": names.get(h["sha256"], "")} for h in hits if (h.get("score") or 0) > 0]
    return hits


def waiting_line(meta: dict[str, Any]) -> str | None:
    """The one line saying how much of the full text is not yet searchable by meaning, or None when nothing waits:
    "4,210 of 13,000 pages not yet searchable by meaning; indexing in the background, ETA 38 min"."""
    papers = int(meta.get("papers_waiting") or 0)
    if papers:
        head = f"{papers:,} new or changed papers not yet searchable by meaning"
        return f"{head}; indexing in the background" if meta.get("running") else \
            f"{head}; run `reading reindex` to index them"
    waiting = int(meta.get("pages_waiting") or 0)
    if not waiting:
        return None
    head = f"{waiting:,} of {int(meta.get('pages_total') or 0):,} pages not yet searchable by meaning"
    if not meta.get("running"):
        return f"{head}; run `reading reindex --passages` to index them"
    eta = meta.get("eta_s")
    return f"{head}; indexing in the background, ETA {format_eta(eta) if eta else 'being measured'}"


def indexing_line(status: dict[str, Any] | Any) -> str:
    """How far the passage index is, in one line (`reading stats`, the app's stats page): "PDF pages searchable
    by meaning: 9,000 of 13,000 (4,000 waiting; indexing at 6.1 pages/s, ETA 11 min)"."""
    line = f"PDF pages searchable by meaning: {status['pages_indexed']:,} of {status['pages_total']:,}"
    if not status["pages_waiting"]:
        return line
    if not status["running"]:
        return f"{line} ({status['pages_waiting']:,} waiting; `reading reindex --passages` indexes them)"
    rate = f" at {status['rate']:.1f} pages/s" if status.get("rate") else ""
    eta = f", ETA {format_eta(status['eta_s'])}" if status.get("eta_s") else ""
    return f"{line} ({status['pages_waiting']:,} waiting; indexing{rate}{eta})"


def format_eta(seconds: float) -> str:
    """A duration as people say it: "40 s", "38 min", "2 h 05 min"."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h {rest:02d} min"


def related(log: Log, ref: int | str, k: int = 10, *, mode: str = "hybrid", embedder: Embedder | None = None,
            **filters: Any) -> list[dict[str, Any]]:
    """Papers of the log most like paper ``ref`` (row id, arXiv id or DOI), itself excluded (``index.related``)."""
    import index

    return index.related(log, ref, k, mode=mode, embedder=embedder, **filters)


def reindex(log: Log, *, full: bool = False, embedder: Embedder | None = None,
            progress: bool | None = None) -> SyncReport:
    """Bring the index up to date now, waiting for another writer; ``full`` re-embeds everything."""
    import index

    return index.reindex(log, full=full, embedder=embedder, progress=progress)


def reread_pdfs(log: Log, *, progress: bool | None = None) -> list[str]:
    """Read the PDFs stored before sections and reference lists were kept again (a progress bar on a terminal);
    one-line notes (also logged)."""
    import logging

    from tqdm.auto import tqdm

    bar: Any = None

    def on_pdf(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="pdf", desc="reading PDFs again",
                       disable=None if progress is None else not progress, leave=False)
        bar.update(done - bar.n)

    try:
        done, failed = log.reextract_pdfs(on_pdf=on_pdf)
    finally:
        if bar is not None:
            bar.close()
    notes = [f"read {done} PDFs stored by an earlier version again for their sections and reference lists"] \
        if done else []
    notes += [f"{name} could not be read again ({why}); it keeps its old text" for name, why in failed]
    for note in notes:
        logging.getLogger("paperzoo").warning(note)
    return notes


def reindex_passages(log: Log, *, full: bool = False, embedder: Embedder | None = None,
                     progress: bool | None = None, poll_s: float = 1.0) -> SyncReport:
    """Embed the PDFs' waiting pages now, in this process (a progress bar on a terminal). When the background
    indexer is at work, follow its progress until it is done instead (never an error), then finish what is left.

    PDFs stored before sections and reference lists were kept are read again first (``Log.reextract_pdfs``), so
    their passages get sections and lose their reference lists; the report's messages say so.
    """
    import index

    notes = reread_pdfs(log, progress=progress)
    status = index.indexing_status(log)
    if status["running"] and not full:
        from tqdm.auto import tqdm

        with tqdm(total=status["pages_total"], initial=status["pages_indexed"], unit="page",
                  desc="indexing in the background", disable=None if progress is None else not progress,
                  leave=False) as bar:
            while status["running"]:
                time.sleep(poll_s)
                status = index.indexing_status(log)
                bar.total = status["pages_total"]
                bar.update(max(0, status["pages_indexed"] - bar.n))
    report = index.sync_passages(log, embedder=embedder, full=full, wait=True, progress=progress,
                                 commit_every=COMMIT_EVERY)
    report.messages[:0] = notes
    return report


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
