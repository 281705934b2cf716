"""Zotero import speed: a generated Zotero library (1,800 items, 1,800 two-column 8-page PDFs, 3,000 annotations,
a child note per item, tags and nested collections) imported into a fresh log.

Prints two lines, each with the machine load (1-minute load average, 2 cores shared):

- metadata, notes and annotations (snapshot + read + write): seconds against the 60 s target, and as a ratio to
  storing the same item records through ``Log.import_records`` (the BibTeX/JSON import path) in the same run;
- PDFs: pages/s of the Zotero import's PDF phase as a ratio to `reading import FOLDER/` (``Log.import_pdfs``) on a
  sample of the same PDFs in a fresh log, measured before and after it (target: ratio >= 1, i.e. as fast).

    python bench/zotero_import.py [--n 1800] [--pdfs 1800] [--annotations 3000] [--sample 60] [--work DIR]

Building the PDFs with reportlab takes about 0.15 s each here; ``--pdfs`` makes fewer (the other items then have
no attachment), ``--work DIR`` keeps the built library for a rerun.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fulltext_pdfgen import make_paper_pdf  # noqa: E402
from zotero_fixture import HIGHLIGHT, NOTE, UNDERLINE, ZoteroLibrary  # noqa: E402

import reading  # noqa: E402
from reading._zotero import item_record  # noqa: E402
from reading._zotero_db import find_database, read_library, snapshot  # noqa: E402

SYLLABLES = "ka to ri ne mo sa lu vi de pa ro mi tel gan for shu con net lay er qua zi bo".split()


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def build(folder: Path, n: int, n_pdfs: int, n_annotations: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    vocab = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(4000)]
    z = ZoteroLibrary(folder, seed=seed)
    top = [z.add_collection(f"Topic {i}") for i in range(8)]
    sub = [z.add_collection(f"Subtopic {i}", rng.choice(top)) for i in range(16)]
    atts = []
    pdf_dir = folder.parent / "made"
    pdf_dir.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    for i in range(n):
        title = " ".join(rng.choice(vocab) for _ in range(8)).capitalize() + f" {i}"
        kind = rng.choice(["journalArticle", "conferencePaper", "preprint"])
        venue = {"journalArticle": "publicationTitle", "conferencePaper": "proceedingsTitle",
                 "preprint": "repository"}[kind]
        fields = {"title": title, "date": f"{rng.randint(2010, 2025)}-{rng.randint(1, 12):02d}-00",
                  venue: "arXiv" if kind == "preprint" else f"Venue {rng.randint(1, 50)}",
                  "abstractNote": " ".join(rng.choice(vocab) for _ in range(150)), "url": f"https://example.org/{i}"}
        if kind == "preprint":
            fields["archiveID"] = f"arXiv:{rng.randint(15, 24):02d}{rng.randint(1, 12):02d}.{10000 + i:05d}"
        else:
            fields["DOI"] = f"10.5555/bench.{i}"
        creators = [("author", rng.choice(vocab).capitalize(), rng.choice(vocab).capitalize())
                    for _ in range(rng.randint(1, 6))]
        tags = sorted(set(rng.sample(vocab[:60], rng.randint(0, 3))))
        item, _ = z.add_item(kind, fields=fields, creators=creators, tags=tags,
                             collections=rng.sample(sub, rng.randint(1, 2)),
                             date_added=f"20{rng.randint(15, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 10:00:00")
        z.add_note(item, f"<h1>Summary</h1><p>{' '.join(rng.choice(vocab) for _ in range(60))}</p>"
                         f"<ul><li>{rng.choice(vocab)}</li><li>{rng.choice(vocab)}</li></ul>")
        if i < n_pdfs:
            body = [" ".join(rng.choice(vocab) for _ in range(150)) for _ in range(44)]
            pdf = make_paper_pdf(pdf_dir / f"{i}.pdf", title=title, authors=[c[1] + " " + c[2] for c in creators],
                                 body=body, columns=2, size=9, min_pages=8)
            att, _ = z.add_attachment(item, pdf, name=f"{creators[0][2]} - {i}.pdf")
            pdf.unlink()
            atts.append(att)
        if i % 100 == 99:
            z.commit()
            print(f"# built {i + 1}/{n} items ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    for j in range(n_annotations if atts else 0):
        kind = rng.choice([HIGHLIGHT, HIGHLIGHT, UNDERLINE, NOTE])
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 30))) if kind != NOTE else ""
        comment = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 20)))
        z.add_annotation(rng.choice(atts), kind, text=text, comment=comment or ("note" if kind == NOTE else ""),
                         page_label=str(rng.randint(1, 8)), page_index=rng.randint(0, 7))
    z.close()
    shutil.rmtree(pdf_dir)


def _baseline_records(folder: Path, work: Path) -> float:
    """Seconds to store the same items' records through ``Log.import_records`` (no notes, annotations, PDFs)."""
    with snapshot(find_database(folder)) as conn:
        lib = read_library(conn)
    records = [item_record(i) for i in lib.items.values()]
    log = reading.open_log(work / "baseline-records.db")
    from reading._intake import write_records

    t0 = time.perf_counter()
    write_records(log, records, source="bench")
    took = time.perf_counter() - t0
    log.close()
    return took


