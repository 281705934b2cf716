"""Search latency: p50/p99 per query at 1,800 and 100,000 papers, without and with query encoding.

- 1,800 papers: a log of CSFCube papers; `index.search` end to end with the query vector precomputed (everything
  but encoding: sync check, FAISS, keyword, fusion, fetching results), then with a warm model encoding the query.
- Keyword search at 1,800 papers: a Chinese word (substring scan) against an English word (FTS5 index).
- 100,000 papers: synthetic vectors (CSFCube embeddings plus noise, unit length); the FAISS stage only, with the
  index `index.sync` chooses at that size (HNSW) against exact search, and HNSW's recall@10 against exact.

    python bench/search_speed.py [--data DIR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import _index_data as data
import numpy as np

import index
from index import _vectors
from reading import open_log


def percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.asarray(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def timed(fn, queries) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t)
    return out


def paired(fn_a, fn_b, queries) -> tuple[list[float], list[float]]:
    """Time two functions alternately per query, so a busy machine slows both alike."""
    a, b = [], []
    for q in queries:
        for fn, out in ((fn_a, a), (fn_b, b)):
            t = time.perf_counter()
            fn(q)
            out.append(time.perf_counter() - t)
    return a, b


class Lookup:
    """An embedder answering from precomputed vectors: search timed without encoding."""

    def __init__(self, inner, table: dict[str, np.ndarray]) -> None:
        self.inner, self.table, self.name, self.dim = inner, table, inner.name, inner.dim

    def encode(self, texts, *, batch_size=32):
        return np.stack([self.table[t] for t in texts])


# Chinese reading notes: CJK words have no spaces around them, so keyword search finds them by substring scan
_ZH = ["逐点群卷积", "通道混洗", "残差学习", "恒等映射", "超网络", "权重共享", "进化搜索", "注意力机制", "知识蒸馏",
       "批归一化", "深度可分离卷积", "网络结构搜索"]


def keyword_cjk(log, queries: list[str], rng: np.random.Generator) -> None:
    """Keyword search for a Chinese word (substring scan of titles, abstracts, notes) vs an English word (FTS5),
    on the same log after a third of its papers got a Chinese note."""
    ids = log.filter_ids()
    for pid in sorted(ids)[::3]:
        a, b = rng.choice(len(_ZH), 2, replace=False)
        log.note(pid, f"这篇论文的{_ZH[a]}很有意思，和{_ZH[b]}相比更简单。")
    english = [q.split()[0] for q in queries]
    chinese = [_ZH[i % len(_ZH)] for i in range(len(english))]
    zh, en = paired(lambda i: log.keyword_search(chinese[i], k=10), lambda i: log.keyword_search(english[i], k=10),
                    range(len(english)))
    (z50, z99), (e50, _) = percentiles(zh), percentiles(en)
    print(f"keyword 1,800 papers ({len(ids) // 3 + 1} Chinese notes) CJK word (substring scan)  p50 {z50:.2f} ms"
          f"  p99 {z99:.2f} ms  FTS5 English word p50 {e50:.2f} ms  ratio {z50 / e50:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data.add_data_option(parser)
    data.use_data(parser.parse_args().data)
    corpus = data.load_corpus()
    model = data.CachedEmbedder(index.get_embedder())
    rng = np.random.default_rng(0)

    # --- 1,800 papers through index.search ---------------------------------------------------------------------
    work = Path(tempfile.mkdtemp(prefix="speed-"))
    log = open_log(work / "lib.db")
    data.fill_log(log, corpus[:1800])
    index.sync(log, embedder=model, progress=False)
    queries = [p["title"] for p in corpus[1800:2000]]
    table = dict(zip(queries, model.inner.encode(queries)))
    lookup = Lookup(model, table)
    for mode in ("dense", "hybrid"):
        index.search(log, queries[0], mode=mode, embedder=lookup)  # load the index once
        p50, p99 = percentiles(timed(lambda q, mode=mode: index.search(log, q, k=10, mode=mode, embedder=lookup),
                                           queries))
        print(f"search 1,800 papers index.search {mode:<6} excl. encoding  p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    from index import _search

    depth = _search.MIN_DEPTH

    def at_depth(d: int, q: str) -> None:
        _search.MIN_DEPTH = d
        try:
            index.search(log, q, k=10, mode="hybrid", embedder=lookup)
        finally:
            _search.MIN_DEPTH = depth

    before, now = paired(lambda q: at_depth(100, q), lambda q: at_depth(depth, q), queries)
    (b50, _), (n50, n99) = percentiles(before), percentiles(now)
    print(f"search 1,800 papers index.search hybrid excl. encoding, fusing {depth} candidates  p50 {n50:.2f} ms  "
          f"p99 {n99:.2f} ms  (100 candidates, as before issue 19: p50 {b50:.2f} ms, ratio {n50 / b50:.2f}x, "
          f"target <= 1.2x)")
    warm = model.inner
    warm.encode(["warm"])
    enc, full = paired(lambda q: warm.encode([q]), lambda q: index.search(log, q, k=10, mode="hybrid", embedder=warm),
                       queries)
    (enc50, _), (p50, p99) = percentiles(enc), percentiles(full)
    print(f"search 1,800 papers index.search hybrid incl. encoding  p50 {p50:.2f} ms  p99 {p99:.2f} ms"
          f"  (encoding alone p50 {enc50:.2f} ms, ratio {p50 / enc50:.2f}x)")
    keyword_cjk(log, queries, rng)
    log.close()

    # --- 100,000 synthetic papers, FAISS stage ------------------------------------------------------------------
    n = 100_000
    base = model.encode([f"{p['title']}\n\n{p['abstract']}" for p in corpus[:1800]])
    vecs = base[rng.integers(0, len(base), n)] + rng.normal(scale=0.03, size=(n, base.shape[1])).astype("f4")
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(1, n + 1, dtype=np.int64)
    kind = _vectors.kind_for(n)
    t = time.perf_counter()
    approx = _vectors.build(ids, vecs, vecs.shape[1], kind)
    build_s = time.perf_counter() - t
    exact = _vectors.build(ids, vecs, vecs.shape[1], "flat")
    qv = np.stack([table[q] for q in queries])
    a50, a99 = percentiles(timed(lambda q: _vectors.search(approx, q, 10), qv))
    e50, _ = percentiles(timed(lambda q: _vectors.search(exact, q, 10), qv))
    _, got = _vectors.search(approx, qv, 10)
    _, truth = _vectors.search(exact, qv, 10)
    recall = np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth)])
    print(f"search 100,000 papers FAISS {kind} excl. encoding  p50 {a50:.3f} ms  p99 {a99:.3f} ms"
          f"  exact p50 {e50:.3f} ms  ratio {a50 / e50:.3f}x  recall@10 {recall:.3f}  (build {build_s:.0f} s)")
    enc, both = paired(lambda q: warm.encode([q]), lambda q: _vectors.search(approx, warm.encode([q]), 10), queries)
    (enc50, _), (both50, both99) = percentiles(enc), percentiles(both)
    print(f"search 100,000 papers FAISS {kind} incl. encoding (warm model)  p50 {both50:.2f} ms  p99 {both99:.2f} ms"
          f"  (encoding alone p50 {enc50:.2f} ms, ratio {both50 / enc50:.2f}x)")


if __name__ == "__main__":
    sys.exit(main())
