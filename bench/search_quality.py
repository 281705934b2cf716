"""Search quality as users get it: CSFCube nDCG@10 of `index.related` and `index.search` at k = 10, default settings.

    python bench/search_quality.py              # the k = 10 table per fold, the full-depth line, a free-text check
    python bench/search_quality.py --compare-st # also: ONNX Runtime vs sentence-transformers vectors (issue 14)
    python bench/search_quality.py --sweep      # the candidate techniques, scored on each fold (issue 19)
    python bench/search_quality.py --precision bf16   # the corpus embedded in bf16 (OpenVINO): issue 24's gate

A log holds CSFCube's 4,205 papers (a second one adds the starter set's 23 computer-vision papers, for the
free-text check).
For each of the 50 queries (a query paper and a facet, graded judgments), the papers the product returns are scored
with nDCG@10 (gain 2^g - 1) and MAP (grades >= 2 relevant):
- related: `index.related(log, paper, k=10)` per mode (keyword, dense, hybrid): "papers like this one";
- search: `index.search(log, title, k=11)` with the query paper's title as a short free-text query, the query paper
  itself dropped (the first 10 others are scored).
Per fold: CSFCube's official 2-fold split (fold1_test is fold2_dev, so each fold is the other's dev fold: a change is
kept only if it wins on both). The secondary line ranks the whole corpus (k = 4,204) through `index.related`.
The free-text check: 14 short computer-vision queries written for this bench, each aimed at one starter paper
(title + our summary note, among the 4,205 others); mean reciprocal rank of that paper in the top 10.

The first run embeds the corpus (minutes on 2 CPU cores); vectors are cached under $TMPDIR/paper-zoo-bench.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import _index_data as data

import index
from reading import open_log

MODES = ("keyword", "dense", "hybrid")
FOLDS = ("fold1_test", "fold2_test")
#: Short free-text queries (written for this bench, not taken from anywhere), each aimed at one starter paper.
FREE_TEXT = [
    ("channel shuffle for mobile networks", "1707.01083"),
    ("guidelines for efficient cnn design memory access cost", "1807.11164"),
    ("residual connections to train very deep networks", "1512.03385"),
    ("depthwise separable convolutions replacing inception modules", "1610.02357"),
    ("region proposal network for real-time object detection", "1506.01497"),
    ("one-shot architecture search with uniform path sampling", "1904.00420"),
    ("normalizing layer inputs to speed up training", "1502.03167"),
    ("inverted residuals with linear bottlenecks", "1801.04381"),
    ("differentiable architecture search", "1806.09055"),
    ("parametric rectifier and initialization for deep nets", "1502.01852"),
    ("weight sharing makes architecture search cheap", "1802.03268"),
    ("train one supernet, specialize subnets per device", "1908.09791"),
    ("searching detection backbones", "1903.10979"),
    ("pooling that accepts any input image size", "1406.4729"),
]


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


def fold_qids(splits: dict) -> dict[str, list[str]]:
    facets = [splits[name] for name in ("background", "method", "result")]  # the file's "all" repeats them
    out = {fold: [q for facet in facets for q in facet[fold]] for fold in FOLDS}
    assert not set(out[FOLDS[0]]) & set(out[FOLDS[1]])
    return out


class Bench:
    """The CSFCube log, its index and the product's rankings for every query paper."""

    def __init__(self, embedder) -> None:
        self.corpus, self.queries = data.load_corpus(), data.load_queries()
        self.qrels, self.folds = data.load_qrels(), fold_qids(data.load_splits())
        self.all_q = self.folds[FOLDS[0]] + self.folds[FOLDS[1]]
        assert sorted(self.all_q) == sorted(q["qid"] for q in self.queries)
        work = Path(tempfile.mkdtemp(prefix="csfcube-"))
        self.log = open_log(work / "csfcube.db")
        self.to_log = data.fill_log(self.log, self.corpus)
        self.to_pid = {lid: pid for pid, lid in self.to_log.items()}
        self.emb = embedder
        t0 = time.perf_counter()
        index.sync(self.log, embedder=self.emb, progress=True)
        print(f"# indexed {self.log.count()} papers with {self.emb.name} in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
        self.query_pids = sorted({q["pid"] for q in self.queries})
        self.titles = {q["pid"]: q["title"] for q in self.queries}

    def as_pids(self, hits: list[dict]) -> list[str]:
        return [self.to_pid[h["id"]] for h in hits]

    def related(self, mode: str, k: int = 10, **kw) -> dict[str, list[str]]:
        return {pid: self.as_pids(index.related(self.log, self.to_log[pid], k=k, mode=mode, embedder=self.emb, **kw))
                for pid in self.query_pids}

    def search(self, mode: str, k: int = 10, **kw) -> dict[str, list[str]]:
        out = {}
        for pid in self.query_pids:
            hits = index.search(self.log, self.titles[pid], k=k + 1, mode=mode, embedder=self.emb, **kw)
            out[pid] = [p for p in self.as_pids(hits) if p != pid][:k]
        return out

    def free_text_log(self):
        """A second log: the corpus plus the starter set (built once, from the cached vectors)."""
        if not hasattr(self, "_free_log"):
            self._free_log = open_log(Path(tempfile.mkdtemp(prefix="csfcube-starter-")) / "log.db")
            data.fill_log(self._free_log, self.corpus)
            self._free_log.import_starter()
            index.sync(self._free_log, embedder=self.emb, progress=False)
        return self._free_log

    def free_text(self, mode: str) -> float:
        rr = []
        for query, arxiv_id in FREE_TEXT:
            hits = index.search(self.free_text_log(), query, k=10, mode=mode, embedder=self.emb)
            ranks = [i for i, h in enumerate(hits, start=1) if h["arxiv_id"] == arxiv_id]
            rr.append(1 / ranks[0] if ranks else 0.0)
        return sum(rr) / len(rr)


def table(bench: Bench) -> None:
    """The k = 10 figures per fold (what users get), then the full-depth line and the free-text check."""
    related = {mode: bench.related(mode) for mode in MODES}
    search = {mode: bench.search(mode) for mode in MODES}
    print(f"csfcube nDCG@10 at k=10 through the product (default settings; load {os.getloadavg()[0]:.1f})")
    for name, qids in [*bench.folds.items(), ("all", bench.all_q)]:
        rel = [score(related[m], bench.qrels, qids)[0] for m in MODES]
        sea = [score(search[m], bench.qrels, qids)[0] for m in MODES]
        print(f"{name:<11} ({len(qids)} q)  index.related  keyword {rel[0]:.4f}  dense {rel[1]:.4f}  "
              f"hybrid {rel[2]:.4f}   |  index.search(title)  keyword {sea[0]:.4f}  dense {sea[1]:.4f}  "
              f"hybrid {sea[2]:.4f}")
    depth = bench.log.count() - 1
    full = {mode: bench.related(mode, k=depth) for mode in ("dense", "hybrid")}
    (dn, dm), (hn, hm) = (score(full[m], bench.qrels, bench.all_q) for m in ("dense", "hybrid"))
    print(f"full depth (k={depth}, {len(bench.all_q)} q)  index.related  dense nDCG@10 {dn:.4f} MAP {dm:.4f}  "
          f"hybrid nDCG@10 {hn:.4f} MAP {hm:.4f}")
    mrr = [bench.free_text(m) for m in MODES]
    print(f"free-text check ({len(FREE_TEXT)} short CV queries -> starter paper, MRR@10)  keyword {mrr[0]:.3f}  "
          f"dense {mrr[1]:.3f}  hybrid {mrr[2]:.3f}")


def compare_st(bench: Bench) -> None:
    """Issue 14: the ONNX Runtime encoder against sentence-transformers on the same corpus and queries."""
    st = data.CachedEmbedder(index.SentenceTransformerEmbedder(index.DEFAULT_MODEL))
    work = Path(tempfile.mkdtemp(prefix="csfcube-st-"))
    st_log = open_log(work / "csfcube.db")
    data.fill_log(st_log, bench.corpus)
    index.sync(st_log, embedder=st, progress=True)
    ids_o, vecs_o = index.vectors(bench.log, embedder=bench.emb)
    ids_s, vecs_s = index.vectors(st_log, embedder=st)
    assert (ids_o == ids_s).all()
    cos = (vecs_o * vecs_s).sum(axis=1)
    print(f"onnx vs sentence-transformers vectors ({len(cos)} papers)  cosine min {cos.min():.7f}  "
          f"mean {cos.mean():.7f}")
    depth = bench.log.count() - 1
    for mode in ("dense", "hybrid"):
        same = 0
        figures = []
        for which_log, emb in ((bench.log, bench.emb), (st_log, st)):
            ranks = {pid: bench.as_pids(index.related(which_log, bench.to_log[pid], k=depth, mode=mode,
                                                      embedder=emb)) for pid in bench.query_pids}
            figures.append(ranks)
        for pid in bench.query_pids:
            same += figures[0][pid][:10] == figures[1][pid][:10]
        (on, _), (sn, _) = (score(f, bench.qrels, bench.all_q) for f in figures)
        print(f"full-depth {mode:<6} nDCG@10  onnx {on:.4f}  sentence-transformers {sn:.4f}  diff {on - sn:+.4f}  "
              f"identical top-10 lists {same}/{len(bench.query_pids)} ({100 * same / len(bench.query_pids):.0f}%)")
    st_log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-st", action="store_true", help="ONNX Runtime vs sentence-transformers (issue 14)")
    parser.add_argument("--sweep", action="store_true", help="score the candidate techniques per fold (issue 19)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="how the corpus is embedded (bf16: OpenVINO; the gate of issue 24: within 0.002)")
    data.add_data_option(parser)
    args = parser.parse_args()
    data.use_data(args.data)
    os.environ["INDEX_PRECISION"] = args.precision
    print(f"# corpus embedded in {args.precision}", file=sys.stderr)
    bench = Bench(data.CachedEmbedder(index.get_embedder(index.DEFAULT_MODEL)))
    if args.sweep:
        import _search_sweep

        _search_sweep.run(bench)
    table(bench)
    if args.compare_st:
        compare_st(bench)
    bench.log.close()


if __name__ == "__main__":
    main()
