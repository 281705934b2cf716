"""Full-text speed: PDF extraction (pages/s), passage ingest against the embedder's raw throughput, and passage
search at 100,000 passages (p50 including query encoding; HNSW recall@10 against exact search).

    python bench/fulltext_speed.py [--part extract|ingest|search] [--passages 100000]

Texts come from CSFCube abstracts (../shared/data/csfcube, CC BY-NC 4.0). Extraction reads the committed
LaTeX-typeset fixtures and reportlab-made two-column pages dense with text. Ingest embeds the same passage texts
with the real model twice, raw (`embedder.encode`) and through `index.sync_passages` (chunks saved, index built),
interleaved, and reports the ratio of throughputs. The 100,000-passage index is built through the product path
(`index.sync_passages`) from pages written into a log, with vectors for the synthetic passages drawn around real
embeddings of CSFCube papers (an embedder standing in for the model during the build only: embedding 100,000
passages on 2 CPU cores takes about an hour); queries are real CSFCube titles encoded by the real model, timed
end to end through `index.search(..., fulltext=True)`.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _index_data as data  # noqa: E402
from fulltext_pdfgen import make_paper_pdf  # noqa: E402

import index  # noqa: E402
from index import _passages, _store, _vectors  # noqa: E402
from reading import _db, open_log  # noqa: E402
from reading._pdf import extract  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pdf"


def _load() -> str:
    return os.getloadavg()[0].__format__(".1f")


def bench_extract(corpus: list[dict], work: Path) -> None:
    words = " ".join(p["abstract"] for p in corpus[:400]).split()
    pdfs = []
    for i in range(8):  # 8 two-column papers of ~6 dense pages each
        body = [" ".join(words[j:j + 150]) for j in range(i * 4000, (i + 1) * 4000, 150)]
        pdfs.append(make_paper_pdf(work / f"dense{i}.pdf", title=corpus[i]["title"], authors=["A. Author"],
                                   body=body, columns=2, size=9))
    latex = [FIXTURES / "twocolumn.pdf", FIXTURES / "onecolumn.pdf"] * 10
    for name, files in (("reportlab two-column, ~800 words/page", pdfs), ("pdfLaTeX fixtures", latex)):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            pages = sum(extract(f).page_count for f in files)
            runs.append(pages / (time.perf_counter() - t0))
        chars = sum(len(p) for p in extract(files[0]).pages) / extract(files[0]).page_count
        print(f"fulltext extract  {name:<38} {pages} pages  {max(runs):6.1f} pages/s (best of 3; median "
              f"{statistics.median(runs):.1f})  {chars:.0f} chars/page  target >= 20  load {_load()}")


def _pdf_log(path: Path, corpus: list[dict], n_papers: int, words_per_page: int, pages_per_paper: int):
    """A log with ``n_papers`` papers, each with a PDF of pages of CSFCube sentences (written without PDFs: the
    pages go straight into the log, as extraction would store them)."""
    rng = random.Random(0)
    sentences = [s.strip() + "." for p in corpus for s in p["abstract"].split(". ") if len(s.split()) > 4]
    log = open_log(path)
    with log._write():
        for i in range(n_papers):
            title = corpus[i % len(corpus)]["title"]
            pid = log._insert({"title": f"{title} [{i}]"}, manual=[], needs_refresh=False, status="to-read",
                              rating=None, source="pdf")
            pages = []
            for _ in range(pages_per_paper):
                text: list[str] = []
                while len(text) < words_per_page:
                    text += rng.choice(sentences).split()
                pages.append(" ".join(text[:words_per_page]))
            sha = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
            _db.insert_pdf(log.conn, {"sha256": sha, "paper_id": pid, "file_name": f"{i}.pdf", "size": 1,
                                      "page_count": pages_per_paper, "has_text": 1, "added_at": "2026-01-01"}, pages)
    return log


def bench_ingest(corpus: list[dict], work: Path, rounds: int = 6) -> None:
    embedder = index.get_embedder()
    log = _pdf_log(work / "ingest.db", corpus, n_papers=20, words_per_page=400, pages_per_paper=5)
    titles = log.paper_titles(log.page_refs().values())
    texts = [_passages._embed_text(titles[paper], text) for _, paper, _, _, text, *_ in log.passage_texts()]
    embedder.encode(texts[:64])  # load the model and warm up
    raws, syncs = [], []
    for i in range(rounds):  # interleaved, alternating which goes first: on a shared machine load drifts
        def raw() -> None:
            t0 = time.perf_counter()
            embedder.encode(texts, batch_size=32)
            raws.append(len(texts) / (time.perf_counter() - t0))

        def product() -> None:
            t0 = time.perf_counter()
            report = index.sync_passages(log, embedder=embedder, full=True, progress=False)
            syncs.append(report.embedded / (time.perf_counter() - t0))
            assert report.embedded == len(texts)

        for step in ((raw, product) if i % 2 == 0 else (product, raw)):
            step()
    ratios = [s / r for s, r in zip(syncs, raws)]
    print(f"fulltext ingest   {len(texts)} passages x {rounds} rounds ({embedder.name}, CPU)  raw "
          f"{statistics.median(raws):.1f}/s  sync_passages {statistics.median(syncs):.1f}/s  ratio median "
          f"{statistics.median(ratios):.3f}x (rounds {', '.join(f'{r:.2f}' for r in ratios)})  target >= 0.9x  "
          f"load {_load()}")
    log.close()


class _AroundReal:
    """Stands in for the model while the 100,000-passage index is built: each passage's vector is its paper's real
    embedding (CSFCube title + abstract) plus noise, so the index has the clustered shape of real text."""

    def __init__(self, name: str, seeds: np.ndarray, paper_seed: dict[str, int], noise: float = 0.045) -> None:
        self.name, self.dim = name, int(seeds.shape[1])
        self.seeds, self.paper_seed, self.noise = seeds, paper_seed, noise

    def encode(self, texts, *, batch_size: int = 32) -> np.ndarray:
        out = np.empty((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            title = text.split("\n\n", 1)[0]
            rng = np.random.default_rng(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little"))
            out[row] = self.seeds[self.paper_seed[title]] + rng.normal(0, self.noise, self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def bench_search(corpus: list[dict], work: Path, passages: int, time_it: bool = True) -> None:
    real = data.CachedEmbedder(index.get_embedder())
    n_papers = 1000
    seeds = real.encode([f"{p['title']}\n\n{p['abstract']}" for p in corpus[:n_papers]], batch_size=32)
    pages_per_paper = passages // (2 * n_papers)
    t0 = time.perf_counter()
    if (work / "search.db").exists():  # --work DIR of an earlier run: the log and its passage index are reused
        log = open_log(work / "search.db")
    else:
        log = _pdf_log(work / "search.db", corpus, n_papers=n_papers, words_per_page=400,
                       pages_per_paper=pages_per_paper)
    titles = log.paper_titles(range(1, n_papers + 1))
    fake = _AroundReal(real.name, seeds, {t: pid - 1 for pid, t in titles.items()})
    print(f"# {n_papers} papers x {pages_per_paper} pages in the log ({time.perf_counter() - t0:.0f} s)",
          file=sys.stderr)
    t0 = time.perf_counter()
    report = index.sync_passages(log, embedder=fake, progress=True)
    build = time.perf_counter() - t0
    if not time_it:
        print(f"# passage index of {report.total} built in {build:.0f} s", file=sys.stderr)
        log.close()
        return
    folder = _passages.passages_dir(log.path)
    manifest = _store.read_manifest(folder)
    hnsw, _ = _store.read_index(folder, manifest)
    ids, vecs = _vectors.extract(hnsw)
    exact = _vectors.build(ids, vecs, vecs.shape[1], "flat")

    queries = [q["title"] for q in data.load_queries()]
    qvecs = real.inner.encode(queries, batch_size=32)
    got = _vectors.search(hnsw, qvecs, _passages.HNSW_BREADTH)[1][:, :10]  # as index.search asks (its breadth)
    truth = _vectors.search(exact, qvecs, 10)[1]
    recall = float(np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth)]))

    embedder = real.inner  # the real model encodes each query inside the timed call
    for mode in ("dense", "hybrid", "keyword"):
        index.search(log, queries[0], k=10, fulltext=True, mode=mode, embedder=embedder)  # warm
        times = []
        for _ in range(3):
            for q in queries:
                t0 = time.perf_counter()
                hits = index.search(log, q, k=10, fulltext=True, mode=mode, embedder=embedder)
                times.append((time.perf_counter() - t0) * 1000)
                assert hits
        times.sort()
        p50, p90 = times[len(times) // 2], times[int(len(times) * 0.9)]
        print(f"fulltext search   {report.total} passages ({manifest['kind']})  {mode:<7} p50 {p50:6.1f} ms  "
              f"p90 {p90:6.1f} ms  (incl. query encoding, {len(times)} queries)"
              + (f"  recall@10 vs exact {recall:.3f}  (build {build:.0f} s)" if mode == "dense" else "")
              + f"  target p50 <= 50 ms  load {_load()}")
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("extract", "ingest", "search"), action="append")
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--work", type=Path, help="Keep the logs and indexes here (a rerun reuses them).")
    parser.add_argument("--no-time", action="store_true", help="Build the 100,000-passage index only.")
    data.add_data_option(parser)
    args = parser.parse_args()
    data.use_data(args.data)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    corpus = data.load_corpus()
    parts = args.part or ["extract", "ingest", "search"]
    with tempfile.TemporaryDirectory(prefix="fulltext-speed-") as tmp:
        work = Path(tmp)
        if "extract" in parts:
            bench_extract(corpus, work)
        if "ingest" in parts:
            bench_ingest(corpus, work)
        if "search" in parts:
            if args.work:
                args.work.mkdir(parents=True, exist_ok=True)
            bench_search(corpus, args.work or work, args.passages, time_it=not args.no_time)


if __name__ == "__main__":
    main()
