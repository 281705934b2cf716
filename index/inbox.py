"""Rank the inbox (new arXiv candidates in the log) by what the user already has in the log.

Three rankers, measured against each other on CSFCube by `bench/inbox_quality.py`:

- ``similarity``: (a) mean cosine similarity of a candidate to its closest papers of the library (the papers with
  the tag when one is asked for);
- ``classifier``: (b) one logistic regression per tag on the embeddings (positives: papers with the tag;
  negatives: the rest of the library and the skipped candidates) - arxiv-sanity's method on our embeddings instead
  of tf-idf; without a tag a candidate scores its best tag;
- ``fusion``: (c) the mean of the two after standardising each over the candidates.

Candidate vectors are made by the index's normal sync (``index.sync``, which every search and ``rank`` run first)
with the same embedder and kept beside the index; library vectors come from the index. The fitted per-tag
classifiers are kept in memory while the library, the tag's papers and the skipped candidates stay the same.

    import reading
    from index import inbox
    log = reading.open_log()
    inbox.sync_candidates(log)                       # embed new candidates now (index.sync and rank do it too)
    for hit in inbox.rank(log, tag="efficient", k=20):
        print(hit["score"], hit["title"], hit["tags"], hit["because"]["title"])
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from . import _candidates, _store, _vectors
from ._embed import Embedder, get_embedder
from ._errors import SearchIndexError
from ._protocol import PaperLog
from ._sync import CHUNK_SIZE

RANKERS = ("fusion", "similarity", "classifier")
#: Closest library papers averaged by the similarity ranker. On CSFCube (bench/inbox_quality.py --sweep) 3 gave the
#: best fusion; 5 a slightly better similarity ranker alone.
SIM_TOP = 3
#: Inverse regularisation of the per-tag logistic regressions (0.3, 1 and 3 within noise on CSFCube).
CLASSIFIER_C = 1.0
#: Tags shown as having pulled a candidate in: those whose classifier gives at least this probability.
TAG_THRESHOLD = 0.5


class InboxError(SearchIndexError):
    """Bad inbox input (unknown ranker or tag, k < 1); the message is one line for the user."""


# --- pure ranking on vectors (also used by the bench) ---------------------------------------------------------------


def similarity_scores(library: np.ndarray, cands: np.ndarray, top: int = SIM_TOP, block: int = 1024
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(a) For each candidate: mean cosine similarity to its ``top`` closest library vectors, and the row of the
    closest one (its "because you read"). Rows must be unit length. Computed in blocks to bound memory."""
    m, n = len(cands), len(library)
    scores = np.zeros(m, np.float32)
    nearest = np.full(m, -1, np.int64)
    if not n or not m:
        return scores, nearest
    t = max(1, min(int(top), n))
    for start in range(0, m, block):
        sims = cands[start:start + block] @ library.T
        nearest[start:start + block] = sims.argmax(axis=1)
        best = np.partition(sims, n - t, axis=1)[:, n - t:] if t < n else sims
        scores[start:start + block] = best.mean(axis=1)
    return scores, nearest


def fit_classifier(positives: np.ndarray, negatives: np.ndarray, c: float = CLASSIFIER_C) -> Any | None:
    """The class-balanced logistic regression of ``positives`` (1) against ``negatives`` (0), fitted; None when
    either side is empty (nothing to learn from)."""
    if not len(positives) or not len(negatives):
        return None
    from threadpoolctl import threadpool_limits

    from ._logistic import BalancedLogistic  # scikit-learn's objective without its 1.5-4 s import

    x = np.concatenate([positives, negatives])
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    with threadpool_limits(1):  # small solves: BLAS threads only wait for busy cores
        return BalancedLogistic(c).fit(x, y)


def classifier_scores(positives: np.ndarray, negatives: np.ndarray, cands: np.ndarray, c: float = CLASSIFIER_C
                      ) -> np.ndarray | None:
    """(b) Probability that each candidate belongs with ``positives`` rather than ``negatives``, from a
    class-balanced logistic regression; None when either side is empty (nothing to learn from)."""
    if not len(cands):
        return None
    model = fit_classifier(positives, negatives, c)
    return None if model is None else model.predict_proba(cands)[:, 1].astype(np.float32)


