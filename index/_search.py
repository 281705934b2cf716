"""Search the log: dense (FAISS), keyword (the log's FTS5 BM25) and hybrid; related papers.

Every search first syncs pending papers (a cheap check when nothing changed) without waiting for another writer.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _fusion, _store, _vectors
from ._embed import Embedder, get_embedder
from ._errors import SearchIndexError
from ._protocol import PaperLog
from ._sync import logger, sync

MODES = ("hybrid", "dense", "keyword")
#: Candidates taken from each ranking before fusing (at least this many, or 5 x k). At 100, hybrid lost to dense
#: alone on one CSFCube fold at k = 10 (papers in only one of two shallow rankings scored 0 in the other); 200
#: beats 100 on both folds, and 500 or the whole corpus score the same within noise (bench/search_quality.py --sweep).
MIN_DEPTH = 200
#: A paper-level search embeds up to this many new or changed papers itself before answering (about a second on
#: 2 busy cores: 8.8 s per 100 titles at load 7, bench/library_scale.py); with more, and `foreground=False`, it
#: answers from the index as saved and leaves them to the background indexer.
FOREGROUND_PAPERS = 10

_WORD = re.compile(r"\w{3,}", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_LOADED: dict[tuple[str, str], Any] = {}
_LOADED_LOCK = threading.Lock()
#: "The caller has not synced yet" (None means: synced, and no index is usable).
_SYNC: Any = object()


class SearchHits(list[dict[str, Any]]):
    """What `search` returns: the hits (a list of dicts, best first) and, in `metadata`, how complete the index it
    searched was (paper-level: papers_waiting, running; full text: see `indexing_status`)."""

    metadata: dict[str, Any]


class SearchError(SearchIndexError):
    """Bad search input (unknown mode, empty query, k < 1); the message is one line for the user."""


def _read_loaded(folder: Any) -> tuple[Any, dict[str, Any]] | None:
    manifest = _store.read_manifest(folder)
    if manifest is None:
        return None
    key = (str(folder), str(manifest.get("index_file")))
    with _LOADED_LOCK:
        if key not in _LOADED:
            index, manifest = _store.read_index(folder, manifest)
            key = (str(folder), str(manifest.get("index_file")))
            for old in [k for k in _LOADED if k[0] == key[0]]:
                del _LOADED[old]
            _LOADED[key] = (index, manifest)
        return _LOADED[key]


def synced(log: PaperLog, embedder: Embedder, *, progress: bool | None = None) -> tuple[Any, dict[str, Any]] | None:
    """Sync pending papers and candidates, then the committed (FAISS index, its manifest), cached per generation;
    None if no index is usable. Treat both as read-only. Each search, related() and inbox rank() calls it once.

    A corrupt index found here is rebuilt at once (unless another process is writing it).
    """
    sync(log, embedder=embedder, wait=False, progress=progress)
    folder = _store.index_dir(log.path)
    try:
        return _read_loaded(folder)
    except _store.CorruptIndex:
        if sync(log, embedder=embedder, wait=False, verify=True).busy:
            return None
    try:
        return _read_loaded(folder)
    except _store.CorruptIndex as exc:
        logger.warning("the search index cannot be read (%s); dense results are skipped", exc)
        return None


def _synced_index(log: PaperLog, embedder: Embedder) -> Any | None:
    """Sync, then the committed FAISS index, or None if none is usable (see `synced`)."""
    loaded = synced(log, embedder)
    return None if loaded is None else loaded[0]


def vectors(log: PaperLog, *, embedder: Embedder | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The papers' stored embeddings after a sync: (paper ids, (n, dim) float32 unit rows), in the same order.

    Syncs first as a search does (without waiting for another writer: then the last saved index answers). Empty
    arrays, of shape (0,) and (0, 0), when the log has no papers or no index could be built.
    """
    index = _synced_index(log, embedder or get_embedder(log=log))
    if index is None or index.ntotal == 0:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return _vectors.extract(index)


def _check(query: str, k: int, mode: str) -> None:
    if mode not in MODES:
        raise SearchError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
    if not query or not query.strip():
        raise SearchError("empty query; give some words to search for")
    if int(k) < 1:
        raise SearchError("k must be at least 1")


def _allowed(log: PaperLog, filters: dict[str, Any]) -> set[int] | None:
    active = {key: value for key, value in filters.items() if value is not None}
    return log.filter_ids(**active) if active else None


