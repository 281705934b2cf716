"""Typeset the realistic PDF corpus (tests/fixtures/pdf/corpus/) and its ground truth, or a library of N papers.

    python bench/texcorpus/make_corpus.py                      # the fixtures: 16 papers, 4 layouts
    python bench/texcorpus/make_corpus.py --out DIR -n 40      # another corpus (ground truth beside each PDF)
    python bench/texcorpus/make_corpus.py --library 1800 DIR   # N PDFs quickly (no ground truth), for scale

Needs pdfLaTeX and Debian's TeX Live classes (``apt-get install texlive-latex-base texlive-latex-recommended
texlive-latex-extra texlive-publishers texlive-fonts-recommended``) and pypdfium2; the tests only read the
committed PDFs and JSON and need no TeX. What is printed comes from _content.py (made-up papers that cite each
other and outside papers) through the templates in _latex.py; the ground truth comes from the same source, except
the running header/footer lines, which are read back from each page's margins by position (everything printed
above or below the text block that LaTeX reports).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "texcorpus"

from ._content import LAYOUTS, MADE_UP, STARTER, Paper, library  # noqa: E402
from ._latex import render  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "pdf" / "corpus"
CORPUS_SIZE = 16
SEED = 25


class TexMissing(RuntimeError):
    """pdflatex is not installed."""


def typeset(tex: str, out_pdf: Path, *, runs: int = 1) -> str:
    """Run pdflatex ``runs`` times on ``tex`` in a temporary folder; write ``out_pdf``; return the .aux text."""
    if shutil.which("pdflatex") is None:
        raise TexMissing("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended "
                         "texlive-latex-extra texlive-publishers texlive-fonts-recommended)")
    with tempfile.TemporaryDirectory(prefix="texcorpus-") as tmp:
        src = Path(tmp) / "paper.tex"
        src.write_text(tex, encoding="utf-8")
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1600000000", "FORCE_SOURCE_DATE": "1"}
        for _ in range(runs):
            proc = subprocess.run(["pdflatex", "-interaction=batchmode", "-halt-on-error", "paper.tex"], cwd=tmp,
                                  capture_output=True, env=env)
            if proc.returncode != 0 or not (Path(tmp) / "paper.pdf").exists():
                log = (Path(tmp) / "paper.log").read_text(errors="replace")
                err = [ln for ln in log.splitlines() if ln.startswith("!")]
                raise RuntimeError(f"pdflatex failed on {out_pdf.name}: {err[:3]}")
        shutil.move(str(Path(tmp) / "paper.pdf"), out_pdf)
        return (Path(tmp) / "paper.aux").read_text(errors="replace")


def _pt(value: str) -> float:
    return float(value.strip().removesuffix("pt"))


def margin_lines(pdf_path: Path, aux: str) -> tuple[int, list[list[Any]]]:
    """(page count, [[page, text] ...]): every line printed above or below the text block (running heads,
    folios, footers), read by position with PDFium (the arXiv stamp sits beside the text block, not among them)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    m = re.search(r"\\gdef\s*\\textblock\{([^}]*)\}", aux)
    assert m, "the template did not record its text block"
    topmargin, headheight, headsep, textheight, voffset = (_pt(v) for v in m.group(1).split(","))
    top = 72.27 + voffset + topmargin + headheight + headsep  # TeX points from the top of the paper
    top, bottom = top * 72 / 72.27, (top + textheight) * 72 / 72.27  # to PDF points
    out: list[list[Any]] = []
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        count = len(pdf)
        for i in range(count):
            page = pdf[i]
            height = page.get_height()
            tp = page.get_textpage()
            n = tp.count_chars()
            text = "".join(chr(raw.FPDFText_GetUnicode(tp.raw, k) or 32) for k in range(n))
            lines: dict[int, list[tuple[float, float, float, str]]] = {}
            l, r, b, t = (ctypes.c_double() for _ in range(4))
            ox, oy = ctypes.c_double(), ctypes.c_double()
            for k, ch in enumerate(text):
                if ch.isspace() or not raw.FPDFText_GetCharBox(tp.raw, k, l, r, b, t):
                    continue
                base = oy.value if raw.FPDFText_GetCharOrigin(tp.raw, k, ox, oy) else b.value
                if top - 2 < height - base < bottom + 4:
                    continue
                size = raw.FPDFText_GetFontSize(tp.raw, k) or 8.0
                lines.setdefault(round(base), []).append((l.value, r.value, size, ch))
            tp.close()
            page.close()
            for y in sorted(lines, reverse=True):
                s = ""
                right = None
                for x0, x1, size, ch in sorted(lines[y]):
                    if right is not None and x0 - right > 0.2 * size:
                        s += " "
                    s += ch
                    right = x1
                out.append([i + 1, s.strip()])
    finally:
        pdf.close()
    return count, out


