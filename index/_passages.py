"""The passage index: the PDFs' pages cut into ~200-word passages (by the log), embedded into a second FAISS index.

It lives in `<db stem>.index/passages/` and follows the paper index's rules (`_store`): a manifest as the commit
point, a new FAISS file per generation, ingest saved in chunks (an interrupted sync resumes), the writer lock, and a
rebuild with a message when it is missing, of another model, or corrupt. Page rows never change once stored, so a
sync embeds only the passages of new pages (and of papers whose title changed: each passage is embedded as
"title + passage") and drops those of removed pages.

A passage id is `page row id * 64 + passage number on the page` (the log's numbering).
"""
from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from . import _fusion, _store, _vectors
from ._embed import Embedder, get_embedder
from ._protocol import PaperLog
from ._sync import SyncReport, _current, _note, content_hash, embed_resumable, logger

SUBDIR = "passages"
#: Passages embedded per saved chunk: the most an interrupt can lose.
CHUNK_SIZE = 512
#: The log's passage numbering: passages per page row.
SLOTS = 64
MIN_DEPTH = 100
#: Candidates HNSW gathers per search (its efSearch): recall@10 against exact search at 100,000 passages was 0.914
#: at 96, 0.950 at 128, 0.976 at 256 (2.8 ms a query; bench/fulltext_speed.py).
HNSW_BREADTH = 256

_LOADED: dict[str, tuple[str, Any, dict[str, Any]]] = {}
_LOCK = threading.Lock()
_WORD = re.compile(r"\w+", re.UNICODE)


def passages_dir(db_path: Any) -> Path:
    """The passage index folder: `/x/reading.db` -> `/x/reading.index/passages/`."""
    return _store.index_dir(db_path) / SUBDIR


def _embed_text(title: str, passage: str) -> str:
    return f"{title}\n\n{passage}" if title else passage


def is_fresh(log: PaperLog, embedder: Embedder) -> bool:
    """Cheap check (no lock, no model load): does the committed passage index match the log and the model?"""
    try:
        manifest = _store.read_manifest(passages_dir(log.path))
    except _store.CorruptIndex:
        return False
    return manifest is not None and manifest.get("model") == embedder.name \
        and manifest.get("pages_version") == log.pages_version() \
        and manifest.get("data_version") == log.data_version()


def sync_passages(log: PaperLog, *, embedder: Embedder | None = None, full: bool = False, wait: bool = True,
                  verify: bool = False, progress: bool | None = None, chunk_size: int = CHUNK_SIZE,
                  batch_size: int = 32, approx_threshold: int = _vectors.APPROX_THRESHOLD) -> SyncReport:
    """Bring the passage index up to date with the log's pages (`added`/`removed` count passages).

    Arguments as `index.sync`: `wait=False` returns at once with `busy` set when another process is writing.
    """
    embedder = embedder or get_embedder(log=log)
    report = SyncReport()
    folder = passages_dir(log.path)
    if not full and not verify and is_fresh(log, embedder):
        fresh = _store.read_manifest(folder)
        report.total = int(fresh["count"]) if fresh else 0
        return report
    with _store.writer_lock(folder, blocking=wait) as locked:
        if not locked:
            report.busy = True
            _note(report, "the passage index is being updated by another process; using the last saved one")
            return report
        _sync_locked(log, folder, embedder, full, progress, chunk_size, batch_size, approx_threshold, report)
    return report


