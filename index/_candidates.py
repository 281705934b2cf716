"""Inbox candidates in the index: embedded by the same sync as the papers, stored beside the index.

The candidates the inbox ranks (new arXiv submissions waiting in the log) and the skipped ones (negatives for the
per-tag classifiers) are embedded under the index's writer lock, in chunks, and the vector file is rewritten after
every chunk, so an interrupt loses at most the chunk in progress. They are kept apart from the FAISS index of the
papers: fetching or triaging candidates never rebuilds it.

Whether anything changed is decided cheaply and exactly: the log counts its writes to the candidates
(`Log.candidates_version`), and only when that count (or the vector file) changed since this process last compared
every candidate's text hash is the comparison made again.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from . import _store
from ._embed import Embedder
from ._hashing import content_hash
from ._protocol import PaperLog

#: Candidate states that are embedded: waiting ones (ranked) and skipped ones (classifier negatives).
STATES = ("new", "skipped")

# (db path, model) -> ((candidates version, vector file signature) at the last full comparison, candidates then)
_CHECKED: dict[tuple[str, str], tuple[Any, int]] = {}
# vector file path -> (its signature, the vectors read from it, model)
_READ: dict[str, tuple[Any, _store.CandidateVectors, str]] = {}
_LOCK = threading.Lock()


def checked(log: PaperLog, folder: Path, embedder: Embedder) -> int | None:
    """The number of embedded candidates if nothing changed since this process last brought them up to date, else
    None (compare again). Costs one read of the log and one `stat`."""
    seen = _CHECKED.get((str(log.path), embedder.name))
    if seen is None:
        return None
    return seen[1] if seen[0] == (log.candidates_version(), _store.candidates_signature(folder)) else None


def sync_locked(log: PaperLog, folder: Path, embedder: Embedder, report: Any, *, full: bool = False,
                progress: bool | None = None, chunk_size: int = 256, batch_size: int = 32
                ) -> _store.CandidateVectors:
    """Embed the candidates whose text is new or changed, drop those gone from the log; the caller holds the lock.

    Counts into `report` (a `SyncReport`): `candidates` (vectors kept) and `candidates_embedded` (texts embedded).
    `full` re-embeds every candidate. Returns the candidate vectors as saved.
    """
    version = log.candidates_version()  # before reading: a write after this makes the next check look again
    texts = dict(log.candidate_texts(state=STATES))
    hashes = {cid: content_hash(text) for cid, text in texts.items()}
    saved = _store.read_candidate_vectors(folder, embedder.name) if texts or not full else {}
    vectors = {} if full else {cid: hv for cid, hv in saved.items() if hashes.get(cid) == hv[0]}
    todo = sorted((cid for cid in texts if cid not in vectors), key=lambda cid: -len(texts[cid]))
    if todo:
        from tqdm.auto import tqdm

        with tqdm(total=len(todo), unit="paper", desc="embedding inbox", leave=False,
                  disable=None if progress is None else not progress) as bar:
            for start in range(0, len(todo), chunk_size):
                chunk = todo[start:start + chunk_size]
                vecs = embedder.encode([texts[cid] for cid in chunk], batch_size=batch_size)
                vectors.update({cid: (hashes[cid], vec) for cid, vec in zip(chunk, vecs)})
                _store.write_candidate_vectors(folder, embedder.name, vectors)
                report.candidates_embedded += len(chunk)
                bar.update(len(chunk))
    elif set(vectors) != set(saved) or (full and _store.candidates_signature(folder) is not None):
        _store.write_candidate_vectors(folder, embedder.name, vectors)
    report.candidates = len(vectors)
    sig = (version, _store.candidates_signature(folder))
    with _LOCK:
        _CHECKED[(str(log.path), embedder.name)] = (sig, len(vectors))
        _READ[str(folder / _store.CANDIDATES)] = (sig[1], vectors, embedder.name)
    return vectors


def saved_vectors(folder: Path, embedder: Embedder) -> _store.CandidateVectors:
    """The saved candidate vectors (read once per version of the file in this process). Treat as read-only."""
    path = str(folder / _store.CANDIDATES)
    sig = _store.candidates_signature(folder)
    with _LOCK:
        cached = _READ.get(path)
    if cached is not None and cached[0] == sig and cached[2] == embedder.name:
        return cached[1]
    vectors = _store.read_candidate_vectors(folder, embedder.name)
    with _LOCK:
        _READ[path] = (sig, vectors, embedder.name)
    return vectors


def vectors_for(log: PaperLog, folder: Path, embedder: Embedder, ids: list[int]) -> np.ndarray:
    """Vectors of candidates `ids` (rows in that order): saved ones, and any not saved yet (another process was
    syncing) embedded here without saving."""
    saved = saved_vectors(folder, embedder)
    missing = [cid for cid in ids if cid not in saved]
    fresh: dict[int, np.ndarray] = {}
    if missing:
        texts = dict(log.candidate_texts(ids=missing, state=STATES))
        fresh = dict(zip(missing, embedder.encode([texts.get(cid, "") for cid in missing])))
    if not ids:
        return np.zeros((0, 0), np.float32)
    return np.stack([fresh[cid] if cid in fresh else saved[cid][1] for cid in ids]).astype(np.float32, copy=False)
