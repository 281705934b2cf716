"""Inbox ranking quality on CSFCube: does the inbox put the papers a user would want near the top?

The habit, simulated without the network. For each CSFCube query (a query paper and a facet), its relevant papers
(grade >= 2) are one tag of a user's library, together with the query paper itself; half of them (at least one) are
held out. The rest of the library is other reading: papers drawn from the rest of the corpus. The inbox is the
held-out papers mixed into "new submissions": the query's judged but not relevant papers (close in topic: the hard
part) and a pool of other corpus papers. The rankers of `index.inbox` rank the
inbox for that tag, and the held-out papers are looked for in the top 20: recall@20 and nDCG@20 (binary gains),
averaged over queries and seeds.

    (a) similarity   mean cosine similarity to the tag's closest papers (index.inbox.similarity_scores)
    (b) classifier   logistic regression, tag vs the rest of the library (index.inbox.classifier_scores)
    (c) fusion       mean of the standardised (a) and (b) (index.inbox.fuse)

Each line prints the ratio against a random order of the same inbox (measured in the same run); the last line the
ratio of the fusion against the better single ranker (target: >= 1.0). A last line ranks a few episodes through
the product path (a real log, candidates, `index.inbox.rank`) and compares it with the in-memory figures (1.0x).
`--sweep` also prints the settings tried for SIM_TOP and CLASSIFIER_C.

    python bench/inbox_quality.py [--seeds 3] [--pool 300] [--background 300] [--product 5] [--sweep]

The first run embeds the corpus with the index's model (minutes on 2 CPU cores); vectors are cached under
$TMPDIR/paper-zoo-bench (shared with the search benches).
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
import time

import _index_data as data
import numpy as np

import index
from index import inbox

K = 20


def recall_ndcg(order: np.ndarray, relevant: np.ndarray, k: int = K) -> tuple[float, float]:
    """recall@k and binary nDCG@k of a ranking (indices into the inbox) given a boolean relevance vector."""
    top = relevant[order[:k]]
    recall = float(top.sum()) / max(1, int(relevant.sum()))
    dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(top) if hit)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(k, int(relevant.sum()))))
    return recall, dcg / idcg if idcg else 0.0


def episodes(corpus_ids: list[str], queries: list[dict], qrels: dict[str, dict[str, int]], seed: int, pool: int,
             background: int):
    """Yield (qid, tag rows, background rows, inbox rows, relevance of the inbox rows) per query for one seed."""
    rng = np.random.default_rng(seed)
    row = {pid: i for i, pid in enumerate(corpus_ids)}
    for q in queries:
        relevant = sorted(pid for pid, g in qrels[q["qid"]].items() if g >= 2 and pid in row and pid != q["pid"])
        if len(relevant) < 2:
            continue
        relevant = list(rng.permutation(relevant))
        held = relevant[: max(1, len(relevant) // 2)]
        tag = [q["pid"], *relevant[len(held):]]
        judged = set(qrels[q["qid"]]) | {q["pid"]}
        # judged but not relevant: papers a retrieval system found close to the query, the hard part of an inbox
        near = [pid for pid, g in qrels[q["qid"]].items() if g < 2 and pid in row and pid != q["pid"]]
        others = [pid for pid in corpus_ids if pid not in judged]
        picked = rng.choice(len(others), size=background + pool, replace=False)
        back = [others[i] for i in picked[:background]]
        new = [others[i] for i in picked[background:]] + near + held
        rel = np.zeros(len(new), bool)
        rel[-len(held):] = True
        yield q["qid"], [row[p] for p in tag], [row[p] for p in back], [row[p] for p in new], rel


def run(vecs: np.ndarray, eps: list, *, top: int, c: float) -> dict[str, tuple[float, float]]:
    """Mean (recall@20, nDCG@20) per ranker over the episodes, plus the random baseline (exact expectation)."""
    out: dict[str, list[tuple[float, float]]] = {"random": [], "similarity": [], "classifier": [], "fusion": []}
    for _, tag, back, new, rel in eps:
        cands = vecs[new]
        sim, _ = inbox.similarity_scores(vecs[tag], cands, top=top)
        clf = inbox.classifier_scores(vecs[tag], vecs[back], cands, c=c)
        fused = inbox.fuse(sim, clf)
        for name, score in (("similarity", sim), ("classifier", clf), ("fusion", fused)):
            out[name].append(recall_ndcg(np.argsort(-score, kind="stable"), rel))
        # a random order's expected recall@k is k/n; its nDCG is estimated from 20 shuffles
        rng = np.random.default_rng(len(new))
        shuffles = [recall_ndcg(rng.permutation(len(new)), rel)[1] for _ in range(20)]
        out["random"].append((min(1.0, K / len(new)), float(np.mean(shuffles))))
    return {name: tuple(float(np.mean([v[i] for v in vals])) for i in range(2)) for name, vals in out.items()}


def product_path(corpus: list[dict], vecs: np.ndarray, emb, eps: list) -> tuple[float, float]:
    """Mean nDCG@20 of `index.inbox.rank` (fusion) through a real log, and of the same episodes ranked in memory."""
    import tempfile
    from pathlib import Path

    from reading import open_log

    logging.getLogger("index").setLevel(logging.ERROR)  # "building the search index" per episode
    got, want = [], []
    for _, tag, back, new, rel in eps:
        with open_log(Path(tempfile.mkdtemp(prefix="inbox-bench-")) / "log.db") as log:
            for row in [*tag, *back]:
                p = corpus[row]
                log.add(None, title=p["title"], abstract=p["abstract"] or None, tags=["topic"] if row in tag else (),
                        fetch=False)
            log.add_candidates([{"arxiv_id": f"2601.{i:05d}", "title": corpus[row]["title"],
                                 "abstract": corpus[row]["abstract"]} for i, row in enumerate(new)])
            hits = inbox.rank(log, tag="topic", k=K, embedder=emb, progress=False)
        pos = {f"2601.{i:05d}": i for i in range(len(new))}
        top = np.asarray([pos[h["arxiv_id"]] for h in hits])
        order = np.concatenate([top, np.setdiff1d(np.arange(len(new)), top)])
        got.append(recall_ndcg(order, rel)[1])
        sim, _ = inbox.similarity_scores(vecs[tag], vecs[new])
        fused = inbox.fuse(sim, inbox.classifier_scores(vecs[tag], vecs[back], vecs[new]))
        want.append(recall_ndcg(np.argsort(-fused, kind="stable"), rel)[1])
    return float(np.mean(got)), float(np.mean(want))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=300, help="other papers mixed into each inbox")
    parser.add_argument("--background", type=int, default=300, help="untagged papers in the library")
    parser.add_argument("--sweep", action="store_true", help="also print the settings tried")
    parser.add_argument("--product", type=int, default=5, help="episodes also ranked through a real log")
    data.add_data_option(parser)
    args = parser.parse_args()
    data.use_data(args.data)
    corpus, queries, qrels = data.load_corpus(), data.load_queries(), data.load_qrels()
    emb = data.CachedEmbedder(index.get_embedder())
    t0 = time.perf_counter()
    # the same text the log hands the index for a paper: title, blank line, abstract
    vecs = emb.encode([f"{p['title']}\n\n{p['abstract']}" if p["abstract"] else p["title"] for p in corpus])
    print(f"# {len(corpus)} CSFCube papers embedded with {emb.name} in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    ids = [p["pid"] for p in corpus]
    eps = [e for seed in range(args.seeds) for e in episodes(ids, queries, qrels, seed, args.pool, args.background)]
    print(f"# {len(eps)} episodes ({len({e[0] for e in eps})} queries x {args.seeds} seeds), inbox of "
          f"{args.pool} + held-out, library of tag papers + {args.background}", file=sys.stderr)
    if args.sweep:
        for top in (1, 3, 5, 10):
            r = run(vecs, eps, top=top, c=inbox.CLASSIFIER_C)
            print(f"# sweep SIM_TOP={top:<5} similarity nDCG@20 {r['similarity'][1]:.3f}  "
                  f"fusion nDCG@20 {r['fusion'][1]:.3f}", file=sys.stderr)
        for c in (0.3, 1.0, 3.0):
            r = run(vecs, eps, top=inbox.SIM_TOP, c=c)
            print(f"# sweep C={c:<5} classifier nDCG@20 {r['classifier'][1]:.3f}  fusion nDCG@20 {r['fusion'][1]:.3f}",
                  file=sys.stderr)
    t0 = time.perf_counter()
    r = run(vecs, eps, top=inbox.SIM_TOP, c=inbox.CLASSIFIER_C)
    elapsed = time.perf_counter() - t0
    base_recall, base_ndcg = r["random"]
    for label, name in (("(a) similarity", "similarity"), ("(b) classifier", "classifier"), ("(c) fusion", "fusion")):
        recall, ndcg = r[name]
        print(f"inbox quality {label:<15} recall@20 {recall:.3f}  nDCG@20 {ndcg:.3f}  "
              f"vs random order: recall {recall / base_recall:.1f}x  nDCG {ndcg / base_ndcg:.1f}x")
    better = max(("similarity", "classifier"), key=lambda n: r[n][1])
    print(f"inbox quality fusion vs better single ({better})  recall@20 {r['fusion'][0] / r[better][0]:.3f}x  "
          f"nDCG@20 {r['fusion'][1] / r[better][1]:.3f}x  ({len(eps)} episodes, {elapsed:.1f} s)")
    if args.product:
        t0 = time.perf_counter()
        got, want = product_path(corpus, vecs, emb, eps[: args.product])
        print(f"inbox quality product path (reading log + index.inbox.rank)  nDCG@20 {got:.3f}  "
              f"vs in memory {want:.3f}: {got / want:.3f}x  ({args.product} episodes, {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
