"""CSL-JSON, the bibliographic data of the Citation Style Language (what Zotero, Paperpile and pandoc exchange):
records read from it, and the log written as it, valid against the CSL data schema (``csl-data.json``, v1.0).

arXiv papers are written as CSL ``article`` (the type CSL and Zotero use for preprints) with ``number``
``arXiv:<id>`` and publisher ``arXiv``; a paper published in a venue keeps its venue's type and carries its arXiv
id in ``note`` (``arXiv: <id>``, the line citation processors and Zotero read back).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._cells import citation_key, join_notes, parse_json
from ._errors import InvalidInput
from ._ids import is_arxiv_id, parse_arxiv_id

_CONFERENCE = re.compile(r"\b(Conference|Proceedings|Workshop|Symposium|CVPR|ICCV|ECCV|NeurIPS|NIPS|ICML|ICLR|AAAI|"
                         r"IJCAI|ACL|EMNLP|NAACL|KDD|SIGIR|BMVC|WACV)\b", re.IGNORECASE)
_ARXIV_IN_TEXT = re.compile(r"arxiv\s*(?:id)?\s*:\s*([^\s,;]+)", re.IGNORECASE)


def is_csl_json(text: str) -> bool:
    """Whether JSON ``text`` is CSL-JSON (a list of items with ``type``), not this log's own JSON export."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return False
    first = items[0]
    return "type" in first and not {"status", "added_at", "arxiv_id"} & set(first)


# --- reading ----------------------------------------------------------------------------------------------------


def _name(person: Any) -> str:
    if not isinstance(person, dict):
        return str(person or "").strip()
    if person.get("literal"):
        return " ".join(str(person["literal"]).split())
    parts = [person.get("given"), person.get("non-dropping-particle"), person.get("family")]
    name = " ".join(str(p).strip() for p in parts if p and str(p).strip())
    if person.get("suffix"):
        name += f", {person['suffix']}"
    return " ".join(name.split())


def _year(date: Any) -> int | None:
    if isinstance(date, dict):
        parts = date.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            try:
                return int(parts[0][0])
            except (TypeError, ValueError):
                return None
        date = date.get("raw") or date.get("literal") or ""
    m = re.search(r"\b(1[5-9]\d{2}|2\d{3})\b", str(date or ""))
    return int(m.group(1)) if m else None


def _arxiv(item: dict[str, Any]) -> str | None:
    candidates = [str(item.get("number") or ""), str(item.get("URL") or ""), str(item.get("archive_location") or "")]
    m = re.match(r"10\.48550/arxiv\.(.+)$", str(item.get("DOI") or "").strip(), re.IGNORECASE)
    if m:
        candidates.append(m.group(1))
    candidates += _ARXIV_IN_TEXT.findall(str(item.get("note") or ""))
    for text in candidates:
        text = re.sub(r"^arxiv:\s*", "", text.strip(), flags=re.IGNORECASE)
        if text and is_arxiv_id(text):
            return parse_arxiv_id(text)
    return None


def csl_record(item: Any, where: str) -> dict[str, Any]:
    """A log record from one CSL item. Raises InvalidInput for an item that is not a CSL object."""
    if not isinstance(item, dict):
        raise InvalidInput("not a CSL item (a JSON object)")
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        raise InvalidInput("'title' must be a string")
    authors = item.get("author") or []
    if not isinstance(authors, list):
        raise InvalidInput("'author' must be a list of names")
    keywords = item.get("keyword") or ""
    tags = ([k.strip() for k in re.split(r"[,;]", keywords) if k.strip()] if isinstance(keywords, str) else
            [str(k).strip() for k in keywords if str(k).strip()] if isinstance(keywords, list) else [])
    venue = item.get("container-title") or item.get("event-title") or item.get("event") or None
    notes = [item["annote"]] if isinstance(item.get("annote"), str) and item["annote"].strip() else []
    return {
        "title": " ".join((title or "").split()),
        "authors": [n for n in (_name(a) for a in authors) if n],
        "year": _year(item.get("issued")),
        "venue": venue if isinstance(venue, str) else None,
        "doi": item.get("DOI") if isinstance(item.get("DOI"), str) else None,
        "arxiv_id": _arxiv(item),
        "url": item.get("URL") if isinstance(item.get("URL"), str) else None,
        "abstract": item.get("abstract") if isinstance(item.get("abstract"), str) else "",
        "tags": tags,
        "notes": notes,
        "_where": where,
    }


def csl_records(text: str) -> Iterator[dict[str, Any]]:
    """Records from CSL-JSON text (a list of items, or ``{"items": [...]}``); an unreadable item is reported."""
    data = parse_json(text)
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInput("expected a CSL-JSON list of items")
    for i, item in enumerate(items):
        where = f"item {item.get('id', i)}" if isinstance(item, dict) else f"item {i}"
        try:
            yield csl_record(item, where)
        except InvalidInput as err:
            yield {"_where": where, "_error": str(err)}


# --- writing ----------------------------------------------------------------------------------------------------


def csl_name(name: str) -> dict[str, str]:
    """``Kaiming He`` -> ``{"family": "He", "given": "Kaiming"}``; ``He, Kaiming`` likewise; one word is literal."""
    name = " ".join(name.split())
    if "," in name:
        family, _, given = name.partition(",")
        return {"family": family.strip(), "given": given.strip()} if given.strip() else {"literal": family.strip()}
    if " " not in name:
        return {"literal": name}
    given, _, family = name.rpartition(" ")
    return {"family": family, "given": given}


def csl_item(paper: Mapping[str, Any], key: str) -> dict[str, Any]:
    """One paper as a CSL item (``key``: its id, the citation key)."""
    venue = paper.get("venue") or ""
    aid = paper.get("arxiv_id")
    preprint = bool(aid) and (not venue or re.match(r"^arxiv\b", venue, re.IGNORECASE) is not None)
    if preprint:
        kind = "article"
    elif venue and _CONFERENCE.search(venue):
        kind = "paper-conference"
    elif venue:
        kind = "article-journal"
    else:
        kind = "article" if aid else "document"
    item: dict[str, Any] = {"id": key, "type": kind, "citation-key": key, "title": paper["title"]}
    if paper.get("authors"):
        item["author"] = [csl_name(a) for a in paper["authors"]]
    if paper.get("year"):
        item["issued"] = {"date-parts": [[int(paper["year"])]]}
    if venue and not preprint:
        item["container-title"] = venue
    if preprint:
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{aid}"
        item["genre"] = "Preprint"
    elif aid:
        item["note"] = f"arXiv: {aid}"
    if paper.get("doi"):
        item["DOI"] = paper["doi"]
    url = paper.get("url") or (f"https://arxiv.org/abs/{aid}" if aid else None)
    if url:
        item["URL"] = url
    if paper.get("abstract"):
        item["abstract"] = paper["abstract"]
    if paper.get("tags"):
        item["keyword"] = ", ".join(paper["tags"])
    notes = [n["text"] for n in paper.get("notes") or []]
    if notes:
        item["annote"] = join_notes(notes)
    return item


def csl_json(papers: Sequence[Mapping[str, Any]]) -> str:
    """The papers as CSL-JSON text (a list of items, ids unique)."""
    used: set[str] = set()
    return json.dumps([csl_item(p, citation_key(p, used)) for p in papers], ensure_ascii=False, indent=2) + "\n"
