"""The citation graph on the realistic typeset corpus: reference entries found, fields parsed, edges within the
library, grouping of the unmatched references, time per PDF, and reading suggestions.

The corpus (tests/fixtures/pdf/corpus/, made by bench/texcorpus/make_corpus.py) is typeset by pdfLaTeX in four
bibliography styles (IEEE, ACM author-year, Springer LNCS, NeurIPS/plainnat); its ground truth says, for every
reference entry of every PDF, which work it cites: a paper of the corpus (``c03``) or an outside one (real papers
of the starter set, made-up ones with a DOI or with nothing but title, authors and year).

The library: the corpus PDFs (added in reverse order, so that most edges come from references that waited for
their paper: the pending path), plus every other outside work that has an arXiv id or a DOI, logged as metadata
only (as from arXiv or a BibTeX import), except a second work with the title of one already logged (the log would
take it for the first). The rest of the outside works stay outside. Scores:

- entries found: ground-truth entries matched by an extracted entry (text similarity >= 0.8), recall;
- fields parsed: on the entries found, title (normalised), year, authors (surnames, in order; "et al." compares the
  names printed) and the arXiv id / DOI when printed, each exact; also on the ground-truth strings themselves
  (the parser alone, without extraction);
- edges within the library: (citing work, cited work) pairs, precision (target >= 0.97) and recall (>= 0.90);
- grouping of unmatched references: pairs of pending references put in one group that cite the same work,
  pairwise precision (target >= 0.95) and recall;
- time per PDF: `add_pdf` (extraction, storage, and the reference list parsed and matched), and the citation part
  alone (`store_references` of its entries again: parse, match, store);
- suggestions: the corpus papers cited by 2+ others held out of the log (``--hold-out N`` of them), how many
  `log.suggest(k=10)` names (by arXiv id or title).

    python bench/citations.py [--corpus DIR] [--entries pdf|truth] [--hold-out 5] [--refextract PYTHON]

``--entries truth`` feeds the ground-truth entry strings instead of the ones extracted from the PDFs (matching and
grouping without extraction). ``--refextract PYTHON``: also score refextract (GPL-2.0-or-later, so never a
dependency; install it in a separate environment) on the ground-truth strings, run by that interpreter.
"""
from __future__ import annotations

import argparse
import difflib
import itertools
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reading import normalise_title, open_log  # noqa: E402
from reading import _db  # noqa: E402
from reading._refparse import parse_reference, surname_key  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "pdf" / "corpus"
FIELDS = ("title", "year", "authors", "ids")


