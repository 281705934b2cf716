"""The passage index: the PDFs' pages cut into ~200-word passages (by the log), embedded into a second FAISS index.

It lives in `<db stem>.index/passages/` and follows the paper index's rules (`_store`): a manifest as the commit
point, a new FAISS file per generation, ingest saved in chunks (an interrupted sync resumes), the writer lock, and a
rebuild with a message when it is missing, of another model, or corrupt. Page rows never change once stored, so a
sync embeds only the passages of new pages (and of papers whose title changed: each passage is embedded as
"title + passage") and drops those of removed pages.

A passage id is `page row id * 64 + passage number on the page` (the log's numbering).
"""
from __future__ import annotations

import os
import re
import threading
import time
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
#: Hex digits of a PDF's sha256 kept in a page key (64 bits: no collision in any library).
KEY_HASH = 16

_LOADED: dict[str, tuple[str, Any, dict[str, Any]]] = {}
_LOCK = threading.Lock()
_WORD = re.compile(r"\w+", re.UNICODE)


def passages_dir(db_path: Any) -> Path:
    """The passage index folder: `/x/reading.db` -> `/x/reading.index/passages/`."""
    return _store.index_dir(db_path) / SUBDIR


def _embed_text(title: str, passage: str) -> str:
    return f"{title}\n\n{passage}" if title else passage


def page_key(sha256: str, page: int) -> str:
    """What a page row stands for, as the manifest records it: the PDF's content hash and the page number. Row ids
    are reused after a removal; this pair is not (a reused row id with another key is embedded again)."""
    return f"{sha256[:KEY_HASH]}:{int(page)}"


def current_keys(log: PaperLog) -> dict[int, str]:
    """Page row id -> `page_key` for every page of the log with text."""
    return {gid: page_key(sha, page) for gid, (sha, page) in log.page_keys().items()}


