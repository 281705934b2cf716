"""Search quality on CSFCube: nDCG@10 and MAP of keyword, dense and hybrid "related papers" rankings.

For each query paper, the whole corpus is ranked through the product path (`index.related` on a log holding the
4,205 papers; the query paper left out) and scored against CSFCube's graded judgments: nDCG@10 with gain 2^g - 1,
MAP with grades >= 2 relevant. Fusion (RRF's k, the blend's alpha, and RRF vs blend) is tuned on each dev fold of
the official 2-fold split and reported on the matching test fold; the test lines cover all 50 queries once.

    python bench/search_quality.py

The first run embeds the corpus (minutes on 2 CPU cores); vectors are cached under $TMPDIR/paper-zoo-bench.
"""
from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import _index_data as data

import index
from index import _fusion
from reading import open_log

RRF_KS = (1, 2, 5, 10, 20, 40, 60, 100, 200)
ALPHAS = tuple(round(0.05 * i, 2) for i in range(1, 20))


def ndcg10(ranked: list[str], grades: dict[str, int]) -> float:
    dcg = sum((2 ** grades.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:10]))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def average_precision(ranked: list[str], grades: dict[str, int]) -> float:
    relevant = {pid for pid, g in grades.items() if g >= 2}
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for i, pid in enumerate(ranked, start=1):
        if pid in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant)


def score(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]], qids: list[str]) -> tuple[float, float]:
    """Mean (nDCG@10, MAP) over qids; rankings are keyed by query paper pid."""
    n = [ndcg10(rankings[q.rsplit("_", 1)[0]], qrels[q]) for q in qids]
    m = [average_precision(rankings[q.rsplit("_", 1)[0]], qrels[q]) for q in qids]
    return sum(n) / len(n), sum(m) / len(m)


def main() -> None:
    if not data.DATA.exists():
        sys.exit(f"CSFCube not found at {data.DATA}")
    corpus, queries, qrels, splits = data.load_corpus(), data.load_queries(), data.load_qrels(), data.load_splits()
    work = Path(tempfile.mkdtemp(prefix="csfcube-"))
    log = open_log(work / "csfcube.db")
    to_log = data.fill_log(log, corpus)
    to_pid = {lid: pid for pid, lid in to_log.items()}
    emb = data.CachedEmbedder(index.get_embedder())
    t0 = time.perf_counter()
    index.sync(log, embedder=emb, progress=True)
    print(f"# indexed {log.count()} papers with {emb.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    depth = log.count() - 1
    query_pids = sorted({q["pid"] for q in queries})
    raw: dict[str, dict[str, list[tuple[int, float]]]] = {"dense": {}, "keyword": {}}
    for mode in raw:
        for pid in query_pids:
            hits = index.related(log, to_log[pid], k=depth, mode=mode, embedder=emb)
            raw[mode][pid] = [(h["id"], h["score"]) for h in hits]

    def as_pids(ranking: list[tuple[int, float]]) -> list[str]:
        return [to_pid[lid] for lid, _ in ranking]

    single = {mode: {pid: as_pids(r) for pid, r in per.items()} for mode, per in raw.items()}
    methods = [("rrf", float(k)) for k in RRF_KS] + [("blend", a) for a in ALPHAS]
    fused = {m: {pid: as_pids(_fusion.fuse(raw["dense"][pid], raw["keyword"][pid], m)) for pid in query_pids}
             for m in methods}

    test_qids: dict[str, list[str]] = {}
    chosen_rankings: dict[str, list[str]] = {}
    for fold in ("fold1", "fold2"):
        facets = [splits[name] for name in ("background", "method", "result")]  # the file's "all" repeats them
        dev = [q for facet in facets for q in facet[f"{fold}_dev"]]
        test = [q for facet in facets for q in facet[f"{fold}_test"]]
        test_qids[fold] = test

        assert not set(dev) & set(test)

        def dev_score(method, dev=dev):
            n, m = score(fused[method], qrels, dev)
            return n + m

        best = {name: max((m for m in methods if m[0] == name), key=dev_score) for name in ("rrf", "blend")}
        winner = max(best.values(), key=dev_score)
        for name, method in best.items():
            n, m = score(fused[method], qrels, test)
            print(f"csfcube {fold}_test ({len(test)} q)  hybrid {name:<5} (tuned on dev: {method[1]:g})"
                  f"  nDCG@10 {n:.4f}  MAP {m:.4f}{'   <- better on dev' if method == winner else ''}")
        for q in test:
            chosen_rankings[q] = fused[winner][q.rsplit("_", 1)[0]]

    all_test = test_qids["fold1"] + test_qids["fold2"]
    assert sorted(all_test) == sorted(q["qid"] for q in queries)
    per_query = {q: chosen_rankings[q] for q in all_test}
    kw = score(single["keyword"], qrels, all_test)
    de = score(single["dense"], qrels, all_test)
    hy = (sum(ndcg10(per_query[q], qrels[q]) for q in all_test) / len(all_test),
          sum(average_precision(per_query[q], qrels[q]) for q in all_test) / len(all_test))
    for i, metric in enumerate(("nDCG@10", "MAP")):
        print(f"csfcube test folds ({len(all_test)} q)  {metric:<8} keyword {kw[i]:.4f}  dense {de[i]:.4f}  "
              f"hybrid {hy[i]:.4f}  ratio vs keyword {hy[i] / kw[i]:.3f}x  vs dense {hy[i] / de[i]:.3f}x")

    # the product's default fusion (chosen from the dev folds above), through index.related itself, on all queries
    product = {pid: as_pids([(h["id"], h["score"]) for h in
                             index.related(log, to_log[pid], k=depth, mode="hybrid", embedder=emb)])
               for pid in query_pids}
    n, m = score(product, qrels, all_test)
    print(f"csfcube all queries ({len(all_test)} q)  index.related hybrid default {_fusion.DEFAULT}"
          f"  nDCG@10 {n:.4f}  MAP {m:.4f}")
    log.close()


if __name__ == "__main__":
    main()
