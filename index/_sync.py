"""Sync the index from the log: embed only new or changed papers, drop removed ones, rebuild what cannot be trusted.

The inbox candidates waiting in the log (and the skipped ones) are embedded by the same sync, into their own file
beside the index (`_candidates`), so that ranking the inbox finds them embedded and they never force a rebuild.

Ingest is resumable: embeddings are saved in chunks as they are computed, so Ctrl-C or kill -9 loses at most the
chunk in progress and the next sync reuses the saved ones. Only one process writes at a time (an `flock`); a second
syncer waits for it and then finds nothing left to do.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from . import _candidates, _store, _vectors
from ._embed import Embedder, get_embedder
from ._hashing import checksum, content_hash
from ._protocol import PaperLog

logger = logging.getLogger("index")

#: Papers embedded per saved chunk: the most an interrupt can lose.
CHUNK_SIZE = 256


@dataclass
class SyncReport:
    """What a sync did.

    Attributes:
        added, updated, removed: papers newly indexed, re-embedded after a change, dropped.
        total: papers in the index afterwards.
        embedded: paper texts actually sent to the model (saved chunks from an interrupted run are reused).
        candidates: inbox candidates (waiting and skipped) with a saved vector afterwards.
        candidates_embedded: candidate texts sent to the model (new or changed candidates).
        rebuilt: why the whole index was rebuilt (missing, corrupt, model change, --full), or None.
        busy: another process was writing and `wait=False`; nothing was done.
        messages: one-line notes for the user (also logged on the "index" logger).
    """

    added: int = 0
    updated: int = 0
    removed: int = 0
    total: int = 0
    embedded: int = 0
    rebuilt: str | None = None
    busy: bool = False
    candidates: int = 0
    candidates_embedded: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the paper index changed (candidate vectors live apart from it)."""
        return bool(self.added or self.updated or self.removed or self.rebuilt)


def _note(report: SyncReport, message: str) -> None:
    report.messages.append(message)
    logger.warning(message)


def is_fresh(log: PaperLog, embedder: Embedder) -> bool:
    """Cheap check, no lock and no model load: does the committed index match the log's data version and model?"""
    folder = _store.index_dir(log.path)
    try:
        manifest = _store.read_manifest(folder)
    except _store.CorruptIndex:
        return False
    if not manifest:
        return False
    return manifest.get("model") == embedder.name and manifest.get("data_version") == log.data_version()


def sync(log: PaperLog, *, embedder: Embedder | None = None, full: bool = False, wait: bool = True,
         verify: bool = False, progress: bool | None = None, chunk_size: int = CHUNK_SIZE, batch_size: int = 32,
         approx_threshold: int = _vectors.APPROX_THRESHOLD) -> SyncReport:
    """Bring the index beside `log.path` up to date with the log: its papers, then its inbox candidates.

    Args:
        log: an open `reading.Log`.
        embedder: defaults to `get_embedder(log=log)` (the configured sentence-transformers model).
        full: re-embed every paper and candidate (`reading reindex --full`).
        wait: if another process is syncing, wait for it (True) or return at once with `busy` set (False).
        verify: load and check the index files even if the manifest says they are current.
        progress: show a tqdm bar (None: only on a terminal).
        chunk_size: papers per saved chunk; batch_size: texts per model call.
        approx_threshold: library size from which an HNSW index replaces exact search.
    """
    embedder = embedder or get_embedder(log=log)
    report = SyncReport()
    folder = _store.index_dir(log.path)
    papers_fresh = not full and not verify and is_fresh(log, embedder)
    candidates = None if full else _candidates.checked(log, folder, embedder)
    if papers_fresh and candidates is not None:
        report.total = int((_store.read_manifest(folder) or {})["count"])  # fresh: the manifest exists
        report.candidates = candidates
        return report
    with _store.writer_lock(folder, blocking=wait) as locked:
        if not locked:
            report.busy = True
            _note(report, "the index is being updated by another process; using the last saved index")
            return report
        if papers_fresh:
            report.total = int((_store.read_manifest(folder) or {})["count"])
        else:
            _sync_locked(log, folder, embedder, full, progress, chunk_size, batch_size, approx_threshold, report)
        _candidates.sync_locked(log, folder, embedder, report, full=full, progress=progress, chunk_size=chunk_size,
                                batch_size=batch_size)
        return report


def _current(folder: Any, embedder: Embedder, full: bool, report: SyncReport) -> tuple[Any, dict[str, Any] | None]:
    """The committed (index, manifest) if it can be reused incrementally, else (None, None) with `rebuilt` set."""
    try:
        manifest = _store.read_manifest(folder)
        if manifest is None:
            report.rebuilt = "missing"
            return None, None
        if manifest.get("model") != embedder.name:
            report.rebuilt = "model changed"
            _note(report, f"embedding model changed ({manifest.get('model')} -> {embedder.name}); rebuilding the index")
            return None, None
        index, manifest = _store.read_index(folder, manifest)
    except _store.CorruptIndex as exc:
        report.rebuilt = "corrupt"
        _note(report, f"the search index is corrupt ({exc}); rebuilding it from the log")
        return None, None
    if full:
        report.rebuilt = "full"
        return None, None
    return index, manifest