def indexed_keys(manifest: dict[str, Any] | None, keys: dict[int, str]) -> dict[int, str]:
    """Page row id -> key of the pages the committed index holds. An index made before keys were recorded
    (a list of row ids) is taken to hold the pages those rows are now."""
    if not manifest:
        return {}
    recorded = manifest.get("page_keys")
    if isinstance(recorded, dict):
        return {int(g): str(k) for g, k in recorded.items()}
    return {int(g): keys[int(g)] for g in manifest.get("pages", []) if int(g) in keys}


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
                  batch_size: int = 32, approx_threshold: int = _vectors.APPROX_THRESHOLD,
                  commit_every: float | None = None) -> SyncReport:
    """Bring the passage index up to date with the log's pages (`added`/`removed` count passages).

    Arguments as `index.sync`: `wait=False` returns at once with `busy` set when another process is writing.
    `commit_every`: seconds between commits of what is embedded so far (the background indexer: searches see
    the index fill); None commits once, at the end. Pages are embedded in page order either way, and progress
    (pages done, rate) is written beside the index for `indexing_status`.
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
        _Ingest(log, folder, embedder, report, chunk_size=chunk_size, batch_size=batch_size,
                approx_threshold=approx_threshold, commit_every=commit_every).run(full, progress)
    return report


class _Ingest:
    """One locked sync of the passage index: drop what no longer holds, embed the waiting pages in page order,
    commit (at the end, or every `commit_every` seconds), report progress."""

    def __init__(self, log: PaperLog, folder: Path, embedder: Embedder, report: SyncReport, *, chunk_size: int,
                 batch_size: int, approx_threshold: int, commit_every: float | None) -> None:
        self.log, self.folder, self.embedder, self.report = log, folder, embedder, report
        self.chunk_size, self.batch_size, self.approx = chunk_size, batch_size, approx_threshold
        self.commit_every = commit_every
        self.index: Any = None
        self.indexed: dict[int, str] = {}
        self.rate: float | None = None  # pages/s of this run, once measured

    def run(self, full: bool, progress: bool | None) -> None:
        log, report = self.log, self.report
        self.index, current = _current(self.folder, self.embedder, full, report)
        manifest: dict[str, Any] = current if self.index is not None and current is not None else {}
        versions = {"pages_version": log.pages_version(), "data_version": log.data_version()}  # before reading
        if self.index is not None and all(manifest.get(k) == v for k, v in versions.items()):
            report.total = self.index.ntotal
            return
        keys = current_keys(log)
        refs = log.page_refs()
        titles = log.paper_titles(set(refs.values()))
        self.titles = {str(pid): content_hash(t) for pid, t in titles.items()}
        old = indexed_keys(manifest, keys)
        old_titles: dict[str, str] = manifest.get("titles", {})
        retitled = {int(p) for p, h in self.titles.items() if p in old_titles and old_titles[p] != h}
        drop = {g for g, k in old.items() if keys.get(g) != k or refs.get(g) in retitled}
        self.indexed = {g: k for g, k in old.items() if g not in drop}
        todo = sorted(g for g in keys if g not in self.indexed)
        if self.index is not None and not todo and not drop:
            _store.update_manifest(self.folder, manifest, **versions, titles=self.titles)
            report.total = self.index.ntotal
            return
        if report.rebuilt == "missing" and keys:
            _note(report, f"building the passage index for {len(keys)} pages")
        self.dim = self.index.d if self.index is not None else 0
        if self.index is not None and drop:
            ids, vecs = _vectors.extract(self.index)
            keep = ~np.isin(ids // SLOTS, np.fromiter(drop, dtype=np.int64))
            report.removed = int(len(ids) - keep.sum())
            self.index = _vectors.build(ids[keep], vecs[keep].reshape(-1, self.dim), self.dim,
                                        _vectors.kind_for(int(keep.sum()), self.approx))
            if self.commit_every is not None:  # removed pages leave the index before the long part starts
                self._commit(None)
        self._embed(todo, titles, progress)
        self._commit(versions)
        _store.clear_chunks(self.folder)
        _store.write_status(self.folder, None)
        self.report.total = int(self.index.ntotal) if self.index is not None else 0

    def _embed(self, todo: list[int], titles: dict[int, str], progress: bool | None) -> None:
        keys = current_keys(self.log)
        rows = self.log.passage_texts(todo) if todo else []
        texts: dict[int, str] = {}
        per_page: dict[int, int] = {}
        for row in rows:
            texts[int(row[0])] = _embed_text(titles.get(row[1], ""), row[4])
            per_page[int(row[0]) // SLOTS] = per_page.get(int(row[0]) // SLOTS, 0) + 1
        for g in todo:  # pages without passages (empty, or all references) are indexed as they are
            if g not in per_page and g in keys:
                self.indexed[g] = keys[g]
        done: dict[int, int] = {}
        started, last = time.monotonic(), time.monotonic()
        pages_done = 0

        def on_chunk(ids: np.ndarray, vecs: np.ndarray) -> None:
            nonlocal last, pages_done
            self._add(ids, vecs)
            for pid in ids.tolist():
                page = pid // SLOTS
                done[page] = done.get(page, 0) + 1
                if done[page] == per_page[page] and page in keys:
                    self.indexed[page] = keys[page]
                    pages_done += 1
            elapsed = time.monotonic() - started
            if pages_done and elapsed > 0:
                self.rate = round(pages_done / elapsed, 3)
            _store.write_status(self.folder, {
                "pid": os.getpid(), "pages_todo": len(per_page), "pages_done": pages_done,
                "passages_todo": len(texts), "passages_done": sum(done.values()),
                "rate_pages_s": round(pages_done / elapsed, 3) if elapsed > 0 else None,
                "path": getattr(self.embedder, "ingest_path", None), "updated_at": _now()})
            if self.commit_every is not None and time.monotonic() - last >= self.commit_every:
                self._commit(None)
                last = time.monotonic()

        embed_resumable(self.folder, self.embedder, list(texts), texts,
                        {str(pid): content_hash(t) for pid, t in texts.items()}, progress, self.chunk_size,
                        self.batch_size, self.report, unit="passage", desc="embedding passages", by_length=False,
                        on_chunk=on_chunk)
        self.report.added = len(texts)

    def _add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        if not len(ids):
            return
        dim = int(vecs.shape[1])
        if self.index is None:
            self.dim = dim
            self.index = _vectors.build(np.zeros(0, np.int64), np.zeros((0, dim), np.float32), dim,
                                        _vectors.kind_for(len(ids), self.approx))
        count = int(self.index.ntotal) + len(ids)
        if _vectors.kind_for(count, self.approx) == _vectors.kind_of(self.index):
            _vectors.add(self.index, ids, vecs.reshape(-1, dim))  # both kinds grow in place
        else:  # crossed the threshold: exact -> approximate
            old_ids, old_vecs = _vectors.extract(self.index)
            self.index = _vectors.build(np.concatenate([old_ids, ids]),
                                        np.concatenate([old_vecs.reshape(-1, dim), vecs.reshape(-1, dim)]), dim,
                                        _vectors.kind_for(count, self.approx))

    def _commit(self, versions: dict[str, Any] | None) -> None:
        """Write a generation holding the indexed pages; `versions` only when the index is complete (a partial
        generation never looks fresh)."""
        if self.index is None:
            dim = int(self.embedder.dim) if not self.dim else self.dim
            self.index = _vectors.build(np.zeros(0, np.int64), np.zeros((0, dim), np.float32), dim, "flat")
        _store.write_generation(self.folder, self.index, {
            "model": self.embedder.name, "dim": int(self.index.d), "count": int(self.index.ntotal),
            "kind": _vectors.kind_of(self.index), "pages_version": None, "data_version": None, **(versions or {}),
            "page_keys": {str(g): k for g, k in sorted(self.indexed.items())}, "titles": self.titles,
            "ingest_path": getattr(self.embedder, "ingest_path", None), "updated_at": _now(),
            "ingest_peak_rss_mb": _peak_rss_mb(), "ingest_rate_pages_s": self.rate,
        })


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory so far (Linux reports kB), for the manifest and benches."""
    try:
        import resource
    except ImportError:
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


