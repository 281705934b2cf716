"""Full-text quality on CSFCube: does searching the passages of PDFs find the same papers as searching abstracts?

Each of the 4,205 CSFCube papers becomes a PDF of its title and abstract, laid out three ways in turn: one column
at 10 pt (one page), two columns at 10 pt, and one column at 20 pt (the abstract runs over two or three pages).
The folder is imported through the command line (`reading import FOLDER/`), so extraction, identification, page
storage and the passage index all run as a user's would. For each of the 50 CSFCube queries (a query paper: its
title and abstract as the query text, the paper itself left out), papers are ranked two ways:

- abstract level: `index.search` over a log holding the same 4,205 papers typed in (title + abstract);
- page level: `index.search(..., fulltext=True)` over the imported PDFs, a paper ranked by its best passage;

and scored with nDCG@10 against CSFCube's graded judgments. Target: page-level / abstract-level >= 0.95.

    python bench/fulltext_quality.py [--limit N]

The first run embeds 4,205 abstracts and the passages (several minutes on 2 CPU cores); vectors are cached under
$TMPDIR/paper-zoo-bench.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _index_data as data  # noqa: E402
from fulltext_pdfgen import make_paper_pdf  # noqa: E402
from search_quality import ndcg10  # noqa: E402

import index  # noqa: E402
from reading import normalise_title, open_log  # noqa: E402

LAYOUTS = (("one column 10 pt", {"columns": 1, "size": 10.0}),
           ("two columns 10 pt", {"columns": 2, "size": 10.0}),
           ("one column 20 pt", {"columns": 1, "size": 20.0}))
MODES = ("dense", "keyword", "hybrid")


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def make_pdfs(corpus: list[dict], folder: Path) -> dict[str, str]:
    """One PDF per paper (file name = CSFCube pid); returns pid -> layout name."""
    layout_of = {}
    for i, paper in enumerate(corpus):
        name, opts = LAYOUTS[i % len(LAYOUTS)]
        sentences = [s.strip() for s in paper["abstract"].replace("\n", " ").split(". ") if s.strip()]
        paragraphs = [". ".join(sentences[j:j + 3]) + "." for j in range(0, len(sentences), 3)] or [""]
        make_paper_pdf(folder / f"{paper['pid']}.pdf", title=paper["title"], body=paragraphs, **opts)
        layout_of[paper["pid"]] = name
    return layout_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="Only the first N papers (a quick run; not the target figure).")
    data.add_data_option(parser)
    args = parser.parse_args()
    data.use_data(args.data)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    corpus, queries, qrels = data.load_corpus(), data.load_queries(), data.load_qrels()
    if args.limit:
        keep = {q["pid"] for q in queries} | {pid for g in qrels.values() for pid in g}
        corpus = [p for p in corpus if p["pid"] in keep][: args.limit]
        pids = {p["pid"] for p in corpus}
        queries = [q for q in queries if q["pid"] in pids]
    work = Path(tempfile.mkdtemp(prefix="fulltext-quality-"))
    folder = work / "pdfs"
    folder.mkdir()
    t0 = time.perf_counter()
    make_pdfs(corpus, folder)
    print(f"# {len(corpus)} PDFs written in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    db_pdf = work / "pdfs.db"
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reading", "--db", str(db_pdf), "import", str(folder)],
                          capture_output=True, text=True, check=True)
    imported = time.perf_counter() - t0
    print(f"# reading import: {done.stdout.strip()} ({imported:.0f} s)", file=sys.stderr)
    log_pdf = open_log(db_pdf)
    # the PDF's title (largest-font lines) is the paper's name; map back to CSFCube pids by the title key
    by_title: dict[str, list[str]] = {}
    for paper in corpus:
        by_title.setdefault(normalise_title(paper["title"]), []).append(paper["pid"])
    sha_pid: dict[str, str] = {}  # a PDF (by hash) -> its CSFCube pid; papers sharing a title share a log entry
    title_ok = 0
    for paper in log_pdf.papers():
        for pdf in log_pdf.pdfs(paper["id"]):
            pid = Path(pdf["file_name"]).stem
            sha_pid[pdf["sha256"]] = pid
            title_ok += pid in by_title.get(normalise_title(paper["title"]), [])
    print(f"fulltext quality  titles from the first page's largest lines: {title_ok}/{len(corpus)} exact "
          f"(after normalisation); {len(sha_pid)} PDFs stored as {log_pdf.count()} papers (same title = one "
          "paper)", flush=True)

    db_abs = work / "abstracts.db"
    log_abs = open_log(db_abs)
    abs_pid = {lid: pid for pid, lid in data.fill_log(log_abs, corpus).items()}

    emb = data.CachedEmbedder(index.get_embedder())
    t0 = time.perf_counter()
    index.sync(log_abs, embedder=emb, progress=True)
    index.sync_passages(log_pdf, embedder=emb, progress=True)
    n_passages = len(log_pdf.passage_texts())
    print(f"# embedded {log_abs.count()} abstracts and {n_passages} passages in {time.perf_counter() - t0:.0f} s",
          file=sys.stderr)

    text_of = {p["pid"]: f"{p['title']}\n\n{p['abstract']}" for p in corpus}
    by_query = sorted({q["pid"] for q in queries})
    results: dict[str, dict[str, list[float]]] = {m: {"abstract": [], "page": []} for m in MODES}
    for mode in MODES:
        for qpid in by_query:
            query = text_of[qpid]
            flat = index.search(log_abs, query, k=11, mode=mode, embedder=emb)
            abstract_rank = [abs_pid[h["id"]] for h in flat if abs_pid[h["id"]] != qpid][:10]
            passages = index.search(log_pdf, query, k=200, mode=mode, embedder=emb, fulltext=True)
            page_rank: list[str] = []
            for hit in passages:
                pid = sha_pid.get(hit["sha256"])
                if pid and pid != qpid and pid not in page_rank:
                    page_rank.append(pid)
            for q in (q for q in queries if q["pid"] == qpid):
                grades = qrels.get(q["qid"], {})
                results[mode]["abstract"].append(ndcg10(abstract_rank, grades))
                results[mode]["page"].append(ndcg10(page_rank[:10], grades))
    n_q = len(results["dense"]["abstract"])
    for mode in MODES:
        a = sum(results[mode]["abstract"]) / n_q
        p = sum(results[mode]["page"]) / n_q
        print(f"fulltext quality  csfcube {n_q} queries  {mode:<7}  nDCG@10 abstract-level {a:.4f}  page-level "
              f"{p:.4f}  ratio {p / a:.3f}x  target >= 0.95  ({len(corpus)} PDFs in 3 layouts, {n_passages} "
              f"passages; load {_load()})", flush=True)
    log_pdf.close()
    log_abs.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
