"""RIS (``TY  - JOUR`` ... ``ER  -``), the tagged format of EndNote, Mendeley, Zotero and most publishers: records
with their PDFs (``L1`` file links, and ``UR`` when it names a local PDF)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ._ids import is_arxiv_id, parse_arxiv_id
from ._libfiles import link_path
from ._notehtml import html_to_markdown

_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_TITLE = ("TI", "T1", "CT", "BT")
_VENUE = ("T2", "JF", "JO", "JA", "J2", "J1", "BT", "SE")
_YEAR = ("PY", "Y1", "DA", "Y2")
_AUTHORS = ("AU", "A1")  # A2 (editors), A3 (series editors), A4 (translators) are not authors


def _entries(text: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """``(line number, [(tag, value), ...])`` per entry; a line without a tag continues the previous value."""
    tags: list[tuple[str, str]] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip().lstrip("\ufeff")
        m = _LINE.match(line)
        if m:
            tag, value = m.group(1), (m.group(2) or "").strip()
            if tag == "TY":
                if tags:
                    yield start, tags
                tags, start = [], n
            if tag == "ER":
                if tags:
                    yield start, tags
                tags = []
                continue
            tags.append((tag, value))
        elif line.strip() and tags:
            last_tag, last = tags[-1]
            tags[-1] = (last_tag, f"{last} {line.strip()}" if last else line.strip())
    if tags:
        yield start, tags


def _arxiv(values: dict[str, list[str]]) -> str | None:
    for tag in ("UR", "L2", "M1", "AN", "N1", "DO", "SN"):
        for text in values.get(tag, []):
            text = text.strip()
            m = re.search(r"arxiv[:.\s]*(?:abs/|pdf/)?\s*([a-z\-]+/\d{7}|\d{4}\.\d{4,5})", text, re.IGNORECASE)
            for cand in (text, m.group(1) if m else ""):
                if cand and is_arxiv_id(cand):
                    return parse_arxiv_id(cand)
    return None


def ris_record(tags: list[tuple[str, str]], where: str) -> dict[str, Any]:
    values: dict[str, list[str]] = {}
    for tag, value in tags:
        if value:
            values.setdefault(tag, []).append(value)

    def first(*keys: str) -> str | None:
        return next((values[k][0] for k in keys if values.get(k)), None)

    year_text = first(*_YEAR) or ""
    m = re.search(r"\b(1[5-9]\d{2}|2\d{3})\b", year_text)
    files, urls = [], []
    for link in values.get("L1", []) + values.get("UR", []):
        for part in re.split(r"\s*;\s*", link):
            path = link_path(part)
            if path and path.lower().endswith(".pdf"):
                files.append(path)
            elif part and not path:
                urls.append(part)
    title = first(*_TITLE) or ""
    venue = next((v for k in _VENUE for v in values.get(k, []) if v != title), None)
    return {
        "title": " ".join(title.split()),
        "authors": [a for k in _AUTHORS for a in values.get(k, [])],
        "year": int(m.group(1)) if m else None,
        "venue": venue,
        "doi": first("DO"),
        "arxiv_id": _arxiv(values),
        "url": urls[0] if urls else None,
        "abstract": first("AB", "N2") or "",
        "tags": [k.strip() for kw in values.get("KW", []) for k in kw.split(";") if k.strip()],
        "notes": [md for md in (html_to_markdown(n) for n in values.get("N1", [])) if md],
        "_files": files,
        "_where": where,
    }


def _author(name: str) -> str:
    """``He, Kaiming`` -> ``Kaiming He`` (RIS writes last name first)."""
    last, sep, first = name.partition(",")
    return " ".join(f"{first} {last}".split()) if sep and first.strip() else " ".join(name.split())


def ris_records(text: str) -> Iterator[dict[str, Any]]:
    """Records from RIS text; an entry without a title is reported by its line."""
    from ._errors import InvalidInput

    found = False
    for start, tags in _entries(text):
        found = True
        record = ris_record(tags, f"entry at line {start}")
        record["authors"] = [_author(a) for a in record["authors"]]
        yield record
    if not found and text.strip():
        raise InvalidInput("no RIS entries found (is it a .ris file? entries start with 'TY  - ')")