def _dense(log: PaperLog, embedder: Embedder, vector: np.ndarray | None, query: str, depth: int,
           allowed: set[int] | None, exclude: int | None = None, index: Any = _SYNC) -> list[tuple[int, float]]:
    if index is _SYNC:  # not synced by the caller yet
        index = _synced_index(log, embedder)
    if index is None or index.ntotal == 0:
        return []
    if vector is None:
        vector = embedder.encode([query])[0]
    extra = 1 if exclude is not None else 0
    scores, ids = _vectors.search(index, vector, depth + extra, allowed)
    return [(int(i), float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0 and i != exclude][:depth]


def _keyword(log: PaperLog, query: str, depth: int, allowed: set[int] | None, exclude: int | None = None
             ) -> list[tuple[int, float]]:
    extra = 1 if exclude is not None else 0
    hits = log.keyword_search(query, k=depth + extra, ids=allowed)
    return [(int(pid), float(score)) for pid, score in hits if pid != exclude][:depth]


def _snippet(abstract: str, query: str, width: int = 200) -> str:
    """The abstract sentence sharing most words with the query (its start if none does), cut to `width`."""
    abstract = " ".join((abstract or "").split())
    if not abstract:
        return ""
    words = {w.lower() for w in _WORD.findall(query)}
    sentences = _SENTENCE.split(abstract)
    overlap = [len(words.intersection(w.lower() for w in _WORD.findall(s))) for s in sentences] if words else [0]
    best = sentences[overlap.index(max(overlap))] if max(overlap) > 0 else sentences[0]
    return best if len(best) <= width else best[: width - 1].rsplit(" ", 1)[0] + "…"


def _results(log: PaperLog, ranked: Sequence[tuple[int, float]], query: str) -> list[dict[str, Any]]:
    if not ranked:
        return []
    papers = {p["id"]: p for p in log.papers(ids=[pid for pid, _ in ranked])}
    out = []
    for pid, score in ranked:
        paper = papers.get(pid)
        if paper is None:  # removed since it was indexed
            continue
        out.append({"id": pid, "arxiv_id": paper.get("arxiv_id"), "title": paper.get("title", ""),
                    "year": paper.get("year"), "score": round(float(score), 6),
                    "snippet": _snippet(paper.get("abstract") or " ".join(n["text"] for n in paper.get("notes") or []),
                                        query)})  # no abstract yet (a starter paper): its notes
    return out


def _rank(log: PaperLog, query: str, k: int, mode: str, embedder: Embedder | None, allowed: set[int] | None,
          vector: np.ndarray | None = None, exclude: int | None = None,
          fusion: tuple[str, float] | None = None, index: Any = _SYNC, unknown: set[int] | None = None
          ) -> list[tuple[int, float]]:
    if allowed is not None and not allowed:
        return []
    depth = k if mode != "hybrid" else max(MIN_DEPTH, 5 * k)
    dense = keyword = []
    if mode in ("dense", "hybrid"):
        dense = _dense(log, embedder or get_embedder(log=log), vector, query, depth, allowed, exclude, index)
    if mode in ("keyword", "hybrid"):
        keyword = _keyword(log, query, depth, allowed, exclude)
    if mode == "dense":
        return dense[:k]
    if mode == "keyword":
        return keyword[:k]
    return _fusion.fuse(dense, keyword, fusion, unknown=unknown or ())[:k]


def _waiting_papers(log: PaperLog, embedder: Embedder) -> set[int]:
    """The papers whose text the saved index does not hold (new or changed; all of them when there is no usable
    saved index: missing, unreadable, of another model)."""
    from ._sync import content_hash, is_fresh

    if is_fresh(log, embedder):
        return set()
    try:
        manifest = _store.read_manifest(_store.index_dir(log.path))
    except _store.CorruptIndex:
        manifest = None
    held = manifest.get("hashes", {}) if manifest and manifest.get("model") == embedder.name else {}
    return {pid for pid, text in log.index_texts() if held.get(str(pid)) != content_hash(text)}


def _saved_index(log: PaperLog, embedder: Embedder, foreground: bool) -> tuple[Any, set[int]]:
    """(the index to search, the papers it lacks): synced first (`_SYNC`) unless the caller allows answering
    without waiting and more than `FOREGROUND_PAPERS` papers wait."""
    if foreground:
        return _SYNC, set()
    waiting = _waiting_papers(log, embedder)
    if len(waiting) <= FOREGROUND_PAPERS:
        return _SYNC, set()
    try:
        loaded = _read_loaded(_store.index_dir(log.path))
    except _store.CorruptIndex:
        loaded = None
    if loaded is None or loaded[1].get("model") != embedder.name:
        return None, waiting
    return loaded[0], waiting


def search(log: PaperLog, query: str, k: int = 10, *, mode: str = "hybrid", tag: str | None = None,
           status: str | None = None, year_min: int | None = None, year_max: int | None = None,
           read_since: str | None = None, read_until: str | None = None, embedder: Embedder | None = None,
           fusion: tuple[str, float] | None = None, fulltext: bool = False, foreground: bool = True
           ) -> list[dict[str, Any]]:
    """Search the log; best first.

    Args:
        log: an open `reading.Log`.
        query: free text in any language (the default model is English-first).
        k: number of results.
        mode: "hybrid" (dense + keyword fused), "dense" (embeddings) or "keyword" (FTS5 BM25).
        tag, status, year_min, year_max, read_since, read_until: filters, as `log.filter_ids` takes them.
        embedder: defaults to the configured model (`get_embedder(log=log)`).
        fusion: ("rrf", k) or ("blend", alpha); defaults to the one measured best on CSFCube.
        fulltext: search the passages of the papers' PDFs instead (see `index._passages`).
        foreground: embed what is not indexed yet before searching (the search waits). False answers at once
            from the index as saved when more than `FOREGROUND_PAPERS` papers (with `fulltext`: any page) wait,
            their dense score unknown in the fusion, and the returned list's `metadata` says how many wait
            (the background indexer embeds them: `start_background_indexing`).

    Returns:
        Dicts with id, arxiv_id, title, year, score and snippet; with `fulltext`, passages: id, arxiv_id, title,
        page (1-based), section (its heading as printed, "" if none), passage, score and sha256 (of the PDF).
    """
    _check(query, k, mode)
    if mode != "keyword":
        embedder = embedder or get_embedder(log=log)
        prefetch = getattr(embedder, "prefetch", None)
        if prefetch is not None:  # load the query encoder while the sync check and FAISS load run
            prefetch()
    allowed = _allowed(log, {"tag": tag, "status": status, "year_min": year_min, "year_max": year_max,
                             "read_since": read_since, "read_until": read_until})
    if fulltext:
        from ._passages import search_passages

        return search_passages(log, query, int(k), mode=mode, embedder=embedder, allowed=allowed, fusion=fusion,
                               foreground=foreground)
    index: Any = _SYNC
    waiting: set[int] = set()
    if mode != "keyword" and embedder is not None:
        index, waiting = _saved_index(log, embedder, foreground)
    hits = SearchHits(_results(log, _rank(log, query, int(k), mode, embedder, allowed, fusion=fusion, index=index,
                                          unknown=waiting), query))
    hits.metadata = {"papers_waiting": len(waiting), "running": bool(waiting) and _writing(log)}
    return hits


def _writing(log: PaperLog) -> bool:
    """Whether an indexer holds the paper or the passage index's writer lock."""
    from ._passages import passages_dir

    return _store.lock_held(_store.index_dir(log.path)) or _store.lock_held(passages_dir(log.path))


def related(log: PaperLog, ref: Any, k: int = 10, *, mode: str = "hybrid", tag: str | None = None,
            status: str | None = None, year_min: int | None = None, year_max: int | None = None,
            embedder: Embedder | None = None, fusion: tuple[str, float] | None = None) -> list[dict[str, Any]]:
    """Papers of the log most like paper `ref` (row id, arXiv id or DOI), itself excluded; best first.

    Ranks by its title + abstract + notes: its stored vector for the dense part, its text for the keyword part.
    Raises the log's `PaperNotFound` for an unknown `ref`.
    """
    paper = log.get(ref)
    pid = int(paper["id"])
    text = dict(log.index_texts([pid])).get(pid) or paper.get("title", "")
    _check(text, k, mode)
    allowed = _allowed(log, {"tag": tag, "status": status, "year_min": year_min, "year_max": year_max})
    vector, index = None, _SYNC
    if mode != "keyword":
        embedder = embedder or get_embedder(log=log)
        index = _synced_index(log, embedder)  # the one sync of this call: _rank reuses the index
        vector = _vectors.vector_of(index, pid) if index is not None else None
    ranked = _rank(log, text, int(k), mode, embedder, allowed, vector=vector, exclude=pid, fusion=fusion, index=index)
    return _results(log, ranked, paper.get("title", ""))


def reindex(log: PaperLog, full: bool = False, *, embedder: Embedder | None = None, progress: bool | None = None) -> Any:
    """Sync the index now and wait for any other writer; `full` re-embeds every paper. Returns the `SyncReport`."""
    return sync(log, embedder=embedder, full=full, wait=True, progress=progress)