def _baseline_pdfs(folder: Path, work: Path, sample: int, tag: str) -> float:
    """Pages/s of `reading import FOLDER/` over ``sample`` of the library's stored PDFs, in a fresh log."""
    files = sorted((folder / "storage").rglob("*.pdf"))[:sample]
    src = work / f"sample-{tag}"
    src.mkdir()
    for n, f in enumerate(files):
        shutil.copyfile(f, src / f"{n}.pdf")
    log = reading.open_log(work / f"baseline-{tag}.db")
    t0 = time.perf_counter()
    report = log.import_pdfs(src)
    took = time.perf_counter() - t0
    pages = sum(p["page_count"] for pid in report.added + report.joined for p in log.pdfs(pid))
    log.close()
    return pages / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1800, help="items (default 1800)")
    parser.add_argument("--pdfs", type=int, default=None, help="items with a PDF (default: all)")
    parser.add_argument("--annotations", type=int, default=3000)
    parser.add_argument("--sample", type=int, default=60, help="PDFs in each `reading import FOLDER/` baseline")
    parser.add_argument("--work", type=Path, help="Build the library here (a rerun with the same sizes reuses it).")
    args = parser.parse_args()
    n_pdfs = args.n if args.pdfs is None else min(args.pdfs, args.n)
    with tempfile.TemporaryDirectory(prefix="zotero-bench-") as tmp:
        work = Path(tmp)
        root = args.work or work
        folder = root / f"Zotero-{args.n}-{n_pdfs}-{args.annotations}"
        if not (folder / "zotero.sqlite").is_file():
            t0 = time.perf_counter()
            shutil.rmtree(folder, ignore_errors=True)
            build(folder, args.n, n_pdfs, args.annotations)
            print(f"# library built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        base_meta = _baseline_records(folder, work)
        base_pdf = [_baseline_pdfs(folder, work, args.sample, "before")] if n_pdfs else []
        log = reading.open_log(work / "zotero.db")
        load_before = _load()
        report = reading.import_zotero(log, folder)
        load_after = _load()
        if n_pdfs:
            base_pdf.append(_baseline_pdfs(folder, work, args.sample, "after"))
        t = report["timings"]
        meta = t["read_s"] + t["metadata_s"]
        print(f"zotero import  metadata+notes+annotations  {args.n} items, {report['notes']} notes, "
              f"{report['annotations']} annotations: {meta:.1f} s (snapshot+read {t['read_s']:.1f} s, write "
              f"{t['metadata_s']:.1f} s)  target <= 60 s  ratio to import_records of the same items "
              f"({base_meta:.1f} s) {meta / base_meta:.2f}x  load {load_before}")
        if n_pdfs:
            pages = sum(p["page_count"] for pid in set(report["ids"]) for p in log.pdfs(pid))
            rate = pages / t["pdfs_s"]
            base = statistics.mean(base_pdf)
            print(f"zotero import  PDFs  {report['pdfs']} PDFs, {pages} pages in {t['pdfs_s']:.0f} s: "
                  f"{rate:.1f} pages/s; `reading import FOLDER/` on {args.sample} of them before/after "
                  f"{base_pdf[0]:.1f}/{base_pdf[-1]:.1f} pages/s  ratio {rate / base:.2f}x  target >= 1.0x  "
                  f"load {load_after}")
        print(f"# {reading.zotero_summary(report)}", file=sys.stderr)
        log.close()


if __name__ == "__main__":
    main()