def _sync_locked(log: PaperLog, folder: Path, embedder: Embedder, full: bool, progress: bool | None,
                 chunk_size: int, batch_size: int, approx_threshold: int, report: SyncReport) -> None:
    index, current = _current(folder, embedder, full, report)
    manifest: dict[str, Any] = current if index is not None and current is not None else {}
    versions = {"pages_version": log.pages_version(), "data_version": log.data_version()}  # before reading
    if index is not None and all(manifest.get(k) == v for k, v in versions.items()):
        report.total = index.ntotal
        return
    refs = log.page_refs()
    titles = log.paper_titles(set(refs.values()))
    title_hashes = {str(pid): content_hash(t) for pid, t in titles.items()}
    old_pages: set[int] = set(manifest.get("pages", []))
    old_titles: dict[str, str] = manifest.get("titles", {})
    retitled = {int(p) for p, h in title_hashes.items() if p in old_titles and old_titles[p] != h}
    todo_pages = sorted(g for g, pid in refs.items() if g not in old_pages or pid in retitled)
    drop_pages = (old_pages - set(refs)) | {g for g in old_pages if refs.get(g) in retitled}
    if index is not None and not todo_pages and not drop_pages:
        _store.update_manifest(folder, manifest, **versions, titles=title_hashes)
        report.total = index.ntotal
        return
    if report.rebuilt == "missing" and refs:
        _note(report, f"building the passage index for {len(refs)} pages")
    rows = log.passage_texts(todo_pages) if todo_pages else []
    texts = {pid: _embed_text(titles.get(paper, ""), text) for pid, paper, _sha, _page, text, *_ in rows}
    new_ids, new_vecs = embed_resumable(folder, embedder, list(texts), texts,
                                        {str(pid): content_hash(t) for pid, t in texts.items()}, progress,
                                        chunk_size, batch_size, report, unit="passage", desc="embedding passages")
    dim = int(new_vecs.shape[1]) if len(new_ids) else (index.d if index is not None else int(embedder.dim))
    new_vecs = new_vecs.reshape(-1, dim)
    old_count = index.ntotal if index is not None else 0
    kept: tuple[np.ndarray, np.ndarray] | None = None  # what stays of the old index, when it must be rebuilt
    if index is not None and drop_pages:
        ids, vecs = _vectors.extract(index)
        keep = ~np.isin(ids // SLOTS, np.fromiter(drop_pages, dtype=np.int64))
        kept = (ids[keep], vecs[keep])
    kept_count = old_count if kept is None else len(kept[0])
    report.removed = old_count - kept_count
    report.added = len(new_ids)
    kind = _vectors.kind_for(kept_count + len(new_ids), approx_threshold)
    if index is not None and kept is None and kind == _vectors.kind_of(index):
        _vectors.add(index, new_ids, new_vecs)  # both kinds grow in place; removals need a rebuild
    else:
        if kept is None:
            kept = _vectors.extract(index) if index is not None else (np.zeros(0, np.int64),
                                                                      np.zeros((0, dim), np.float32))
        index = _vectors.build(np.concatenate([kept[0], new_ids]),
                               np.concatenate([kept[1].reshape(-1, dim), new_vecs]), dim, kind)
    _store.write_generation(folder, index, {
        "model": embedder.name, "dim": dim, "count": int(index.ntotal), "kind": _vectors.kind_of(index),
        **versions, "pages": sorted(refs), "titles": title_hashes,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    _store.clear_chunks(folder)
    report.total = int(index.ntotal)


# --- search ---------------------------------------------------------------------------------------------------------


def _loaded(folder: Path) -> tuple[Any, dict[str, Any]] | None:
    manifest = _store.read_manifest(folder)
    if manifest is None:
        return None
    with _LOCK:
        cached = _LOADED.get(str(folder))
        if cached is None or cached[0] != manifest.get("index_file"):
            index, manifest = _store.read_index(folder, manifest)
            cached = (str(manifest.get("index_file")), index, manifest)
            _LOADED[str(folder)] = cached
        return cached[1], cached[2]


def _synced(log: PaperLog, embedder: Embedder) -> Any | None:
    """Sync (without waiting for another writer), then the committed passage index; rebuilt once if corrupt."""
    sync_passages(log, embedder=embedder, wait=False)
    folder = passages_dir(log.path)
    try:
        loaded = _loaded(folder)
    except _store.CorruptIndex:
        if sync_passages(log, embedder=embedder, wait=False, verify=True).busy:
            return None
        try:
            loaded = _loaded(folder)
        except _store.CorruptIndex as exc:
            logger.warning("the passage index cannot be read (%s); dense results are skipped", exc)
            return None
    return None if loaded is None else loaded[0]


def _allowed_passages(index: Any, log: PaperLog, allowed: set[int]) -> set[int]:
    refs = log.page_refs()
    pages = np.fromiter((g for g, pid in refs.items() if pid in allowed), dtype=np.int64)
    ids, _ = _vectors.extract(index) if index.ntotal else (np.zeros(0, np.int64), None)
    return set(ids[np.isin(ids // SLOTS, pages)].tolist())


def _dense(log: PaperLog, embedder: Embedder, query: str, depth: int, allowed: set[int] | None
           ) -> list[tuple[int, float]]:
    index = _synced(log, embedder)
    if index is None or index.ntotal == 0:
        return []
    only = None if allowed is None else _allowed_passages(index, log, allowed)
    if only is not None and not only:
        return []
    vector = embedder.encode([query])[0]
    # asking for more than `depth` widens HNSW's search (efSearch follows k): passages of one paper sit close
    # together, and the paper index's breadth found only 0.91 of the exact top 10 at 100,000 passages
    scores, ids = _vectors.search(index, vector, max(depth, HNSW_BREADTH), only)
    return [(int(i), float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0][:depth]


def _keyword(log: PaperLog, query: str, depth: int, allowed: set[int] | None) -> list[tuple[int, float]]:
    """BM25 over the pages: (page row id, score), best first."""
    return [(int(h["page_id"]), float(h["score"])) for h in log.fulltext_search(query, k=depth, ids=allowed)]


def _best_passages(log: PaperLog, pages: Sequence[int], query: str) -> dict[int, tuple[int, int]]:
    """For each page, (its passage sharing most words with the query (the first on a tie), how many it shares)."""
    words = {w.lower() for w in _WORD.findall(query)}
    best: dict[int, tuple[int, int]] = {}
    for pid, _paper, _sha, _page, text, *_ in log.passage_texts(pages):
        overlap = len(words & {w.lower() for w in _WORD.findall(text)})
        page = pid // SLOTS
        if page not in best or overlap > best[page][1]:
            best[page] = (pid, overlap)
    return best


def mark_matches(text: str, query: str, left: str = "**", right: str = "**") -> str:
    """``text`` with the words it shares with ``query`` (case-insensitively, or sharing a 5-letter stem) marked."""
    words = {w.lower() for w in _WORD.findall(query) if len(w) > 1}
    stems = {w[:5] for w in words if len(w) >= 5}
    if not words:
        return text

    def mark(m: re.Match[str]) -> str:
        w = m.group().lower()
        return f"{left}{m.group()}{right}" if w in words or (len(w) >= 5 and w[:5] in stems) else m.group()

    return _WORD.sub(mark, text)


def search_passages(log: PaperLog, query: str, k: int = 10, *, mode: str = "hybrid",
                    embedder: Embedder | None = None, allowed: set[int] | None = None,
                    fusion: tuple[str, float] | None = None) -> list[dict[str, Any]]:
    """Passages of the stored PDFs best matching ``query``: dicts with the paper's id, arxiv_id and title, the
    page (1-based), the passage, its score, and the PDF's sha256; best first. ``allowed``: paper ids to keep."""
    if allowed is not None and not allowed:
        return []
    depth = k if mode != "hybrid" else max(MIN_DEPTH, 5 * k)
    dense: list[tuple[int, float]] = []
    keyword: list[tuple[int, float]] = []
    if mode in ("dense", "hybrid"):
        dense = _dense(log, embedder or get_embedder(log=log), query, depth, allowed)
    if mode == "dense":
        return _rows(log, dense[:k])
    keyword = _keyword(log, query, depth, allowed)
    # BM25 ranks pages: fuse at page level (a page's best dense passage stands for it), then show for each page
    # the passage sharing most words with the query if it shares any, else its best dense passage; texts are
    # read for the k pages shown only
    dense_pages: list[tuple[int, float]] = []
    shown: dict[int, int] = {}
    for pid, score in dense:
        if pid // SLOTS not in shown:
            shown[pid // SLOTS] = pid
            dense_pages.append((pid // SLOTS, score))
    pages = keyword[:k] if mode == "keyword" else _fusion.fuse(dense_pages, keyword, fusion)[:k]
    matched = {page for page, _ in keyword}
    for page, (pid, overlap) in _best_passages(log, [p for p, _ in pages if p in matched or p not in shown],
                                               query).items():
        if overlap or page not in shown:
            shown[page] = pid
    return _rows(log, [(shown[page], score) for page, score in pages if page in shown])


def _rows(log: PaperLog, ranked: Sequence[tuple[int, float]]) -> list[dict[str, Any]]:
    if not ranked:
        return []
    texts = {row[0]: (row[1], row[2], row[3], row[4], row[5] if len(row) > 5 else "")
             for row in log.passage_texts(sorted({p // SLOTS for p, _ in ranked}))}
    papers = {p["id"]: p for p in log.papers(ids=sorted({texts[p][0] for p, _ in ranked if p in texts}))}
    out = []
    for pid, score in ranked:
        if pid not in texts or texts[pid][0] not in papers:  # removed since it was indexed
            continue
        paper_id, sha, page, text, section = texts[pid]
        paper = papers[paper_id]
        out.append({"id": paper_id, "arxiv_id": paper.get("arxiv_id"), "title": paper.get("title", ""),
                    "page": page, "section": section, "passage": text, "score": round(float(score), 6),
                    "sha256": sha})
    return out