def _standardise(x: np.ndarray) -> np.ndarray:
    std = float(x.std())
    return (x - x.mean()) / std if std > 1e-12 else np.zeros_like(x)


def fuse(similarity: np.ndarray, classifier: np.ndarray | None) -> np.ndarray:
    """(c) Mean of the standardised scores (just the similarity's when there is no classifier)."""
    if classifier is None:
        return _standardise(similarity)
    return (_standardise(similarity) + _standardise(classifier)) / 2


# --- candidate vectors (embedded by the index's sync) and fitted classifiers (cached per process) --------------------


def sync_candidates(log: PaperLog, *, embedder: Embedder | None = None, progress: bool | None = None,
                    batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Embed the candidates not embedded yet (waiting and skipped ones) now; returns all their (ids, vectors).

    The candidate half of `index.sync` (which also does this), on its own: the same chunked, resumable path under
    the index's writer lock (waits for another writer). Vectors of candidates no longer in the log are dropped.
    """
    from ._sync import SyncReport

    embedder = embedder or get_embedder(log=log)
    folder = _store.index_dir(log.path)
    with _store.writer_lock(folder):
        vectors = _candidates.sync_locked(log, folder, embedder, SyncReport(), progress=progress,
                                          chunk_size=CHUNK_SIZE, batch_size=batch_size)
    ids = np.asarray(sorted(vectors), dtype=np.int64)
    if not len(ids):
        return ids, np.zeros((0, 0), np.float32)
    return ids, np.stack([vectors[int(i)][1] for i in ids]).astype(np.float32)


def _library(log: PaperLog, embedder: Embedder, progress: bool | None = None
             ) -> tuple[np.ndarray, np.ndarray, str]:
    """(paper ids, vectors, generation) of the whole library, from the index after a normal sync (which embeds the
    candidates too). The generation names the index file, so it changes whenever a vector does."""
    from ._search import synced

    loaded = synced(log, embedder, progress=progress)
    if loaded is None or loaded[0].ntotal == 0:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), ""
    ids, vecs = _vectors.extract(loaded[0])
    return ids, vecs, str(loaded[1].get("index_file"))


#: Fitted per-tag classifiers kept per process, least recently used dropped first.
CLASSIFIER_CACHE_SIZE = 64
_FITTED: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_FITTED_LOCK = threading.Lock()


def _digest(ids: np.ndarray) -> str:
    return hashlib.blake2b(np.sort(np.asarray(ids, dtype=np.int64)).tobytes(), digest_size=16).hexdigest()


def _tag_scores(key: tuple[Any, ...], positives: np.ndarray, negatives: np.ndarray, cands: np.ndarray
                ) -> np.ndarray | None:
    """`classifier_scores`, with the fitted model reused while `key` (what the training data depends on) holds."""
    with _FITTED_LOCK:
        model = _FITTED.get(key)
        if model is not None:
            _FITTED.move_to_end(key)
    if model is None:
        model = fit_classifier(positives, negatives)
        if model is None:
            return None
        with _FITTED_LOCK:
            _FITTED[key] = model
            while len(_FITTED) > CLASSIFIER_CACHE_SIZE:
                _FITTED.popitem(last=False)
    return model.predict_proba(cands)[:, 1].astype(np.float32) if len(cands) else None


# --- ranking the inbox -----------------------------------------------------------------------------------------------


def _tag_members(log: PaperLog, lib_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Tag -> boolean mask over the library rows."""
    masks: dict[str, np.ndarray] = {}
    for tag in log.tags():
        masks[tag] = np.isin(lib_ids, np.fromiter(log.filter_ids(tag=tag), dtype=np.int64))
    return masks


def rank(log: PaperLog, *, tag: str | None = None, k: int = 20, ranker: str = "fusion",
         embedder: Embedder | None = None, progress: bool | None = None) -> list[dict[str, Any]]:
    """The waiting candidates, best first.

    Args:
        log: an open `reading.Log`.
        tag: rank for this tag only (similarity to its papers, its classifier); None: the whole library and the
            best tag per candidate.
        k: number of candidates returned.
        ranker: "fusion" (default), "similarity" or "classifier" (falls back to similarity without tags).
        embedder: defaults to the index's configured model.

    Returns:
        Dicts with the candidate's id, arxiv_id, title, published, url, ``score``, ``scores`` (similarity and
        classifier), ``tags`` (the tags whose classifier pulled it in) and ``because`` (the closest library paper:
        id, arxiv_id, title, similarity) or None when the library is empty.
    """
    if ranker not in RANKERS:
        raise InboxError(f"unknown ranker {ranker!r}; use one of {', '.join(RANKERS)}")
    if int(k) < 1:
        raise InboxError("k must be at least 1")
    embedder = embedder or get_embedder(log=log)
    lib_ids, lib_vecs, generation = _library(log, embedder, progress)  # syncs papers and candidates, once
    waiting = {c["id"]: c for c in log.candidates()}
    if not waiting:
        return []
    skipped = sorted(c["id"] for c in log.candidates(state="skipped"))
    folder = _store.index_dir(log.path)
    cand_ids = np.asarray(sorted(waiting), dtype=np.int64)
    cand_vecs = _candidates.vectors_for(log, folder, embedder, [int(i) for i in cand_ids])
    skipped_vecs = _candidates.vectors_for(log, folder, embedder, skipped)
    masks = _tag_members(log, lib_ids) if len(lib_ids) else {}
    if tag is not None and not (tag in masks and masks[tag].any()):
        raise InboxError(f"no papers tagged {tag!r} in the log")

    base = masks[tag] if tag is not None else np.ones(len(lib_ids), bool)
    sim, nearest = similarity_scores(lib_vecs[base], cand_vecs) if len(lib_ids) else (
        np.zeros(len(cand_ids), np.float32), np.full(len(cand_ids), -1))
    probs: dict[str, np.ndarray] = {}
    if ranker != "similarity":
        triage = _digest(np.asarray(skipped, dtype=np.int64))
        for name in ([tag] if tag is not None else sorted(masks)):
            negatives = np.concatenate([lib_vecs[~masks[name]], skipped_vecs]) if len(skipped_vecs) \
                else lib_vecs[~masks[name]]
            key = (embedder.name, str(log.path), generation, name, _digest(lib_ids[masks[name]]), triage, CLASSIFIER_C)
            p = _tag_scores(key, lib_vecs[masks[name]], negatives, cand_vecs)
            if p is not None:
                probs[name] = p
    clf = np.max(np.stack(list(probs.values())), axis=0) if probs else None
    if ranker == "similarity" or clf is None:
        score = sim
    elif ranker == "classifier":
        score = clf
    else:
        score = fuse(sim, clf)

    order = np.argsort(-score, kind="stable")[: int(k)]
    base_ids = lib_ids[base]
    near_ids = [int(base_ids[nearest[i]]) for i in order if nearest[i] >= 0]
    near = {p["id"]: p for p in log.papers(ids=near_ids)} if near_ids else {}
    out = []
    for i in order:
        cand = waiting[int(cand_ids[i])]
        pulled = sorted(((float(p[i]), name) for name, p in probs.items() if p[i] >= TAG_THRESHOLD), reverse=True)
        paper = near.get(int(base_ids[nearest[i]])) if nearest[i] >= 0 else None
        because = None if paper is None else {
            "id": paper["id"], "arxiv_id": paper.get("arxiv_id"), "title": paper.get("title", ""),
            "similarity": round(float(cand_vecs[i] @ lib_vecs[base][nearest[i]]), 4)}
        out.append({
            "id": cand["id"], "arxiv_id": cand["arxiv_id"], "title": cand["title"], "published": cand["published"],
            "url": cand["url"], "score": round(float(score[i]), 6),
            "scores": {"similarity": round(float(sim[i]), 6),
                       "classifier": None if clf is None else round(float(clf[i]), 6)},
            "tags": [name for _, name in pulled], "because": because,
        })
    return out
