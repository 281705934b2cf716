"""Candidate techniques for hybrid search, scored per CSFCube fold (issue 19); used by search_quality.py --sweep.

Every candidate is simulated on the same full dense and keyword rankings the product computes (the stored vectors,
the log's FTS5 BM25), cut, fused and scored at k = 10 exactly as `index._search` does; each line gives nDCG@10 on
fold1_test and fold2_test (each fold is the other's dev fold) for "related" and for title-as-query "search".
A technique is kept only if it wins on both folds. The product's own figures are the table printed after this.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

import index
from index import _fusion

Ranking = list[tuple[int, float]]


def _full(bench) -> dict[str, dict[str, tuple[np.ndarray, Ranking, Ranking]]]:
    """Per query paper, for related and search: (query vector, dense ranking of all, keyword ranking of all)."""
    ids, vecs = index.vectors(bench.log, embedder=bench.emb)
    row = {int(i): r for r, i in enumerate(ids)}
    n = bench.log.count()
    out: dict[str, dict[str, tuple]] = {"related": {}, "search": {}}
    for pid in bench.query_pids:
        lid = bench.to_log[pid]
        text = dict(bench.log.index_texts([lid]))[lid]
        for kind, qvec, qtext in (("related", vecs[row[lid]], text),
                                  ("search", bench.emb.encode([bench.titles[pid]])[0], bench.titles[pid])):
            dense = _dense_all(ids, vecs, qvec, lid)
            keyword = [(p, s) for p, s in bench.log.keyword_search(qtext, k=n) if p != lid]
            out[kind][pid] = (qvec, dense, keyword)
    bench.sweep_matrix = (ids, vecs)
    return out


def _dense_all(ids: np.ndarray, vecs: np.ndarray, q: np.ndarray, exclude: int) -> Ranking:
    scores = vecs @ q
    order = np.argsort(-scores, kind="stable")
    return [(int(ids[i]), float(scores[i])) for i in order if int(ids[i]) != exclude]


def _blend_floor(dense: Ranking, keyword: Ranking, alpha: float) -> list[tuple[int, float]]:
    """Blend where a paper missing from a cut ranking gets that ranking's lowest kept score, not 0."""
    d, kw = _fusion._scaled(dense), _fusion._scaled(keyword)
    fd, fk = min(d.values(), default=0.0), min(kw.values(), default=0.0)
    scores = {p: alpha * d.get(p, fd) + (1 - alpha) * kw.get(p, fk) for p in {*d, *kw}}
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _rocchio(bench, q: np.ndarray, seeds: list[int], exclude: int, beta: float) -> Ranking:
    ids, vecs = bench.sweep_matrix
    row = {int(i): r for r, i in enumerate(ids)}
    centroid = vecs[[row[p] for p in seeds]].mean(axis=0)
    q2 = q + beta * centroid
    q2 = q2 / np.linalg.norm(q2)
    return _dense_all(ids, vecs, q2, exclude)


def _candidates(bench) -> dict[str, Callable]:
    def plain(depth, method=("blend", 0.8), floor=False):
        def run(pid, q, dense, keyword):
            d, kw = dense[:depth], keyword[:depth]
            if floor:
                return _blend_floor(d, kw, method[1])[:10]
            return _fusion.fuse(d, kw, method)[:10]
        return run

    def prf(depth, m, beta, source, alpha=0.8, floor=False):
        def run(pid, q, dense, keyword):
            d, kw = dense[:depth], keyword[:depth]
            first = _fusion.fuse(d, kw, ("blend", alpha)) if source == "fused" else d
            seeds = [p for p, _ in first[:m]]
            d2 = _rocchio(bench, q, seeds, bench.to_log[pid], beta)[:depth]
            fused = _blend_floor(d2, kw, alpha) if floor else _fusion.fuse(d2, kw, ("blend", alpha))
            return fused[:10]
        return run

    def dense_only(m=0, beta=0.0):
        def run(pid, q, dense, keyword):
            if not m:
                return dense[:10]
            return _rocchio(bench, q, [p for p, _ in dense[:m]], bench.to_log[pid], beta)[:10]
        return run

    cands: dict[str, Callable] = {
        "dense alone": dense_only(),
        "keyword alone": lambda pid, q, d, kw: kw[:10],
        "blend 0.8, depth 100 (before issue 19)": plain(100),
    }
    for depth in (200, 500, 1000, 5000):
        cands[f"blend 0.8, depth {depth}{' (the default)' if depth == 200 else ''}"] = plain(depth)
    for depth in (100, 500):
        cands[f"blend 0.8 floor, depth {depth}"] = plain(depth, floor=True)
    for alpha in (0.7, 0.75, 0.85, 0.9):
        cands[f"blend {alpha}, depth 500"] = plain(500, ("blend", alpha))
    cands["rrf 60, depth 500"] = plain(500, ("rrf", 60))
    for m, beta in ((3, 0.5), (5, 0.5), (10, 0.5), (5, 1.0), (10, 1.0)):
        cands[f"dense rocchio m={m} b={beta}"] = dense_only(m, beta)
    for source in ("dense", "fused"):
        for m, beta in ((3, 0.5), (5, 0.5), (5, 1.0), (10, 0.5), (10, 1.0)):
            cands[f"prf({source}) m={m} b={beta} + blend 0.8, depth 500"] = prf(500, m, beta, source)
    for alpha in (0.7, 0.9):
        cands[f"prf(fused) m=5 b=0.5 + blend {alpha}, depth 500"] = prf(500, 5, 0.5, "fused", alpha)
    return cands


def run(bench) -> None:
    from search_quality import ndcg10

    full = _full(bench)
    folds = bench.folds
    print(f"sweep: nDCG@10 at k=10 per fold ({', '.join(f'{f} {len(q)} q' for f, q in folds.items())})")
    print(f"{'candidate':<56} related f1 / f2 / all      search(title) f1 / f2 / all")
    for name, fn in _candidates(bench).items():
        line = []
        for kind in ("related", "search"):
            ranked = {pid: [bench.to_pid[p] for p, _ in fn(pid, *full[kind][pid])] for pid in bench.query_pids}
            per = [np.mean([ndcg10(ranked[q.rsplit("_", 1)[0]], bench.qrels[q]) for q in qids])
                   for qids in [*folds.values(), bench.all_q]]
            line.append(" / ".join(f"{x:.4f}" for x in per))
        print(f"{name:<56} {line[0]}   {line[1]}", flush=True)
