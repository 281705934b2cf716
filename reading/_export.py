"""Exports: BibTeX (re-imports to the same library), JSON (everything) and CSV; atomic file writes."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from ._errors import InvalidInput
from ._intake import CSV_COLUMNS, EXPORT_MARK, NOTE_SEPARATOR
from ._log import Log

_CONFERENCE = re.compile(
    r"\b(CVPR|ICCV|ECCV|NeurIPS|NIPS|ICML|ICLR|AAAI|IJCAI|ACL|EMNLP|NAACL|KDD|SIGIR|WWW|BMVC|WACV|Multimedia|"
    r"Conference|Proceedings|Workshop|Symposium)\b",
    re.IGNORECASE,
)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_text(log: Log, fmt: str, *, tag: str | None = None) -> str:
    """The log (or the papers with ``tag``) as ``bibtex``, ``json`` or ``csv`` text."""
    papers = log.papers(tag=tag, sort="added")
    papers.reverse()  # oldest first: stable files that diff well
    if fmt == "json":
        return json.dumps(papers, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(papers)
    if fmt == "bibtex":
        return _bibtex(papers)
    raise InvalidInput(f"unknown export format {fmt!r}: use bibtex, json or csv")


def _csv(papers: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in papers:
        writer.writerow({
            "id": p["id"], "arxiv_id": p["arxiv_id"] or "", "doi": p["doi"] or "", "title": p["title"],
            "authors": "; ".join(p["authors"]), "year": p["year"] or "", "venue": p["venue"] or "",
            "categories": " ".join(p["categories"]), "url": p["url"] or "", "status": p["status"],
            "rating": p["rating"] or "", "tags": "; ".join(p["tags"]),
            "read_on": "; ".join(r["read_on"] for r in p["reads"]), "added_at": p["added_at"],
            "abstract": p["abstract"], "notes": NOTE_SEPARATOR.join(n["text"] for n in p["notes"]),
        })
    return buf.getvalue()


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _key(paper: dict[str, Any], used: set[str]) -> str:
    last = _ascii_word(paper["authors"][0].split()[-1]) if paper["authors"] else "anon"
    words = [w for w in (_ascii_word(w) for w in paper["title"].split()) if w and w not in {"a", "an", "the", "on"}]
    base = f"{last or 'anon'}{paper['year'] or ''}{words[0] if words else ''}" or f"paper{paper['id']}"
    key, n = base, 0
    while key in used:
        n += 1
        key = base + "abcdefghijklmnopqrstuvwxyz"[(n - 1) % 26] + ("" if n <= 26 else str(n))
    used.add(key)
    return key


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _bibtex(papers: list[dict[str, Any]]) -> str:
    import bibtexparser
    from bibtexparser import model

    library = bibtexparser.Library()
    library.add(model.ExplicitComment(f"{EXPORT_MARK}; UTF-8, no LaTeX escaping"))
    used: set[str] = set()
    for p in papers:
        venue = p["venue"] or ""
        if venue and _CONFERENCE.search(venue):
            entry_type, venue_key = "inproceedings", "booktitle"
        elif venue:
            entry_type, venue_key = "article", "journal"
        else:
            entry_type, venue_key = "misc", ""
        values: list[tuple[str, Any]] = [
            ("title", p["title"]),
            ("author", " and ".join(_bib_name(a) for a in p["authors"])),
            ("year", p["year"]),
            (venue_key, venue),
            ("doi", p["doi"]),
            ("eprint", p["arxiv_id"]),
            ("archiveprefix", "arXiv" if p["arxiv_id"] else None),
            ("primaryclass", " ".join(p["categories"])),
            ("url", p["url"]),
            ("abstract", p["abstract"]),
            ("keywords", ", ".join(p["tags"])),
            ("annote", NOTE_SEPARATOR.join(n["text"] for n in p["notes"])),
            ("readstatus", p["status"]),
            ("rating", p["rating"]),
            ("readon", ", ".join(r["read_on"] for r in p["reads"])),
            ("added", p["added_at"]),
            ("zoomodels", ", ".join(p["models"])),
        ]
        fields = []
        for key, value in values:
            if not key or value in (None, ""):
                continue
            text = str(value)
            if not _balanced(text):
                # BibTeX cannot hold unbalanced braces; the JSON export keeps such text exactly
                text = text.replace("{", "(").replace("}", ")")
            fields.append(model.Field(key, text))
        library.add(model.Entry(entry_type, _key(p, used), fields))
    return bibtexparser.write_string(library)


def _bib_name(name: str) -> str:
    """``Kaiming He`` -> ``He, Kaiming`` (a name that is already ``Last, First`` or one word is kept)."""
    name = name.strip()
    if "," in name or " " not in name:
        return name
    first, _, last = name.rpartition(" ")
    return f"{last}, {first}"
