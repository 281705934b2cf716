"""BibTeX import speed: a generated 5,000-entry Zotero-style .bib into a fresh log (target: <= 10 s).

Prints one line per item: the whole import (parse + write), the parse alone with LaTeX decoded only where a field
needs it against the parse that decodes every field (the old way, measured in the same process on a slice, the two
interleaved), and how long a concurrent ``Log.add`` waits while the import runs (target: < 2 s).

    python bench/import_speed.py [--entries 5000]
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from pathlib import Path

WORDS = ("deep residual learning image recognition network channel shuffle efficient convolutional neural mobile "
         "architecture search single path one shot uniform sampling attention transformer vision language model "
         "training large scale dataset benchmark robust detection segmentation graph").split()
NAMES = ("Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun", "Ningning Ma", "Hai-Tao Zheng", "Zichao Guo",
         "Haoyuan Mu", "Yichen Wei", "J{\\\"u}rgen M{\\\"u}ller", "Fran{\\c c}ois Chollet", "Ashish Vaswani",
         "Noam Shazeer", "Niki Parmar", "S{\\o}ren Hauberg", "Andr{\\'e} Martins")


def make_bib(n: int, seed: int = 0) -> str:
    """``n`` BibTeX entries as Zotero writes them: protected words in braces, some accents, arXiv and DOI fields."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = rng.sample(WORDS, 7)
        if rng.random() < 0.3:
            words[0] = "{" + words[0].capitalize() + "}"
        title = " ".join(words).capitalize()
        authors = " and ".join(rng.sample(NAMES, rng.randint(1, 5)))
        abstract = " ".join(rng.choice(WORDS) for _ in range(120))
        if rng.random() < 0.1:
            abstract += " We reach 76.1\\% top-1 -- a new state of the art."
        year = rng.randint(2012, 2025)
        aid = f"{year % 100:02d}{rng.randint(1, 12):02d}.{i:05d}"
        out.append(
            f"@article{{key{i},\n  title = {{{title}}},\n  author = {{{authors}}},\n  year = {{{year}}},\n"
            f"  journal = {{arXiv preprint arXiv:{aid}}},\n  eprint = {{{aid}}},\n  archivePrefix = {{arXiv}},\n"
            f"  doi = {{10.48550/arXiv.{aid}}},\n  url = {{http://arxiv.org/abs/{aid}}},\n"
            f"  abstract = {{{abstract}}},\n  keywords = {{Computer Science - Machine Learning, topic{i % 40}}},\n}}\n"
        )
    return "\n".join(out)


def _parse_all_decoded(text: str) -> int:
    """The old parse: every field through the LaTeX decoder."""
    import bibtexparser
    from bibtexparser import middlewares as mw

    stack = [mw.NormalizeFieldKeys(), mw.LatexDecodingMiddleware(), mw.SeparateCoAuthors(), mw.SplitNameParts()]
    return len(bibtexparser.parse_string(text, append_middleware=stack).entries)


def _parse_needed(text: str) -> int:
    from reading._intake import bibtex_records

    return len(list(bibtex_records(text)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--slice", type=int, default=300, help="entries in the parse-only comparison")
    args = ap.parse_args()
    from reading import open_log

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        bib = Path(tmp) / "refs.bib"
        bib.write_text(make_bib(args.entries), encoding="utf-8")

        # parse only, old vs new, interleaved, best of 3 each
        part = make_bib(args.slice, seed=1)
        old, new = [], []
        for _ in range(3):
            t = time.perf_counter(); _parse_all_decoded(part); old.append(time.perf_counter() - t)
            t = time.perf_counter(); _parse_needed(part); new.append(time.perf_counter() - t)
        print(f"import_speed: parse {args.slice} entries, decode-where-needed vs decode-every-field: "
              f"{min(new):.2f} s vs {min(old):.2f} s = {min(old) / min(new):.1f}x faster (load {load:.2f})")

        # the whole import, with a concurrent writer adding a paper every 0.5 s
        db = Path(tmp) / "log.db"
        waits: list[float] = []
        done = threading.Event()

        def writer() -> None:
            with open_log(db) as other:
                k = 0
                while not done.is_set():
                    t = time.perf_counter()
                    other.add(title=f"Concurrent paper {k}", fetch=False)
                    waits.append(time.perf_counter() - t)
                    k += 1
                    time.sleep(0.5)

        with open_log(db) as log:
            th = threading.Thread(target=writer)
            t = time.perf_counter()
            th.start()
            report = log.import_file(bib)
            took = time.perf_counter() - t
            done.set()
            th.join()
        print(f"import_speed: bibtex {args.entries:,} entries imported in {took:.1f} s (target <= 10 s; added "
              f"{report['added']}, {len(report['errors'])} errors) (load {load:.2f})")
        print(f"import_speed: concurrent add during the import: {len(waits)} adds, longest wait {max(waits):.2f} s "
              f"(target < 2 s)")


if __name__ == "__main__":
    main()