def _truth(paper: Paper, pieces: dict[str, Any], file: str, aux: str, pages: int, margins: list[list[Any]]
           ) -> dict[str, Any]:
    w = paper.work
    m = re.search(r"\\newlabel\{refstart\}\{\{[^}]*\}\{(\d+)\}", aux)
    return {"key": paper.key, "file": file, "layout": paper.layout, "pages": pages,
            "title": w.title, "authors": w.authors, "year": w.year,
            "arxiv_id": w.arxiv_id if paper.stamp else None, "arxiv_id_unprinted": w.arxiv_id,
            "doi": w.doi, "stamp": pieces["stamp"], "abstract": paper.abstract,
            "headings": pieces["headings"], "paragraphs": pieces["paragraphs"], "captions": pieces["captions"],
            "footnotes": pieces["footnotes"], "other_text": pieces["other"],
            "margin_lines": margins, "references_heading": pieces["references_heading"],
            "references_page": int(m.group(1)) if m else None, "references": pieces["references"]}


def build(paper: Paper, folder: Path) -> dict[str, Any]:
    tex, pieces = render(paper)
    name = f"{paper.key}-{paper.layout}.pdf"
    aux = typeset(tex, folder / name)
    pages, margins = margin_lines(folder / name, aux)
    return _truth(paper, pieces, name, aux, pages, margins)


def make_corpus(folder: str | os.PathLike[str] = FIXTURES, n: int = CORPUS_SIZE, *, seed: int = SEED,
                workers: int = 1) -> list[dict[str, Any]]:
    """Typeset ``n`` papers into ``folder`` with ``<key>.json`` ground truth beside each PDF and ``corpus.json``
    (the papers and the outside works they cite). Returns the ground truth of each paper."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    papers = library(n, seed=seed)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        truths = list(pool.map(lambda p: build(p, folder), papers))
    for t in truths:
        (folder / (Path(t["file"]).stem + ".json")).write_text(json.dumps(t, indent=1, ensure_ascii=False) + "\n",
                                                             encoding="utf-8")
    works = {p.key: vars(p.work) | {"file": f"{p.key}-{p.layout}.pdf"} for p in papers}
    works.update({w.key: vars(w) for w in STARTER + MADE_UP})
    works.update({c.work.key: vars(c.work) for p in papers for c in p.refs if c.work.key not in works})
    (folder / "corpus.json").write_text(json.dumps(
        {"seed": seed, "papers": [t["file"] for t in truths], "works": works}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8")
    return truths


def make_library(n: int, folder: str | os.PathLike[str], *, seed: int = 2400, workers: int | None = None
                 ) -> list[Path]:
    """``n`` distinct papers typeset by pdfLaTeX like conference papers (the four layouts in turn, stamps on
    half), as PDFs in ``folder``; papers already there (same seed and n) are kept, so a second call is instant.

    About 1 s of CPU per paper (two pdflatex runs): 1,800 papers take ~15 min on 2 cores the first time.

    Raises:
        TexMissing: pdflatex is not installed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    papers = library(n, seed=seed)
    todo = [p for p in papers if not (folder / f"{p.key}-{p.layout}.pdf").exists()]
    if todo and shutil.which("pdflatex") is None:
        raise TexMissing("pdflatex is not installed; see bench/texcorpus/make_corpus.py")

    def one(p: Paper) -> None:
        tex, _ = render(p)
        tmp = folder / f".{p.key}-{p.layout}.pdf.part"
        typeset(tex, tmp)
        tmp.replace(folder / f"{p.key}-{p.layout}.pdf")

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        list(pool.map(one, todo))
    return [folder / f"{p.key}-{p.layout}.pdf" for p in papers]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=FIXTURES)
    ap.add_argument("-n", type=int, default=CORPUS_SIZE)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--library", nargs=2, metavar=("N", "DIR"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.library:
        paths = make_library(int(args.library[0]), args.library[1], workers=args.workers)
        print(f"{len(paths)} PDFs in {args.library[1]} ({time.perf_counter() - t0:.0f} s)")
        return
    truths = make_corpus(args.out, args.n, seed=args.seed, workers=args.workers)
    size = sum((args.out / t["file"]).stat().st_size for t in truths)
    print(f"{len(truths)} papers ({', '.join(LAYOUTS)}) in {args.out}: {size / 1e6:.1f} MB "
          f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