def _committed(log: PaperLog, embedder: Embedder, foreground: bool) -> tuple[Any, dict[str, Any]] | None:
    """The committed (passage index, manifest) of `embedder`'s model, rebuilt once if corrupt; None when none is
    usable. `foreground`: sync first (without waiting for another writer), as before background indexing."""
    if foreground:
        sync_passages(log, embedder=embedder, wait=False)
    folder = passages_dir(log.path)
    try:
        loaded = _loaded(folder)
    except _store.CorruptIndex:
        if not foreground or sync_passages(log, embedder=embedder, wait=False, verify=True).busy:
            logger.warning("the passage index is corrupt; dense results are skipped until it is rebuilt")
            return None
        try:
            loaded = _loaded(folder)
        except _store.CorruptIndex as exc:
            logger.warning("the passage index cannot be read (%s); dense results are skipped", exc)
            return None
    if loaded is None or loaded[1].get("model") != embedder.name:
        return None
    return loaded


def _allowed_passages(index: Any, log: PaperLog, allowed: set[int] | None, trusted: set[int]) -> set[int]:
    """The passage ids dense search may return: of trusted pages (their key unchanged), of allowed papers."""
    refs = log.page_refs() if allowed is not None else {}
    pages = np.fromiter((g for g in trusted if allowed is None or refs.get(g) in allowed), dtype=np.int64)
    ids = _vectors.ids_of(index)
    return set(ids[np.isin(ids // SLOTS, pages)].tolist())


def _dense(index: Any, embedder: Embedder, query: str, depth: int, only: set[int] | None
           ) -> list[tuple[int, float]]:
    if index is None or index.ntotal == 0 or (only is not None and not only):
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
    for row in log.passage_texts(pages):
        pid, text = int(row[0]), row[4]
        overlap = len(words & {w.lower() for w in _WORD.findall(text)})
        page = pid // SLOTS
        if page not in best or overlap > best[page][1]:
            best[page] = (pid, overlap)
    return best


#: Words never marked as matches (unless the query has nothing else): nearly every passage holds them.
FUNCTION_WORDS = frozenset(
    "a an and are as at be been being but by can could did do does for from had has have he her his how i if in "
    "into is it its may more not of on or our she so than that the their them then there these they this those to "
    "us using via was we were what when where which while who whom why will with without would you your".split())


def mark_matches(text: str, query: str, left: str = "**", right: str = "**") -> str:
    """``text`` with the words it shares with ``query`` (case-insensitively, or sharing a 5-letter stem) marked;
    function words ("the", "they", "on") are not, unless the query is made of nothing else."""
    words = {w.lower() for w in _WORD.findall(query) if len(w) > 1}
    words = (words - FUNCTION_WORDS) or words
    stems = {w[:5] for w in words if len(w) >= 5}
    if not words:
        return text

    def mark(m: re.Match[str]) -> str:
        w = m.group().lower()
        return f"{left}{m.group()}{right}" if w in words or (len(w) >= 5 and w[:5] in stems) else m.group()

    return _WORD.sub(mark, text)


class PassageHits(list[dict[str, Any]]):
    """The passages a full-text search returns (a list of dicts, best first) and, in `metadata`, how complete the
    passage index was: pages_total, pages_indexed, pages_waiting (not yet searchable by meaning), running (an
    indexer is at work), rate (pages/s) and eta_s, as `indexing_status` gives them."""

    metadata: dict[str, Any]


def search_passages(log: PaperLog, query: str, k: int = 10, *, mode: str = "hybrid",
                    embedder: Embedder | None = None, allowed: set[int] | None = None,
                    fusion: tuple[str, float] | None = None, foreground: bool = True) -> PassageHits:
    """Passages of the stored PDFs best matching ``query``: dicts with the paper's id, arxiv_id and title, the
    page (1-based), the passage, its score, and the PDF's sha256; best first. ``allowed``: paper ids to keep.

    ``foreground``: embed waiting pages first (the search waits); False answers at once from what is indexed:
    keyword over every page, dense over the indexed ones, a waiting page's dense score unknown in the fusion (its
    keyword score stands for both), and `metadata` says how many pages wait.
    """
    keys: dict[int, str] = {}
    index, manifest = None, None
    if mode != "keyword":
        embedder = embedder or get_embedder(log=log)
        loaded = _committed(log, embedder, foreground)
        if loaded is not None:
            index, manifest = loaded
        keys = current_keys(log)
    held = indexed_keys(manifest, keys)
    trusted = {g for g, key in keys.items() if held.get(g) == key}  # a reused row id holds another page's vectors
    out = PassageHits(_search(log, query, k, mode, embedder, allowed, fusion, index, trusted,
                              allowed is not None or trusted != set(held)))
    out.metadata = _status(log, keys, trusted, manifest) if mode != "keyword" else {}
    return out


def _search(log: PaperLog, query: str, k: int, mode: str, embedder: Embedder | None, allowed: set[int] | None,
            fusion: tuple[str, float] | None, index: Any, trusted: set[int], restrict: bool
            ) -> list[dict[str, Any]]:
    """The ranked passages. `trusted`: the pages whose vectors dense search may return, and whose dense score is
    known; `restrict`: the index holds others (or filters apply), so dense search is limited to them."""
    if allowed is not None and not allowed:
        return []
    depth = k if mode != "hybrid" else max(MIN_DEPTH, 5 * k)
    dense: list[tuple[int, float]] = []
    keyword: list[tuple[int, float]] = []
    if mode in ("dense", "hybrid") and index is not None and embedder is not None:
        only = _allowed_passages(index, log, allowed, trusted) if restrict else None
        dense = _dense(index, embedder, query, depth, only)
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
    unknown = {page for page, _ in keyword if page not in trusted}
    pages = keyword[:k] if mode == "keyword" else _fusion.fuse(dense_pages, keyword, fusion, unknown=unknown)[:k]
    matched = {page for page, _ in keyword}
    for page, (pid, overlap) in _best_passages(log, [p for p, _ in pages if p in matched or p not in shown],
                                               query).items():
        if overlap or page not in shown:
            shown[page] = pid
    return _rows(log, [(shown[page], score) for page, score in pages if page in shown])


def _status(log: PaperLog, keys: dict[int, str], trusted: set[int], manifest: dict[str, Any] | None
            ) -> dict[str, Any]:
    folder = passages_dir(log.path)
    running = _store.lock_held(folder)
    status = _store.read_status(folder) if running else None
    rate = status.get("rate_pages_s") if status else None
    if running and not rate and manifest:  # not measured yet in this run: the last run's rate
        rate = manifest.get("ingest_rate_pages_s")
    waiting = len(keys) - len(trusted & set(keys))
    return {"pages_total": len(keys), "pages_indexed": len(keys) - waiting, "pages_waiting": waiting,
            "running": running, "rate": rate, "eta_s": round(waiting / rate, 1) if rate and waiting else None,
            "path": (status or {}).get("path")}


def indexing_status(log: PaperLog) -> dict[str, Any]:
    """How far the passage index is: pages_total (pages with text), pages_indexed (searchable by meaning),
    pages_waiting, running (an indexer holds the writer lock), rate (pages/s of the running ingest, else None),
    eta_s (seconds until every page is indexed at that rate, else None), path (how it embeds, e.g.
    "openvino-bf16 2 threads"). Cheap: no model, no FAISS file is loaded."""
    keys = current_keys(log)
    try:
        manifest = _store.read_manifest(passages_dir(log.path))
    except _store.CorruptIndex:
        manifest = None
    held = indexed_keys(manifest, keys)
    trusted = {g for g, key in keys.items() if held.get(g) == key}
    out = _status(log, keys, trusted, manifest)
    if out["path"] is None and manifest:
        out["path"] = manifest.get("ingest_path")
    return out


def _rows(log: PaperLog, ranked: Sequence[tuple[int, float]]) -> list[dict[str, Any]]:
    if not ranked:
        return []
    # rows are (passage id, paper, sha256, page, text[, section]): a log that marks sections gives the sixth
    texts = {int(row[0]): (row[1], row[2], row[3], row[4], row[5] if len(row) > 5 else None)
             for row in log.passage_texts(sorted({p // SLOTS for p, _ in ranked}))}
    papers = {p["id"]: p for p in log.papers(ids=sorted({texts[p][0] for p, _ in ranked if p in texts}))}
    out = []
    for pid, score in ranked:
        if pid not in texts or texts[pid][0] not in papers:  # removed since it was indexed
            continue
        paper_id, sha, page, text, section = texts[pid]
        paper = papers[paper_id]
        row = {"id": paper_id, "arxiv_id": paper.get("arxiv_id"), "title": paper.get("title", ""), "page": page}
        if section is not None:
            row["section"] = section
        out.append({**row, "passage": text, "score": round(float(score), 6), "sha256": sha})
    return out
