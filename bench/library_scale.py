"""A library of N conference papers (issue 24): import, search while the background indexer runs, fully indexed.

    python bench/library_scale.py            # 1,800 papers (~14,000 pages; hours on 2 CPU cores)
    python bench/library_scale.py --n 60     # the issue's 60-paper case

N papers typeset like conference papers (two columns, ~8 pages, section headings, a running header, page numbers,
a reference list; reportlab, deterministic) are imported with `reading import FOLDER/` in a fresh process, which
starts the background indexer. Reported, side by side in one run with the machine's load:

- time until keyword-searchable (the import command returning: the pages' FTS rows are in its transaction);
- the first full-text search (hybrid, the default) in a fresh process, against a cold `reading list`; the paper
  index's sync of the new papers (a paper-level search still waits for it);
- search latency while the indexer runs: p50/p95 in fresh processes and warm (in this process);
- time until fully indexed, the ingest rate in passages/s against the model's raw throughput on a sample of the
  same passages in this run (fp32 and bf16 interleaved, where the CPU has bf16), the indexer's peak RSS;
- the index's size on disk, the share of passages the reference lists would have added, search p50 at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ("network layer channel shuffle group convolution accuracy latency training dataset image feature "
         "residual block depthwise pointwise kernel stride batch normalization activation gradient optimizer "
         "learning rate schedule epoch augmentation transformer attention head token embedding encoder decoder "
         "pruning quantization distillation teacher student benchmark baseline ablation memory throughput device "
         "mobile efficient architecture search supernet sampling evolution reward controller cell operation "
         "detection segmentation classification retrieval ranking recall precision loss regularization dropout "
         "weight decay momentum initialization scaling width depth resolution compound budget flops parameters").split()
SECTIONS = ["1 Introduction", "2 Related Work", "3 Method", "3.1 Architecture", "3.2 Training", "4 Experiments",
            "4.1 Ablation", "4.2 Comparison", "5 Conclusion"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
    return " ".join(words).capitalize() + "."


def make_conference_pdf(path: Path, seed: int, pages: int = 8) -> str:
    """A two-column paper of `pages` pages: title, authors, sections, a reference list on the last page(s), a
    running header and a page number on every page. Returns its title."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} for {rng.choice(WORDS)} {rng.choice(WORDS)} " \
            f"networks {seed}"
    w, h = letter
    margin, gutter, size, lead = 54.0, 18.0, 9.5, 11.5
    col_w = (w - 2 * margin - gutter) / 2
    rows = int((h - 2 * margin - 20) // lead)
    lines: list[tuple[str, str]] = []  # (font, text)

    def flow(text: str, font: str = "Times-Roman") -> None:
        cur: list[str] = []
        for word in text.split():
            if cur and stringWidth(" ".join([*cur, word]), font, size) > col_w:
                lines.append((font, " ".join(cur)))
                cur = []
            cur.append(word)
        if cur:
            lines.append((font, " ".join(cur)))

    body_lines = 2 * rows * (pages - 1) - 10
    per_section = body_lines // len(SECTIONS)
    for section in SECTIONS:
        flow(section, "Times-Bold")
        start = len(lines)
        while len(lines) - start < per_section:
            flow(" ".join(_sentence(rng) for _ in range(5)))
        lines.append(("Times-Roman", ""))
    flow("References", "Times-Bold")
    for n in range(1, 31):
        flow(f"[{n}] {rng.choice(WORDS).capitalize()}, {rng.choice(WORDS).capitalize()}. "
             f"{_sentence(rng)} In Proc. CVPR, pages {n * 10}-{n * 10 + 9}, 20{10 + n % 14}.")
    c = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    c.setTitle(title)
    i, page = 0, 0
    while i < len(lines):
        page += 1
        c.setFont("Times-Italic", 8)
        c.drawString(margin, h - margin + 12, f"Conference on Efficient Networks {2020 + seed % 5}")
        c.drawCentredString(w / 2, margin - 24, str(page))
        top = h - margin - 10
        if page == 1:
            c.setFont("Times-Bold", 16)
            c.drawString(margin, top - 6, title)
            c.setFont("Times-Roman", 11)
            c.drawString(margin, top - 26, f"A. Author{seed}, B. Writer")
            top -= 44
        per_col = int((top - margin) // lead)
        for col in range(2):
            for row in range(per_col):
                if i >= len(lines):
                    break
                font, text = lines[i]
                i += 1
                if text:
                    c.setFont(font, size)
                    c.drawString(margin + col * (col_w + gutter), top - row * lead, text)
        c.showPage()
    c.save()
    return title


def _cli(db: Path, *args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reading", "--db", str(db), *args], env=env, capture_output=True,
                          text=True, check=False)
    return time.perf_counter() - start, done


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


_RAW = """
import json, sys, time
import index
texts = json.load(open(sys.argv[1]))
emb = index.OnnxEmbedder(index.DEFAULT_MODEL)
emb.encode(texts[:32], batch_size=32)
start = time.perf_counter()
emb.encode(texts, batch_size=32)
print(json.dumps([len(texts) / (time.perf_counter() - start), emb.ingest_path]))
"""


def _raw_rates(texts: list[str], rounds: int) -> dict[str, Any]:
    """Passages/s of the model alone on `texts` (batch 32, the indexer's path), per precision the CPU offers: each
    in a fresh process (OpenVINO's idle workers would slow the other engine in this one), rounds interleaved."""
    import json

    from index import _onnx

    precisions = ["fp32", "bf16"] if _onnx.cpu_has_bf16() else ["fp32"]
    rates: dict[str, list[float]] = {p: [] for p in precisions}
    out: dict[str, Any] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(texts, fh)
    try:
        for _ in range(rounds):
            for p in precisions:
                env = {**os.environ, _onnx.PRECISION_ENV: p,
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
                done = subprocess.run([sys.executable, "-c", _RAW, fh.name], env=env, capture_output=True, text=True,
                                      check=True)
                rate, path = json.loads(done.stdout.strip().splitlines()[-1])
                rates[p].append(rate)
                out[f"{p}_path"] = path
    finally:
        os.unlink(fh.name)
    return out | {p: statistics.median(r) for p, r in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1800, help="papers (default 1,800)")
    parser.add_argument("--pages", type=int, default=8, help="pages per paper")
    parser.add_argument("--searches", type=int, default=5, help="fresh-process searches while indexing")
    parser.add_argument("--sample", type=int, default=128, help="passages for the raw-throughput measurement")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    import index
    import paperzoo
    from reading import open_log
    from reading._fulltext import split_passages

    work = Path(tempfile.mkdtemp(prefix="library-scale-"))
    folder = work / "papers"
    folder.mkdir()
    t0 = time.perf_counter()
    titles = [make_conference_pdf(folder / f"paper{i:05d}.pdf", i, args.pages) for i in range(args.n)]
    print(f"# {args.n} PDFs typeset in {time.perf_counter() - t0:.0f} s under {work}", file=sys.stderr)
    db = work / "library.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "INDEX_BACKGROUND": "1"}
    print(f"library scale  n={args.n} papers x {args.pages} pages  cores {os.cpu_count()}  "
          f"load at start {os.getloadavg()[0]:.1f}")

    from reading import _pdf

    probe = [f"{t}\n\n{text}" for t, path in zip(titles, sorted(folder.glob("*.pdf")))
             for text in _pdf.extract(path).pages[1:3]][: args.sample]
    raw_before = _raw_rates(probe, rounds=1)
    t_import, done = _cli(db, "import", str(folder), env=env)
    started_at = time.perf_counter()
    if done.returncode:
        raise SystemExit(f"import failed: {done.stderr.strip()[-400:]}")
    query = " ".join(titles[len(titles) // 2].split()[:4])
    t_first, first = _cli(db, "search", query, "--fulltext", "-k", "10", env=env)
    t_list, _ = _cli(db, "list", "--limit", "5", env=env)
    waiting_line = next((ln for ln in first.stderr.splitlines() if "not yet searchable" in ln), "(nothing waiting)")
    log = open_log(db)
    pages_total = len(log.page_refs())
    print(f"keyword-searchable after  {t_import:.1f} s  (reading import of {args.n} PDFs, {pages_total} pages)")
    print(f"first full-text search    {t_first:.2f} s in a fresh process; cold `reading list` {t_list:.2f} s; "
          f"above it {t_first - t_list:+.2f} s  (load {os.getloadavg()[0]:.1f})")
    print(f"  it said: {waiting_line}")
    emb = index.get_embedder(log=log)
    emb.encode(["warm up the query encoder"])
    papers_only = open_log(work / "papers-only.db")  # the same papers without PDFs: the indexer is not at it
    for paper in log.papers():
        papers_only.add(title=paper["title"], abstract=paper.get("abstract") or None, fetch=False)
    start = time.perf_counter()
    index.sync(papers_only, embedder=emb, progress=False)  # what a paper-level search would wait for
    t_sync = time.perf_counter() - start
    papers_only.close()
    print(f"paper index sync          {t_sync:.2f} s for {args.n} new papers (model loaded): "
          f"{100 * t_sync / args.n:.2f} s per 100; a search embeds up to {index.FOREGROUND_PAPERS} itself, "
          f"the indexer the rest  (load {os.getloadavg()[0]:.1f})")

    folder_p = index.passages_dir(db)
    peak: float | None = None
    fresh: list[float] = []
    warm: list[float] = []
    queries = [" ".join(t.split()[:3]) for t in titles[: max(5, args.searches * 2)]]
    paperzoo.search(log, queries[0], 10, embedder=emb, fulltext=True)  # load the query encoder
    status = index.indexing_status(log)
    while status["pages_waiting"] and (status["running"] or time.perf_counter() - started_at < 30):
        pid = (index._store.read_status(folder_p) or {}).get("pid")
        if pid:
            rss = _peak_rss_mb(int(pid))
            peak = max(peak or 0.0, rss or 0.0)
        if len(fresh) < args.searches:
            fresh.append(_cli(db, "search", queries[len(fresh)], "--fulltext", "-k", "10", env=env)[0])
        q = queries[len(warm) % len(queries)]
        start = time.perf_counter()
        paperzoo.search(log, q, 10, embedder=emb, fulltext=True)
        warm.append(time.perf_counter() - start)
        time.sleep(0.5)
        status = index.indexing_status(log)
    t_indexed = time.perf_counter() - started_at
    if fresh:
        print(f"search while indexing     fresh process p50 {statistics.median(fresh):.2f} s  p95 "
              f"{_pct(fresh, 0.95):.2f} s ({len(fresh)});  warm p50 {1000 * statistics.median(warm):.0f} ms  p95 "
              f"{1000 * _pct(warm, 0.95):.0f} ms ({len(warm)})")
    status = index.indexing_status(log)
    rows = log.passage_texts()
    manifest = index._store.read_manifest(folder_p) or {}
    rate = len(rows) / t_indexed
    print(f"fully indexed after       {t_indexed:.0f} s from the import's end: {len(rows)} passages, {rate:.1f} "
          f"passages/s ({manifest.get('ingest_path')}); waiting {status['pages_waiting']}  (load "
          f"{os.getloadavg()[0]:.1f})")
    peak = max(peak or 0.0, float(manifest.get("ingest_peak_rss_mb") or 0.0))  # as the indexer recorded it
    print(f"indexer peak RSS          {peak:.0f} MB")

    rng = random.Random(0)
    titles_by_id = log.paper_titles({r[1] for r in rows})
    sample = [f"{titles_by_id.get(r[1], '')}\n\n{r[4]}" for r in rng.sample(rows, min(args.sample, len(rows)))]
    raw_after = _raw_rates(sample, rounds=1)
    raw = {p: (raw_before[p] + raw_after[p]) / 2 for p in ("fp32", "bf16") if p in raw_after}
    for name, r in (("before the import", raw_before), ("after indexing", raw_after)):
        parts = "  ".join(f"{p} {r[p]:.1f}/s ({r[p + '_path']})" for p in ("fp32", "bf16") if p in r)
        print(f"model raw throughput      {name}: {parts}")
    default = "bf16" if "bf16" in str(manifest.get("ingest_path")) else "fp32"
    print(f"ingest / raw ({default}, mean of both)  {rate / raw[default]:.2f}x" + (
        f";  bf16 raw / fp32 raw {raw['bf16'] / raw['fp32']:.2f}x" if "bf16" in raw else "")
        + f"  (load {os.getloadavg()[0]:.1f})")

    size = sum(f.stat().st_size for f in folder_p.rglob("*") if f.is_file())
    raw_pages = _raw_page_texts(log)
    naive = sum(len(split_passages(text)) for text in raw_pages)
    raw_words = sum(len(text.split()) for text in raw_pages)
    kept_words = sum(len(r[4].split()) for r in rows)
    print(f"index on disk             {size / 1e6:.1f} MB")
    print(f"embedded less             {len(rows)} passages where the PDFs' raw page text makes {naive}: "
          f"{100 * (1 - len(rows) / naive):.1f}% fewer; words {100 * (1 - kept_words / raw_words):.1f}% fewer "
          f"(reference lists, running headers, page numbers)")
    end: list[float] = []
    for q in queries * 2:
        start = time.perf_counter()
        paperzoo.search(log, q, 10, embedder=emb, fulltext=True)
        end.append(time.perf_counter() - start)
    print(f"search at the end         warm p50 {1000 * statistics.median(end):.0f} ms  p95 "
          f"{1000 * _pct(end, 0.95):.0f} ms (hybrid, k=10)  (load {os.getloadavg()[0]:.1f})")
    log.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _raw_page_texts(log) -> list[str]:
    """Every page's text as PDFium gives it, before the log's reading of the layout (headers, references kept)."""
    import pypdfium2 as pdfium

    out = []
    for pdf in (d for paper in sorted(set(log.page_refs().values())) for d in log.pdfs(paper)):
        doc = pdfium.PdfDocument(pdf["path"])
        try:
            for page in doc:
                out.append(page.get_textpage().get_text_range())
        finally:
            doc.close()
    return out


if __name__ == "__main__":
    main()