def load(folder: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """(the ground truth of each PDF, every citable work by key)."""
    corpus = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
    truths = [json.loads((folder / (Path(f).stem + ".json")).read_text(encoding="utf-8")) for f in corpus["papers"]]
    works = dict(corpus["works"])
    for t in truths:  # one-off works cited once are described only by their entry
        for r in t["references"]:
            works.setdefault(r["cites"], {"title": r["title"], "authors": r["authors"], "year": r["year"],
                                          "arxiv_id": None, "doi": None})
    return truths, works


def _norm(text: str) -> str:
    return normalise_title(text)


def field_scores(text: str, truth: dict[str, Any], parsed: Any = None) -> dict[str, bool]:
    """Which fields of the entry ``text`` the parser reads as the ground truth says."""
    ref = parsed if parsed is not None else parse_reference(text)
    got = [surname_key(a) for a in ref.authors]
    want = [surname_key(a) for a in truth["authors"]]
    etal = "et al" in text
    joined = "".join(text.split()).lower()  # an identifier broken at a line end is still printed
    arxiv = truth["arxiv_id"] if truth.get("arxiv_id") and truth["arxiv_id"] in joined else None
    doi = truth["doi"].lower() if truth.get("doi") and truth["doi"].lower() in joined else None
    return {"title": _norm(ref.title) == _norm(truth["title"]), "year": ref.year == truth["year"],
            "authors": got == want or (etal and bool(got) and got == want[:len(got)]),
            "ids": (ref.arxiv_id, ref.doi) == (arxiv, doi)}


def _rate(rows: list[dict[str, bool]]) -> dict[str, float]:
    return {f: sum(r[f] for r in rows) / max(1, len(rows)) for f in FIELDS}


def align(extracted: list[str], truth: list[dict[str, Any]], least: float = 0.8) -> dict[int, int]:
    """Extracted entry index -> ground-truth entry index, greedily by text similarity (at least ``least``)."""
    pairs = []
    ex = [_norm(t) for t in extracted]
    tr = [_norm(r["text"]) for r in truth]
    for i, a in enumerate(ex):
        for j, b in enumerate(tr):
            if abs(i - j) > 6 and abs(len(a) - len(b)) > 40:
                continue
            sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
            if sm.real_quick_ratio() >= least and sm.quick_ratio() >= least:
                r = sm.ratio()
                if r >= least:
                    pairs.append((r, i, j))
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in sorted(pairs, reverse=True):
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def _pairs(groups: list[list[str]]) -> tuple[int, int]:
    """(pairs in one group, those citing the same work)."""
    total = same = 0
    for g in groups:
        for a, b in itertools.combinations(g, 2):
            total += 1
            same += a == b
    return total, same


def build_library(folder: Path, truths: list[dict[str, Any]], works: dict[str, dict[str, Any]], *, entries: str,
                  hold_out: int) -> dict[str, Any]:
    cited = Counter(r["cites"] for t in truths for r in t["references"])
    corpus_keys = {t["key"] for t in truths}
    held = [k for k, n in cited.most_common() if k in corpus_keys and n >= 2][:hold_out]
    outside_in = sorted(k for k in cited if k not in corpus_keys and (works[k].get("arxiv_id") or works[k].get("doi")))
    out: dict[str, Any] = {"held": held, "add_s": [], "cite_s": []}
    with tempfile.TemporaryDirectory(prefix="bench-citations-") as tmp:
        log = open_log(Path(tmp) / "log.db")
        key_of: dict[int, str] = {}
        titles: set[str] = set()
        for k in outside_in:
            w = works[k]
            if _norm(w["title"]) in titles:
                continue  # the log takes a second work of the same title for the first one: left outside
            titles.add(_norm(w["title"]))
            res = log.add(w.get("arxiv_id"), title=w["title"], authors=w["authors"], year=w["year"], doi=w.get("doi"),
                          fetch=False, status="read")
            key_of[int(res.paper["id"])] = k
        for t in reversed(truths):
            if t["key"] in held:
                continue
            t0 = time.perf_counter()
            res = log.add_pdf(folder / t["file"], fetch=False)
            if entries == "truth":
                refs = [(t["references_page"] or 0, r["text"]) for r in t["references"]]
            else:  # add_pdf parsed and matched them already: time the same work again
                refs = [(e["page"], e["text"]) for e in log.reference_entries(res.pdf["sha256"])]
            t1 = time.perf_counter()
            log.store_references(res.pdf["sha256"], refs)
            t2 = time.perf_counter()
            out["add_s"].append(t1 - t0)
            out["cite_s"].append(t2 - t1)
            key_of[int(res.paper["id"])] = t["key"]
        by_key = {t["key"]: t for t in truths}
        work_key = _db.citation_keys(log.conn)
        found = total = 0
        fields: list[dict[str, bool]] = []
        predicted: set[tuple[str, str]] = set()
        pending: list[tuple[str, str]] = []  # (work_key, the work it cites)
        for pid, key in key_of.items():
            if key not in by_key:
                continue
            truth = by_key[key]["references"]
            rows = log.cites(pid)
            mapping = align([r["text"] for r in rows], truth)
            total += len(truth)
            found += len(mapping)
            for i, j in mapping.items():
                fields.append(field_scores(rows[i]["text"], truth[j]))
            sha = log.pdfs(pid)[0]["sha256"]
            for i, row in enumerate(rows):
                if row["id"] is not None:
                    predicted.add((key, key_of.get(row["id"], f"?{row['id']}")))
                elif i in mapping and work_key.get((sha, i + 1)):
                    pending.append((work_key[(sha, i + 1)], truth[mapping[i]]["cites"]))
        in_log = set(key_of.values())
        expected = {(t["key"], r["cites"]) for t in truths if t["key"] in in_log for r in t["references"]
                    if r["cites"] in in_log}
        grouped_by: dict[str, list[str]] = {}
        for wk, cites in pending:
            grouped_by.setdefault(wk, []).append(cites)
        grouped, same = _pairs(list(grouped_by.values()))
        all_same = sum(n * (n - 1) // 2 for n in Counter(c for _, c in pending).values())
        suggestions = log.suggest(k=10)
        named = 0
        for k in held:
            w = works[k]
            if any((s["arxiv_id"] and s["arxiv_id"] == w.get("arxiv_id")) or _norm(s["title"]) == _norm(w["title"])
                   for s in suggestions):
                named += 1
        log.close()
    correct = len(predicted & expected)
    out.update(found=found, total=total, fields=_rate(fields), predicted=len(predicted), expected=len(expected),
               correct=correct, precision=correct / max(1, len(predicted)), recall=correct / max(1, len(expected)),
               wrong=sorted(predicted - expected)[:10], missed=sorted(expected - predicted)[:10],
               pair_precision=same / max(1, grouped), pair_recall=same / max(1, all_same), grouped_pairs=grouped,
               named=named, suggestions=[(s["count"], s["title"]) for s in suggestions])
    return out


_REFEXTRACT = r"""
import json, sys, time
t = time.perf_counter()
from refextract import extract_references_from_string
entries = json.load(sys.stdin)
out = []
t1 = time.perf_counter()
for e in entries:
    refs = extract_references_from_string(e)
    out.append(refs[0] if refs else {})
print(json.dumps({"import_s": t1 - t, "parse_s": time.perf_counter() - t1, "refs": out}))
"""


def refextract_scores(python: str, pairs: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, float], float, float]:
    """refextract's fields on the ground-truth strings: authors from its author field, title = its 'misc' up to the
    first period (refextract has no title field), year, arXiv id (report number) and DOI."""
    from reading._refparse import Reference, _split_authors

    proc = subprocess.run([python, "-c", _REFEXTRACT], input=json.dumps([t for t, _ in pairs]), capture_output=True,
                          text=True, check=True)
    data = json.loads(proc.stdout)
    rows = []
    for (text, truth), got in zip(pairs, data["refs"]):
        misc = " ".join(got.get("misc") or [])
        report = (got.get("reportnumber") or [""])[0].removeprefix("arXiv:")
        year = (got.get("year") or [""])[0]
        ref = Reference(text=text, arxiv_id=report or None, doi=((got.get("doi") or [""])[0].lower()
                                                                   .removeprefix("doi:") or None),
                        title=misc.split(". ")[0].strip(" :,."), authors=_split_authors(
                            " and ".join(got.get("author") or [])), year=int(year) if year.isdigit() else None)
        rows.append(field_scores(text, truth, ref))
    return _rate(rows), data["import_s"], data["parse_s"] / max(1, len(pairs))


def scale(n_pdfs: int, refs_per_pdf: int = 40, seed: int = 26) -> dict[str, float]:
    """Timings of the graph's reads on a library of ``n_pdfs`` papers with a PDF each, ``refs_per_pdf`` references
    each (to one another and to a pool of outside works cited with a Zipf-like skew), stored directly."""
    import random
    import statistics

    from reading import _db

    rng = random.Random(seed)
    pool = [f"An outside work number {i} on {rng.choice(['pruning', 'search', 'quantization', 'vision'])}"
            for i in range(n_pdfs * 8)]
    with tempfile.TemporaryDirectory(prefix="bench-citations-scale-") as tmp:
        log = open_log(Path(tmp) / "log.db")
        titles = [f"Library paper {i} about {rng.choice(['nets', 'search', 'data'])}" for i in range(n_pdfs)]
        with log.transaction():
            ids = [int(log.add(title=titles[i], authors=[f"Author{i} Surname{i}"], year=2015 + i % 10, fetch=False,
                               read_on=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}").paper["id"]) for i in range(n_pdfs)]
        t0 = time.perf_counter()
        with log.transaction():
            for i, pid in enumerate(ids):
                sha = f"{i:064x}"
                _db.insert_pdf(log.conn, {"sha256": sha, "paper_id": pid, "file_name": f"{i}.pdf", "size": 1,
                                          "page_count": 1, "has_text": 1, "added_at": "2026-01-01"}, [""])
                entries = []
                for j in range(refs_per_pdf):
                    if j < 4 and i > 0:
                        k = rng.randrange(i)
                        entries.append((9, f"[{j + 1}] Author{k} Surname{k}. {titles[k]}. In Venue, {2015 + k % 10}."))
                    else:
                        w = min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)
                        entries.append((9, f"[{j + 1}] A. Writer{w} and B. Other. {pool[w]}. In Conf, 2020."))
                log.store_references(sha, entries)
        store = (time.perf_counter() - t0) / n_pdfs
        log.sync_citations()

        def median(fn: Any, runs: int = 5) -> float:
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            return statistics.median(times)

        out = {"store_ms": store * 1e3, "refs": n_pdfs * refs_per_pdf,
               "cites_ms": median(lambda: log.cites(ids[-1])) * 1e3,
               "cited_by_ms": median(lambda: log.cited_by(ids[0])) * 1e3,
               "suggest_ms": median(lambda: log.suggest(k=10), 3) * 1e3,
               "graph_ms": median(lambda: log.citation_graph(ids[len(ids) // 2], hops=2)) * 1e3}
        t = time.perf_counter()
        log.add(title="An outside work number 3 on vision", authors="A. Writer3", year=2020)
        log.sync_citations()
        out["link_new_ms"] = (time.perf_counter() - t) * 1e3
        log.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--entries", choices=("pdf", "truth"), default="pdf")
    ap.add_argument("--hold-out", type=int, default=5)
    ap.add_argument("--refextract", metavar="PYTHON", help="an interpreter with refextract installed")
    ap.add_argument("--scale", type=int, metavar="N", help="only time the reads on a library of N papers with PDFs")
    args = ap.parse_args()
    if args.scale:
        r = scale(args.scale)
        print(f"scale      {args.scale} PDFs, {r['refs']} references: store {r['store_ms']:.1f} ms/PDF; cites "
              f"{r['cites_ms']:.1f} ms, cited-by {r['cited_by_ms']:.1f} ms, suggest {r['suggest_ms']:.0f} ms, graph "
              f"(2 hops) {r['graph_ms']:.1f} ms, a paper added then linked {r['link_new_ms']:.0f} ms")
        return
    if not (args.corpus / "corpus.json").is_file():
        sys.exit(f"no corpus in {args.corpus}: make one with python bench/texcorpus/make_corpus.py --out DIR")
    truths, works = load(args.corpus)
    pairs = [(r["text"], r) for t in truths for r in t["references"]]
    t0 = time.perf_counter()
    strings = [field_scores(text, truth) for text, truth in pairs]
    per_entry = (time.perf_counter() - t0) / max(1, len(pairs))
    n_pdfs = len(truths)
    print(f"citations  corpus {args.corpus.name}: {n_pdfs} PDFs, {len(pairs)} reference entries, "
          f"{len({r['cites'] for _, r in pairs})} works cited")
    fmt = lambda d: "  ".join(f"{f} {d[f]:.3f}" for f in FIELDS)  # noqa: E731
    print(f"parser     ours on the printed strings        {fmt(_rate(strings))}  ({per_entry * 1e3:.2f} ms/entry)")
    if args.refextract:
        scores, import_s, per = refextract_scores(args.refextract, pairs)
        print(f"parser     refextract on the printed strings  {fmt(scores)}  ({per * 1e3:.2f} ms/entry, import "
              f"{import_s:.1f} s)")
    res = build_library(args.corpus, truths, works, entries=args.entries, hold_out=args.hold_out)
    print(f"entries    {args.entries}: found {res['found']} of {res['total']} (recall {res['found'] / max(1, res['total']):.3f})")
    print(f"fields     on the entries found               {fmt(res['fields'])}")
    print(f"edges      within the library: {res['correct']} correct of {res['predicted']} predicted, "
          f"{res['expected']} expected: precision {res['precision']:.3f} (target 0.97)  recall {res['recall']:.3f} "
          "(target 0.90)")
    if res["wrong"]:
        print(f"           wrong: {res['wrong']}")
    if res["missed"]:
        print(f"           missed: {res['missed']}")
    print(f"grouping   unmatched: {res['grouped_pairs']} pairs grouped, pairwise precision {res['pair_precision']:.3f} "
          f"(target 0.95)  recall {res['pair_recall']:.3f}")
    add = sorted(res["add_s"])
    cite = sorted(res["cite_s"])
    print(f"time       per PDF: add_pdf median {add[len(add) // 2] * 1e3:.0f} ms, citations (parse + match + store) "
          f"median {cite[len(cite) // 2] * 1e3:.1f} ms")
    print(f"suggest    held out {len(res['held'])} corpus papers cited by 2+: {res['named']} of them in the top 10")
    for count, title in res["suggestions"]:
        print(f"           {count}x {title}")


if __name__ == "__main__":
    main()