def _sync_locked(log: PaperLog, folder: Any, embedder: Embedder, full: bool, progress: bool | None, chunk_size: int,
                 batch_size: int, approx_threshold: int, report: SyncReport) -> SyncReport:
    index, current = _current(folder, embedder, full, report)
    manifest = current or {}  # {} when there is no index yet
    version = log.data_version()  # read before the texts: a write after this makes the next sync look again
    if index is not None and manifest.get("data_version") == version:
        report.total = index.ntotal
        return report
    texts = dict(log.index_texts())
    hashes = {str(pid): content_hash(text) for pid, text in texts.items()}
    old = manifest.get("hashes", {}) if manifest else {}
    todo = [int(k) for k, h in hashes.items() if old.get(k) != h]
    gone = [int(k) for k in old if k not in hashes]
    report.updated = sum(1 for pid in todo if str(pid) in old)
    report.added = len(todo) - report.updated
    report.removed = len(gone)
    if index is not None and not todo and not gone:
        _store.update_manifest(folder, manifest, data_version=version)
        report.total = index.ntotal
        return report
    if report.rebuilt == "missing" and texts:
        _note(report, f"building the search index for {len(texts)} papers")

    new_ids, new_vecs = embed_resumable(folder, embedder, todo, texts, hashes, progress, chunk_size, batch_size,
                                         report)
    dim = int(new_vecs.shape[1]) if len(new_ids) else (index.d if index is not None else int(embedder.dim))
    new_vecs = new_vecs.reshape(-1, dim)
    kind = _vectors.kind_for(len(hashes), approx_threshold)
    drop = set(gone) | {pid for pid in todo if str(pid) in old}
    if index is not None and kind == "hnsw" and _vectors.kind_of(index) == "hnsw" and not drop:
        _vectors.add(index, new_ids, new_vecs)  # HNSW grows in place; removals need a rebuild
    else:
        ids, vecs = _vectors.extract(index) if index is not None else (np.zeros(0, np.int64), None)
        if vecs is not None and drop:
            keep = ~np.isin(ids, np.fromiter(drop, dtype=np.int64))
            ids, vecs = ids[keep], vecs[keep]
        all_ids = np.concatenate([ids, new_ids]) if vecs is not None else new_ids
        all_vecs = np.concatenate([vecs, new_vecs]) if vecs is not None else new_vecs
        index = _vectors.build(all_ids, all_vecs.reshape(-1, dim), dim, kind)
    _store.write_generation(folder, index, {
        "model": embedder.name, "dim": dim, "count": int(index.ntotal), "kind": _vectors.kind_of(index),
        "checksum": checksum(hashes), "data_version": version, "hashes": hashes,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    _store.clear_chunks(folder)
    report.total = int(index.ntotal)
    return report


def embed_resumable(folder: Any, embedder: Embedder, todo: list[int], texts: dict[int, str],
                    hashes: dict[str, str], progress: bool | None, chunk_size: int, batch_size: int,
                    report: SyncReport, *, unit: str = "paper", desc: str = "embedding", by_length: bool = True,
                    on_chunk: Callable[[np.ndarray, np.ndarray], None] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for `todo` (ids into `texts`; `hashes` keyed by str(id)), reusing chunks an interrupted run saved
    in `folder` and saving new chunks as they are made. Shared by the paper and the passage index.

    `by_length`: embed the longest texts first (chunks of similar lengths pad least), else in `todo`'s order (the
    passage index: pages complete one after another). `on_chunk(ids, vecs)` is called with the reused vectors,
    then after each chunk is saved.
    """
    c_ids, c_hashes, c_vecs = _store.load_chunks(folder, embedder.name)
    saved = {int(pid): row for row, (pid, h) in enumerate(zip(c_ids, c_hashes)) if hashes.get(str(int(pid))) == h}
    reuse = [pid for pid in todo if pid in saved]
    rest = [pid for pid in todo if pid not in saved]
    if by_length:
        rest.sort(key=lambda pid: -len(texts[pid]))  # similar lengths
    out_ids = [np.asarray(reuse, dtype=np.int64)]
    out_vecs = [c_vecs[[saved[pid] for pid in reuse]]] if reuse else []
    if reuse and on_chunk is not None:
        on_chunk(out_ids[0], out_vecs[0])
    if rest:
        from tqdm.auto import tqdm

        with tqdm(total=len(rest), unit=unit, desc=desc, disable=None if progress is None else not progress,
                  leave=False) as bar:
            for start in range(0, len(rest), chunk_size):
                chunk = rest[start:start + chunk_size]
                vecs = embedder.encode([texts[pid] for pid in chunk], batch_size=batch_size)
                ids = np.asarray(chunk, dtype=np.int64)
                _store.save_chunk(folder, embedder.name, ids, [hashes[str(pid)] for pid in chunk], vecs)
                out_ids.append(ids)
                out_vecs.append(vecs)
                report.embedded += len(chunk)
                bar.update(len(chunk))
                if on_chunk is not None:
                    on_chunk(ids, vecs)
    if not out_vecs:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return np.concatenate(out_ids), np.concatenate(out_vecs).astype(np.float32, copy=False)
