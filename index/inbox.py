"""Rank the inbox (new arXiv candidates in the log) by what the user already has in the log.

Three rankers, measured against each other on CSFCube by `bench/inbox_quality.py`:

- ``similarity``: (a) mean cosine similarity of a candidate to its closest papers of the library (the papers with
  the tag when one is asked for);
- ``classifier``: (b) one logistic regression per tag on the embeddings (positives: papers with the tag;
  negatives: the rest of the library and the skipped candidates) - arxiv-sanity's method on our embeddings instead
  of tf-idf; without a tag a candidate scores its best tag;
- ``fusion``: (c) the mean of the two after standardising each over the candidates.

Candidate vectors come from the same embedder as the index and are cached beside it
(``<db stem>.index/inbox-vectors.npz``, rebuildable); library vectors come from the index after a normal sync.

    import reading
    from index import inbox
    log = reading.open_log()
    inbox.sync_candidates(log)                       # embed new candidates (rank does it too)
    for hit in inbox.rank(log, tag="efficient", k=20):
        print(hit["score"], hit["title"], hit["tags"], hit["because"]["title"])
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

from . import _store, _vectors
from ._embed import Embedder, get_embedder
from ._sync import CHUNK_SIZE, content_hash, logger

RANKERS = ("fusion", "similarity", "classifier")
CACHE_FILE = "inbox-vectors.npz"
#: Closest library papers averaged by the similarity ranker. On CSFCube (bench/inbox_quality.py --sweep) 3 gave the
#: best fusion; 5 a slightly better similarity ranker alone.
SIM_TOP = 3
#: Inverse regularisation of the per-tag logistic regressions (0.3, 1 and 3 within noise on CSFCube).
CLASSIFIER_C = 1.0
#: Tags shown as having pulled a candidate in: those whose classifier gives at least this probability.
TAG_THRESHOLD = 0.5


class InboxError(ValueError):
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


def classifier_scores(positives: np.ndarray, negatives: np.ndarray, cands: np.ndarray, c: float = CLASSIFIER_C
                      ) -> np.ndarray | None:
    """(b) Probability that each candidate belongs with ``positives`` rather than ``negatives``, from a
    class-balanced logistic regression; None when either side is empty (nothing to learn from)."""
    if not len(positives) or not len(negatives) or not len(cands):
        return None
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([positives, negatives])
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    model.fit(x, y)
    return model.predict_proba(cands)[:, 1].astype(np.float32)


def _standardise(x: np.ndarray) -> np.ndarray:
    std = float(x.std())
    return (x - x.mean()) / std if std > 1e-12 else np.zeros_like(x)


def fuse(similarity: np.ndarray, classifier: np.ndarray | None) -> np.ndarray:
    """(c) Mean of the standardised scores (just the similarity's when there is no classifier)."""
    if classifier is None:
        return _standardise(similarity)
    return (_standardise(similarity) + _standardise(classifier)) / 2


# --- candidate vectors: embedded once, cached beside the index ------------------------------------------------------


def _load_cache(path: Any, model: str) -> dict[int, tuple[str, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["model"]) != model:
                return {}
            return {int(i): (str(h), v) for i, h, v in zip(z["ids"], z["hashes"], z["vecs"])}
    except FileNotFoundError:
        return {}
    except Exception:  # noqa: BLE001 - a damaged cache is derived data: embed again
        logger.warning("the inbox vector cache is unreadable; embedding the candidates again")
        return {}


def _save_cache(path: Any, model: str, cache: dict[int, tuple[str, np.ndarray]], dim: int) -> None:
    ids = np.fromiter(cache, dtype=np.int64, count=len(cache))
    vecs = np.stack([cache[i][1] for i in cache]).astype(np.float32) if cache else np.zeros((0, dim), np.float32)
    buf = io.BytesIO()
    np.savez(buf, ids=ids, hashes=np.asarray([cache[i][0] for i in cache], dtype="U64"), vecs=vecs,
             model=np.asarray(model))
    _store._atomic_write(path, buf.getvalue())


def sync_candidates(log: Any, *, embedder: Embedder | None = None, progress: bool | None = None,
                    batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Embed the candidates not embedded yet (waiting and skipped ones); returns all their (ids, vectors).

    Saved after every chunk, so an interrupted run keeps what it embedded; vectors of candidates no longer in the
    log (cleared) are dropped.
    """
    embedder = embedder or get_embedder(log=log)
    path = _store.index_dir(log.path) / CACHE_FILE
    texts = dict(log.candidate_texts(state=("new", "skipped")))
    hashes = {cid: content_hash(text) for cid, text in texts.items()}
    cache = {cid: hv for cid, hv in _load_cache(path, embedder.name).items() if hashes.get(cid) == hv[0]}
    todo = [cid for cid in texts if cid not in cache]
    dirty = len(cache) != len(texts) - len(todo) or bool(todo)
    if todo:
        from tqdm.auto import tqdm

        with tqdm(total=len(todo), unit="paper", desc="embedding inbox", leave=False,
                  disable=None if progress is None else not progress) as bar:
            for start in range(0, len(todo), CHUNK_SIZE):
                chunk = todo[start:start + CHUNK_SIZE]
                vecs = embedder.encode([texts[cid] for cid in chunk], batch_size=batch_size)
                cache.update({cid: (hashes[cid], vec) for cid, vec in zip(chunk, vecs)})
                _save_cache(path, embedder.name, cache, int(vecs.shape[1]))
                bar.update(len(chunk))
    elif dirty:
        _save_cache(path, embedder.name, cache, int(embedder.dim))
    ids = np.asarray(sorted(cache), dtype=np.int64)
    if not len(ids):
        return ids, np.zeros((0, 0), np.float32)
    return ids, np.stack([cache[int(i)][1] for i in ids]).astype(np.float32)


def _library(log: Any, embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """(paper ids, vectors) of the whole library, from the index after a sync."""
    from ._search import _synced_index

    index = _synced_index(log, embedder)
    if index is None or index.ntotal == 0:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return _vectors.extract(index)


# --- ranking the inbox -----------------------------------------------------------------------------------------------


def _tag_members(log: Any, lib_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Tag -> boolean mask over the library rows."""
    masks: dict[str, np.ndarray] = {}
    for tag in log.stats(window_days=1)["tag_counts"]:
        masks[tag] = np.isin(lib_ids, np.fromiter(log.filter_ids(tag=tag), dtype=np.int64))
    return masks


def rank(log: Any, *, tag: str | None = None, k: int = 20, ranker: str = "fusion",
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
    cand_ids, cand_vecs = sync_candidates(log, embedder=embedder, progress=progress)
    waiting = {c["id"]: c for c in log.candidates()}
    skipped = {c["id"] for c in log.candidates(state="skipped")}
    rows = np.fromiter((i for i, cid in enumerate(cand_ids) if int(cid) in waiting), dtype=np.int64)
    if not len(rows):
        return []
    skipped_vecs = cand_vecs[[i for i, cid in enumerate(cand_ids) if int(cid) in skipped]]
    cand_ids, cand_vecs = cand_ids[rows], cand_vecs[rows]
    lib_ids, lib_vecs = _library(log, embedder)
    masks = _tag_members(log, lib_ids) if len(lib_ids) else {}
    if tag is not None and not (tag in masks and masks[tag].any()):
        raise InboxError(f"no papers tagged {tag!r} in the log")

    base = masks[tag] if tag is not None else np.ones(len(lib_ids), bool)
    sim, nearest = similarity_scores(lib_vecs[base], cand_vecs) if len(lib_ids) else (
        np.zeros(len(cand_ids), np.float32), np.full(len(cand_ids), -1))
    probs: dict[str, np.ndarray] = {}
    if ranker != "similarity":
        for name in ([tag] if tag is not None else sorted(masks)):
            negatives = np.concatenate([lib_vecs[~masks[name]], skipped_vecs]) if len(skipped_vecs) \
                else lib_vecs[~masks[name]]
            p = classifier_scores(lib_vecs[masks[name]], negatives, cand_vecs)
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
