"""Inbox ranking speed: `index.inbox.rank` with its per-tag classifiers reused, against fitting them on every call.

A log of 1,800 CSFCube papers in 8 tags (k-means topics of their embeddings, so each tag is a real topic) and 200
waiting candidates (other CSFCube papers), embedded by `index.sync`. Timed as medians over interleaved rounds, so a
busy machine slows both alike:

- rank over all tags, classifiers reused (nothing changed since the last call) vs fitted anew (the cache emptied:
  what every call cost before, and still the first call and the one after a skip, a tag change or a new paper);
- rank for one tag, reused vs fitted;
- the sync check every search and rank run first, with the candidates in the log, vs the papers-only check.

    python bench/inbox_speed.py [--rounds 5]

Vectors come from the embedding cache shared with the other index benches ($TMPDIR/paper-zoo-bench; the first run
embeds the corpus with the index's model).
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _index_data as data

import index
from index import _candidates, _sync, inbox
from reading import open_log

PAPERS, CANDIDATES, TAGS = 1800, 200, 8


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    data.add_data_option(parser)
    args = parser.parse_args()
    data.use_data(args.data)
    from sklearn.cluster import KMeans

    logging.getLogger("index").setLevel(logging.ERROR)
    corpus = data.load_corpus()
    emb = data.CachedEmbedder(index.get_embedder())
    library, pool = corpus[:PAPERS], corpus[PAPERS:PAPERS + CANDIDATES]
    vecs = emb.encode([f"{p['title']}\n\n{p['abstract']}" if p["abstract"] else p["title"] for p in library])
    topics = KMeans(TAGS, n_init=3, random_state=0).fit_predict(vecs)

    log = open_log(Path(tempfile.mkdtemp(prefix="inbox-speed-")) / "log.db")
    ids = data.fill_log(log, library)
    for paper, topic in zip(library, topics):
        log.tag(ids[paper["pid"]], f"topic{topic}")
    log.add_candidates([{"arxiv_id": f"2601.{i:05d}", "title": p["title"], "abstract": p["abstract"]}
                        for i, p in enumerate(pool)])
    report = index.sync(log, embedder=emb, progress=False)
    print(f"# {report.total} papers in {TAGS} tags, {report.candidates} candidates embedded by index.sync",
          file=sys.stderr)
    tag = "topic0"

    def cold(**kw):
        inbox._FITTED.clear()
        return inbox.rank(log, embedder=emb, progress=False, **kw)

    def warm(**kw):
        return inbox.rank(log, embedder=emb, progress=False, **kw)

    assert cold() == warm(), "reused classifiers must rank exactly as fresh ones"
    for label, kw in ((f"all {TAGS} tags", {}), ("one tag   ", {"tag": tag})):
        fresh, reused = [], []
        for _ in range(args.rounds):
            fresh.append(timed(lambda kw=kw: cold(**kw)))
            reused.append(timed(lambda kw=kw: warm(**kw)))
        f, r = statistics.median(fresh), statistics.median(reused)
        print(f"inbox rank {PAPERS:,} papers x {CANDIDATES} candidates, {label}  classifiers reused median {r:.3f} s"
              f"  fitted each call {f:.3f} s  ratio {r / f:.3f}x")

    check, papers_only, first = [], [], []
    for _ in range(20 * args.rounds):
        check.append(timed(lambda: index.sync(log, embedder=emb, wait=False)))
        papers_only.append(timed(lambda: _sync.is_fresh(log, emb)))
    for _ in range(args.rounds):
        _candidates._CHECKED.clear()  # as in a new process: every candidate's text hash is compared once
        first.append(timed(lambda: index.sync(log, embedder=emb, wait=False)))
    c, p, f = (statistics.median(x) * 1000 for x in (check, papers_only, first))
    print(f"sync check before each search, {CANDIDATES} candidates, nothing changed  median {c:.3f} ms"
          f"  papers-only check {p:.3f} ms  ratio {c / p:.2f}x  (first check in a process {f:.1f} ms)")
    log.close()


if __name__ == "__main__":
    sys.exit(main())
