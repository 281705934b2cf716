"""How well PDF extraction reads papers typeset the way conferences typeset them, per layout.

The corpus is tests/fixtures/pdf/corpus/ (16 papers typeset by pdfLaTeX with IEEEtran, acmart sigconf, llncs and a
NeurIPS-like article; see bench/texcorpus/make_corpus.py); its ground truth comes from the LaTeX source. Each PDF
goes through ``reading._pdf.extract()`` (and, for sections, through a temporary log's ``passage_texts``). Figures,
with the targets of issue 25:

- title: the extracted title equals the printed one (whitespace aside) — target 100%;
- authors: names found exactly, over max(printed, found) — target >= 95%;
- reading order: normalised edit similarity (difflib, on words) between the body as written (abstract and
  paragraphs in order) and the extracted text, lines that belong to nothing of the body (captions, tables,
  equations, footnotes, headings, references, running heads) left out — target >= 0.97 on every layout (the mean
  and the worst paper are shown);
- headers/footers left: running-head, footer and page-number lines (read from each page's margins) and arXiv
  stamps still in the text, over all of them — target <= 1%;
- section: passages whose ``section`` is the heading in force where the passage starts — target >= 95% (n/a until
  ``passage_texts`` returns sections);
- reference section: papers whose reference section is found on the right page, at the heading's line (n/a until
  ``PdfText.layout`` has ``refs_from``) — target 100%;
- reference entries: printed entries that come out as one entry (similarity >= 0.9; n/a until
  ``PdfText.references`` exists).

    python bench/fulltext_extraction.py [--corpus DIR] [--no-sections] [--show c00]
    python bench/fulltext_extraction.py --seed 7 [-n 24]   # a held-out corpus typeset now (needs TeX Live)
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "pdf" / "corpus"
TARGETS = {"title": 1.0, "authors": 0.95, "order": 0.97, "margins": 0.01, "section": 0.95, "refsec": 1.0,
           "entries": 0.95}
_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-cased letters-and-digits runs (punctuation, quotes and dashes are not compared)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _TOKEN.findall(text)


def _squash(text: str) -> str:
    return "".join(tokens(text))


def similarity(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a or b else 1.0


def load(corpus: Path) -> list[dict[str, Any]]:
    index = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    return [json.loads((corpus / (Path(f).stem + ".json")).read_text(encoding="utf-8")) for f in index["papers"]]


# --- figures per paper ---------------------------------------------------------------------------------------------


def body_lines(truth: dict[str, Any], pages: list[str]) -> list[str]:
    """The extracted lines that carry body text: a line is dropped when none of its word trigrams is in the body
    (or, for lines of one or two words, when they are not in the body) or when it lies inside something else that
    is printed (a caption, a footnote, a reference, a heading, a running head)."""
    body = [tokens(p["text"]) for p in truth["paragraphs"]]
    flat = " " + " ".join(" ".join(b) for b in body) + " "
    grams = {tuple(b[i:i + 3]) for b in body for i in range(len(b) - 2)}
    others = [truth["title"], *truth["authors"], *truth["captions"], *truth["footnotes"], *truth["headings"],
              *truth["other_text"], *(r["text"] for r in truth["references"]), *(m[1] for m in truth["margin_lines"])]
    other_flat = " | ".join(" ".join(tokens(o)) for o in others)
    kept = []
    for page in pages:
        for line in page.split("\n"):
            t = tokens(line)
            if not t:
                continue
            joined = " " + " ".join(t) + " "
            if len(t) >= 3:
                in_body = any(tuple(t[i:i + 3]) in grams for i in range(len(t) - 2))
            else:
                in_body = joined in flat
            if in_body and joined.strip() in other_flat and joined not in flat:
                in_body = False
            if in_body:
                kept.append(line)
    return kept


def order_score(truth: dict[str, Any], pages: list[str]) -> float:
    want = [t for p in truth["paragraphs"] for t in tokens(p["text"])]
    got = [t for line in body_lines(truth, pages) for t in tokens(line)]
    return similarity(want, got)


def margins_left(truth: dict[str, Any], pages: list[str]) -> tuple[int, int]:
    """(margin lines still in the text, margin lines printed); the arXiv stamp counts as one line of page 1."""
    body = " " + " ".join(t for p in truth["paragraphs"] for t in tokens(p["text"])) + " "
    left = total = 0
    for page, text in truth["margin_lines"]:
        total += 1
        lines = [tokens(x) for x in pages[page - 1].split("\n")] if page <= len(pages) else []
        want = tokens(text)
        if len(want) >= 2 or not want[0].isdigit():
            flat = " " + " ".join(" ".join(x) for x in lines) + " "
            left += (" " + " ".join(want) + " ") in flat
            continue
        n = want[0]  # a page number: a line of its own, or glued to the start or end of a body line
        raw = [x.strip() for x in pages[page - 1].split("\n")] if page <= len(pages) else []
        for line, x in zip(raw, lines):
            if line == n:
                left += 1
                break
            glued = line.startswith(n + " ") or line.endswith(" " + n)
            if glued and len(x) > 3:  # the rest must be a stretch of body text (not "σ 2 + ϵ" of an equation)
                rest = x[1:] if line.startswith(n + " ") else x[:-1]
                if (" " + " ".join(x) + " ") not in body and (" " + " ".join(rest) + " ") in body:
                    left += 1
                    break
    if truth.get("stamp"):
        total += 1
        stamp = truth["stamp"].split()[0].split(":")[-1]  # the id and version, "2103.91234v1"
        left += any(stamp.split("v")[0].replace(".", "") in _squash(x) and "arxiv" in x.lower()
                    for x in pages[0].split("\n")) if pages else 0
    return left, total


def _paragraph_of(truth: dict[str, Any]) -> tuple[dict[tuple[str, ...], list[int]], list[str]]:
    where: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, p in enumerate(truth["paragraphs"]):
        t = tokens(p["text"])
        for j in range(len(t) - 2):
            where[tuple(t[j:j + 3])].append(i)
    return where, [p["section"] for p in truth["paragraphs"]]


def section_score(truth: dict[str, Any], passages: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """(passages whose section is right, passages placed in the ground truth).

    A passage is placed in the paragraph where its body text starts (a figure's text or a caption may come
    first), by the word triples its first 40 body words share with each paragraph. The made-up text repeats
    sentences, so the placement of all passages is chosen together: in reading order (each in the same paragraph
    as the one before or a later one), sharing the most triples in all (dynamic programming).
    """
    where, sections = _paragraph_of(truth)
    placed: list[tuple[str, dict[int, int]]] = []
    for text, section in passages:
        t = tokens(text)
        start = next((j for j in range(len(t) - 2) if tuple(t[j:j + 3]) in where), 0)
        t = t[start:start + 40]
        votes: dict[int, int] = defaultdict(int)
        for j in range(len(t) - 2):
            for i in set(where.get(tuple(t[j:j + 3]), ())):
                votes[i] += 1
        if votes:
            placed.append((section, dict(votes)))
    m = len(sections)
    # best[k][i]: the most triples for passages 0..k with passage k in paragraph i (paragraphs never go back)
    best = [[0.0] * m for _ in placed]
    back = [[0] * m for _ in placed]
    for k, (_, votes) in enumerate(placed):
        run, arg = float("-inf"), 0
        for i in range(m):
            if k and best[k - 1][i] > run:
                run, arg = best[k - 1][i], i
            best[k][i] = (run if k else 0.0) + votes.get(i, -0.5)  # a paragraph it shares nothing with costs
            back[k][i] = arg
    right = 0
    if placed:
        i = max(range(m), key=lambda j: (best[-1][j], -j))
        for k in range(len(placed) - 1, -1, -1):
            want = _squash(sections[i])
            got = _squash(placed[k][0])
            right += got == want or (not want and got in ("", "abstract"))
            i = back[k][i]
    return right, len(placed)


def refsec_found(truth: dict[str, Any], doc: Any) -> bool | None:
    layout = getattr(doc, "layout", None)
    if layout is None:
        return None
    for page, lay in enumerate(layout, start=1):
        start = getattr(lay, "refs_from", None) if not isinstance(lay, dict) else lay.get("refs_from")
        if start is None:
            continue
        if page != truth["references_page"]:
            return False
        lines = doc.pages[page - 1].split("\n")
        if start >= len(lines):
            return False
        line = _squash(lines[start])
        first = _squash(truth["references"][0]["text"])
        return line == _squash(truth["references_heading"]) or (bool(line) and first.startswith(line[:20])) or (
            bool(line) and line.lstrip("0123456789").startswith(first[:15]))
    return False


def entries_right(truth: dict[str, Any], doc: Any) -> tuple[int, int] | None:
    refs = getattr(doc, "references", None)
    if refs is None:
        return None
    got = [" ".join(tokens(text)) for _, text in refs]
    right = 0
    for r in truth["references"]:
        want = " ".join(tokens(f"[{r['number']}] {r['text']}" if truth["layout"] != "lncs"
                               else f"{r['number']}. {r['text']}"))
        bare = " ".join(tokens(r["text"]))
        right += any(difflib.SequenceMatcher(None, want, g, autojunk=False).ratio() >= 0.9 or
                     difflib.SequenceMatcher(None, bare, g, autojunk=False).ratio() >= 0.9 for g in got
                     if abs(len(g) - len(bare)) < 0.3 * len(bare) + 8)
    return right, len(truth["references"])


def passages_by_file(corpus: Path, truths: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]] | None:
    """file name -> [(passage text, section)] from a temporary log; None while passages carry no section."""
    from reading import open_log

    with tempfile.TemporaryDirectory(prefix="fulltext-extraction-") as tmp:
        log = open_log(Path(tmp) / "log.db")
        try:
            sha_file = {}
            for t in truths:
                res = log.add_pdf(corpus / t["file"], fetch=False)
                sha_file[res.pdf["sha256"]] = t["file"]
            rows = log.passage_texts()
        finally:
            log.close()
    if not rows or len(rows[0]) < 6:
        return None
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        out[sha_file[row[2]]].append((row[4], row[5] or ""))
    return out


# --- the report ------------------------------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def run(corpus: Path, *, sections: bool = True, show: str | None = None) -> list[str]:
    from reading._pdf import extract

    truths = load(corpus)
    per: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    t0 = time.perf_counter()
    for t in truths:
        doc = extract(corpus / t["file"])
        pages = doc.pages
        f = per[t["layout"]]
        f["title"].append(" ".join((doc.title or "").split()) == " ".join(t["title"].split()))
        found = set(doc.authors)
        f["authors"].append((len(found & set(t["authors"])), max(len(t["authors"]), len(found))))
        f["order"].append((order_score(t, pages), t["key"]))
        f["margins"].append(margins_left(t, pages))
        f["refsec"].append(refsec_found(t, doc))
        f["entries"].append(entries_right(t, doc))
        if show and t["key"] == show:
            print(f"--- {t['file']}: title {doc.title!r} authors {doc.authors}")
            for i, p in enumerate(pages, start=1):
                print(f"=== page {i}\n{p}")
    secs = passages_by_file(corpus, truths) if sections else None
    for t in truths:
        per[t["layout"]]["section"].append(section_score(t, secs.get(t["file"], [])) if secs is not None else None)
    elapsed = time.perf_counter() - t0
    lines = []
    for layout in sorted(per, key=lambda x: ["ieee", "acm", "lncs", "neurips"].index(x) if x in
                         ("ieee", "acm", "lncs", "neurips") else 9):
        f = per[layout]
        n = len(f["title"])
        rows = [("title exact", _pct(sum(f["title"]) / n), f"{sum(f['title'])}/{n} papers", "100%",
                 sum(f["title"]) == n)]
        a, b = sum(x for x, _ in f["authors"]), sum(y for _, y in f["authors"])
        rows.append(("authors exact", _pct(a / max(1, b)), f"{a}/{b} names", ">= 95%", a / max(1, b) >= 0.95))
        scores = [s for s, _ in f["order"]]
        worst = min(f["order"])
        mean = sum(scores) / n
        rows.append(("reading order", f"{mean:.3f}", f"worst {worst[0]:.3f} ({worst[1]})", ">= 0.97",
                     worst[0] >= TARGETS["order"]))
        left, total = sum(x for x, _ in f["margins"]), sum(y for _, y in f["margins"])
        rows.append(("headers/footers left", _pct(left / max(1, total)), f"{left}/{total} lines", "<= 1%",
                     left / max(1, total) <= TARGETS["margins"]))
        if any(x is None for x in f["section"]):
            rows.append(("section of passage", "n/a", "passages carry no section yet", ">= 95%", None))
        else:
            r, tot = sum(x for x, _ in f["section"]), sum(y for _, y in f["section"])
            rows.append(("section of passage", _pct(r / max(1, tot)), f"{r}/{tot} passages", ">= 95%",
                         r / max(1, tot) >= TARGETS["section"]))
        if any(x is None for x in f["refsec"]):
            rows.append(("reference section", "n/a", "no PdfText.layout yet", "100%", None))
        else:
            k = sum(bool(x) for x in f["refsec"])
            rows.append(("reference section", _pct(k / n), f"{k}/{n} papers", "100%", k == n))
        if any(x is None for x in f["entries"]):
            rows.append(("reference entries", "n/a", "no PdfText.references yet", ">= 95%", None))
        else:
            r, tot = sum(x for x, _ in f["entries"]), sum(y for _, y in f["entries"])
            rows.append(("reference entries", _pct(r / max(1, tot)), f"{r}/{tot} entries", ">= 95%",
                         r / max(1, tot) >= TARGETS["entries"]))
        for name, value, detail, target, ok in rows:
            mark = "n/a" if ok is None else ("ok" if ok else "MISS")
            lines.append(f"{layout:<8} {name:<22} {value:>7}  {detail:<34} target {target:<7} {mark}")
    lines.append(f"{len(truths)} papers, {sum(len(v['title']) and 1 for v in per.values())} layouts, "
                 f"{elapsed:.0f} s")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--no-sections", action="store_true", help="skip the temporary log (faster)")
    ap.add_argument("--show", metavar="KEY", help="print the extracted pages of one paper (c00, ...)")
    ap.add_argument("--seed", type=int, help="typeset a held-out corpus with this seed first (needs TeX Live), "
                    "so that the extractor is not tuned to the fixtures alone")
    ap.add_argument("-n", type=int, default=16, help="papers in the held-out corpus (with --seed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="held-out-corpus-") as tmp:
        corpus = args.corpus
        if args.seed is not None:
            sys.path.insert(0, str(ROOT))
            from bench.texcorpus import make_corpus

            make_corpus(tmp, args.n, seed=args.seed, workers=2)
            corpus = Path(tmp)
        for line in run(corpus, sections=not args.no_sections, show=args.show):
            print(line)


if __name__ == "__main__":
    sys.exit(main())
