"""Bulk intake: BibTeX (Zotero exports included), arXiv metadata JSONL snapshots, our own JSON/CSV exports, and
the bundled starter set. Every importer turns its input into plain records and hands them to
:meth:`Log.import_records`, which merges duplicates exactly as ``add`` does.
"""
from __future__ import annotations

import csv
import email.utils
import functools
import io
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cells import (  # re-exported: importers and tests name them here
    NOTE_SEPARATOR, _FORMULA_START, join_items, join_notes, neutralise_cell, parse_json, restore_cell, split_items,
    split_notes,
)
from ._errors import InvalidInput, ReadingError
from ._ids import ARXIV_ID_IN_TEXT, is_arxiv_id, normalise_title, parse_arxiv_id
from ._libfiles import parse_file_field

if TYPE_CHECKING:  # pragma: no cover  (Log imports this module's workflows: no import back)
    from ._log import Log

EXPORT_MARK = "paper-zoo reading log export"
#: In the mark line of exports that write each paper's pending flag (``needsrefresh = {yes}``): an export without
#: it predates the flag, and its papers' flags are guessed as for any other file.
FLAGS_MARK = "pending metadata marked needsrefresh"
# Records per write transaction, and the pause after each: a batch holds the write lock for tens of milliseconds, and
# the pause lets another writer (`reading add`, the app) in between batches instead of waiting for the whole import.
WRITE_BATCH = 200
JSONL_BATCH = WRITE_BATCH
BATCH_PAUSE_S = 0.03


def _ws(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def summary(report: dict[str, Any]) -> str:
    """One line: what an import did."""
    line = f"added {report['added']}, merged {report['merged']}"
    if report.get("links"):
        line += f", linked {report['links']} zoo model(s)"
    if report.get("errors"):
        line += f", skipped {len(report['errors'])} bad record(s) (first: {report['errors'][0]})"
    if report.get("pdfs"):
        line += f", attached {report['pdfs']} PDF(s)"
    if report.get("missing"):
        line += f", {len(report['missing'])} missing file(s) (first: {report['missing'][0]})"
    if report.get("resumed_at"):
        line += f" (resumed at byte {report['resumed_at']})"
    return line


def import_file(log: Log, path: Path, *, fmt: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Import ``path`` in format ``fmt`` (bibtex, csl-json, ris, jsonl, csv, json; default from the extension, and
    for ``.json`` from the content). PDFs that BibTeX ``file`` fields and RIS ``L1``/``UR`` links name are attached
    (relative paths from the file's folder): ``pdfs`` and ``missing`` in the report."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    sniff = fmt is None
    if fmt is None:
        fmt = {".bib": "bibtex", ".bibtex": "bibtex", ".jsonl": "jsonl", ".csv": "csv", ".json": "json",
               ".ris": "ris", ".csljson": "csl-json"}.get(path.suffix.lower())
        if fmt is None:
            raise InvalidInput(f"cannot tell the format of {path.name}; pass --format "
                               "bibtex|csl-json|ris|jsonl|csv|json")
    if fmt == "jsonl":
        return import_jsonl(log, path, progress=progress)
    try:
        # newlines as written: a lone CR inside a CSV cell or a note is data (only CRLF line ends are folded)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
        if fmt != "csv":
            text = text.replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} is not UTF-8 text") from None
    except OSError as err:
        raise InvalidInput(f"cannot read {path}: {err.strerror or err}") from None
    from . import _csl, _libfiles, _ris

    if sniff and fmt == "json" and _csl.is_csl_json(text):
        fmt = "csl-json"
    readers = {"bibtex": bibtex_records, "csv": csv_records, "json": json_records, "csl-json": _csl.csl_records,
               "ris": _ris.ris_records}
    # the whole file is parsed before the first write: parsing never holds the log's write lock
    records = list(readers[fmt](text))
    report = write_records(log, records, source=fmt, progress=progress, desc=path.name)
    if any(r.get("_files") for r in records):
        _libfiles.attach_files(log, records, path.resolve().parent, report, progress=progress)
    return report


def write_records(log: Log, records: list[dict[str, Any]], *, source: str, progress: bool = False,
                  desc: str = "import", batch: int = WRITE_BATCH) -> dict[str, Any]:
    """Store parsed records ``batch`` at a time, each batch its own short transaction, with a pause after each so
    that other writers get the log in between; a progress bar when ``progress``. Returns the merged report."""
    from tqdm import tqdm

    report: dict[str, Any] = {"added": 0, "merged": 0, "links": 0, "errors": [], "ids": []}
    with tqdm(total=len(records), unit="paper", desc=desc, disable=not progress or not records) as bar:
        for start in range(0, len(records), batch):
            chunk = records[start:start + batch]
            _merge_report(report, log.import_records(chunk, source=source))
            bar.update(len(chunk))
            if start + batch < len(records):
                time.sleep(BATCH_PAUSE_S)
    if not records:
        _merge_report(report, log.import_records([], source=source))
    return report


def _merge_report(report: dict[str, Any], part: dict[str, Any]) -> None:
    for k in ("added", "merged", "links"):
        report[k] += part[k]
    report["errors"] += part["errors"]
    report.setdefault("ids", []).extend(part.get("ids", []))


# --- BibTeX -----------------------------------------------------------------------------------------------------

_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]*(?:preprint\s+)?(?:arxiv:)?\s*" + ARXIV_ID_IN_TEXT, re.IGNORECASE | re.ASCII)
# Zotero adds arXiv's subject names ("Computer Science - Machine Learning") as automatic keywords: not user tags
_AUTO_KEYWORD = re.compile(r"^[A-Z][A-Za-z ,]+ - [A-Z]")


def _bib_arxiv_id(fields: dict[str, str]) -> str | None:
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    if fields.get("eprint") and (prefix == "arxiv" or is_arxiv_id(fields["eprint"])):
        if is_arxiv_id(fields["eprint"]):
            return parse_arxiv_id(fields["eprint"])
    url = fields.get("url", "")
    if "arxiv.org/" in url and is_arxiv_id(url.strip()):
        return parse_arxiv_id(url.strip())
    doi = fields.get("doi", "")
    m = re.match(r"10\.48550/arxiv\.(.+)$", doi.strip(), re.IGNORECASE)
    if m and is_arxiv_id(m.group(1)):
        return parse_arxiv_id(m.group(1))
    for key in ("note", "journal", "howpublished"):
        m = _ARXIV_IN_TEXT.search(fields.get(key, ""))
        if m and is_arxiv_id(m.group(1)):
            return parse_arxiv_id(m.group(1))
    return None


def _bib_venue(fields: dict[str, str], ours: bool) -> str | None:
    for key in ("booktitle", "journal", "journaltitle", "venue"):
        value = _ws(fields.get(key))
        if value and ours:
            return value
        if value and not re.match(r"^arxiv( preprint)?\b", value, re.IGNORECASE):
            return value
    return None


# what the LaTeX decoder changes besides braces: macros, comments, ties, alignment, math, dashes and TeX quotes
_LATEX_SYNTAX = re.compile(r"[\\%~&$]|--|``|''|[?!]`")
# a piece that ends inside a group, with a control word (``\\c c``: its argument follows a space) or a lone
# backslash (a control space) continues into the next piece
_OPEN_END = re.compile(r"\\[A-Za-z]+\*?$|(?<!\\)(?:\\\\)*\\$")
_WHOLE_FIELD_BELOW = 120


def _latex_decoder() -> Any:
    """bibtexparser's LaTeX decoding, run only where a value holds LaTeX: decoding every field of every entry was
    97% of a large import. A value (or a long value's space-separated piece) with no LaTeX syntax decodes to
    itself minus grouping braces; a long value is decoded piece by piece, so one ``\\%`` in an abstract costs one
    short decode, not a decode of the whole abstract. Values with math (``$``) or a comment (``%``) are decoded
    whole: both reach across spaces."""
    from bibtexparser import middlewares as mw

    class _WhereNeeded(mw.LatexDecodingMiddleware):
        seen: dict[str, tuple[str, str]] = {}  # names and escapes recur across a library: each is decoded once

        def transform_entry(self, entry: Any, library: Any) -> Any:
            # a `file` field holds paths, where a backslash is a separator or an escape, never LaTeX
            raw = [(f, f.value) for f in entry.fields if f.key.lower() == "file" and isinstance(f.value, str)]
            out = super().transform_entry(entry, library)
            for f, value in raw:
                f.value = value
            return out

        def _full(self, text: str) -> tuple[str, str]:
            if text not in self.seen:
                self.seen[text] = super()._transform_python_value_string(text)
            return self.seen[text]

        def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
            text = python_string
            if not _LATEX_SYNTAX.search(text):
                return text.replace("{", "").replace("}", ""), ""
            if len(text) < _WHOLE_FIELD_BELOW or "$" in text or re.search(r"(?<!\\)%", text):
                return self._full(text)
            pieces, cur, depth = [], "", 0
            for part in re.split(r"(\s+)", text):
                if not part:
                    continue
                if part.isspace() and depth == 0 and not (cur and _OPEN_END.search(cur)):
                    pieces += [cur, part] if cur else [part]
                    cur = ""
                    continue
                cur += part
                depth += part.count("{") - part.count("}")
                if depth < 0:
                    return self._full(text)
            if depth or _OPEN_END.search(cur):
                return self._full(text)  # a group left open, or a trailing backslash: decode the whole value
            pieces.append(cur)
            out, errors = [], []
            for piece in pieces:
                if not _LATEX_SYNTAX.search(piece):
                    out.append(piece.replace("{", "").replace("}", ""))
                    continue
                decoded, err = self._full(piece)
                out.append(decoded)
                errors.append(err)
            return "".join(out), "".join(errors)

    return _WhereNeeded()


def bibtex_records(text: str) -> Iterator[dict[str, Any]]:
    """Records from BibTeX text. LaTeX escapes (Zotero's ``{\\"u}``, ``\\&``) are decoded, except in files this
    log exported (marked, UTF-8, written without escaping) so that they re-import exactly. An entry that cannot be
    read becomes a record with an ``_error`` (reported, not stored)."""
    import bibtexparser
    from bibtexparser import middlewares as mw

    ours = EXPORT_MARK in text[:500]
    flagged = ours and FLAGS_MARK in text[:500]
    # names are split before decoding (on the raw text, where braces still protect an "and"), so each name part
    # is decoded on its own: short strings, and the same names again and again
    decoder = None if ours else _latex_decoder()
    stack = [mw.NormalizeFieldKeys(), mw.SeparateCoAuthors(), mw.SplitNameParts()]
    stack += [] if decoder is None else [decoder]
    import logging

    quiet = logging.getLogger("bibtexparser")  # it logs each broken entry; they are reported in the summary instead
    was = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        library = bibtexparser.parse_string(text, append_middleware=stack)
    except RecursionError:
        raise InvalidInput("the BibTeX is nested too deeply to read") from None
    finally:
        quiet.setLevel(was)
    if not library.entries and not library.failed_blocks and text.strip():
        raise InvalidInput("no BibTeX entries found (is it a .bib file?)")
    entries = list(library.entries)
    for n, block in enumerate(library.failed_blocks, start=1):
        where = f"line {(block.start_line or 0) + 1}"
        if type(block).__name__ == "DuplicateBlockKeyBlock":
            # two entries with one key (Zotero exports have them): both are papers; read the second on its own
            raw = re.sub(r"^(\s*@\w+\s*[{(]\s*)([^,\s]*)", lambda m: f"{m.group(1)}{m.group(2)}~{n}", block.raw or "", 1)
            again = bibtexparser.parse_string(raw, append_middleware=stack)
            if again.entries:
                entries += again.entries
                continue
        err = getattr(block, "error", None)
        why = str(err or "") or str(getattr(err, "abort_reason", "") or "") or "not a BibTeX entry"
        yield {"_where": where, "_error": " ".join(why.split())[:160]}
    for entry in entries:
        try:
            yield _bib_record(entry, ours, decoder, flagged=flagged)
        except (ValueError, TypeError, KeyError, AttributeError, ReadingError) as err:
            yield {"_where": f"entry {entry.key}", "_error": _reason(err)}


def _bib_record(entry: Any, ours: bool, decoder: Any, *, flagged: bool = False) -> dict[str, Any]:
    def dec(text: str) -> str:
        return text if decoder is None else decoder._transform_python_value_string(text)[0]

    fields: dict[str, Any] = {f.key.lower(): f.value for f in entry.fields}
    authors = []
    for name in fields.pop("author", []) or []:
        if isinstance(name, str):
            authors.append(_ws(dec(name)))
            continue
        full = " ".join(dec(part) for part in name.first + name.von + name.last)
        authors.append(_ws(full + (", " + " ".join(dec(part) for part in name.jr) if name.jr else "")))
    fields = {k: (v if isinstance(v, str) else str(v)) for k, v in fields.items()}
    year_text = fields.get("year") or fields.get("date", "")[:4]
    year = int(year_text) if re.fullmatch(r"[0-9]{4}", year_text.strip() or "x") else None
    keywords = (split_items(fields.get("keywords"), ",;") if ours else
                [k.strip() for k in re.split(r"[,;]", fields.get("keywords", "")) if k.strip()])
    record: dict[str, Any] = {
        "title": _ws(fields.get("title")),
        "authors": authors,
        "year": year,
        "venue": _bib_venue(fields, ours),
        "abstract": fields.get("abstract", "").strip() if ours else _ws(fields.get("abstract")),
        "doi": fields.get("doi"),
        "arxiv_id": _bib_arxiv_id(fields),
        "url": fields.get("url"),
        "categories": fields.get("primaryclass", "").split() if ours else [],
        "tags": keywords if ours else [k for k in keywords if not _AUTO_KEYWORD.match(k)],
        "notes": split_notes(fields.get("annote")),
        "_files": parse_file_field(fields.get("file")),
        "_where": f"entry {entry.key}",
    }
    if ours:
        record["status"] = fields.get("readstatus") or None
        record["rating"] = int(fields["rating"]) if fields.get("rating", "").isdigit() else None
        record["reads"] = [d.strip() for d in fields.get("readon", "").split(",") if d.strip()]
        record["added_at"] = fields.get("added") or None
        record["models"] = [m.strip() for m in fields.get("zoomodels", "").split(",") if m.strip()]
    if flagged:
        record["needs_refresh"] = fields.get("needsrefresh") == "yes"
        record["manual_fields"] = fields.get("manualfields", "").replace(",", " ").split()
    return record


# --- arXiv metadata JSONL snapshot ------------------------------------------------------------------------------


def _typed(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise InvalidInput(f"'{key}' must be {what}, not {type(value).__name__}")
    return value


def jsonl_record(obj: dict[str, Any]) -> dict[str, Any]:
    """A record from one line of the public arXiv metadata snapshot (``id``, ``title``, ``abstract``,
    ``authors`` / ``authors_parsed``, ``categories``, ``versions``, optional ``doi`` and ``journal-ref``).

    Raises:
        InvalidInput: a field of the wrong type (the message names it), or no arXiv id.
    """
    if not isinstance(obj, dict) or "id" not in obj:
        raise InvalidInput("not an arXiv metadata record (no 'id')")
    aid = parse_arxiv_id(_typed(obj, "id", str, "a string"))
    for key in ("title", "abstract", "authors", "categories", "doi", "journal-ref"):
        _typed(obj, key, str, "a string")
    parsed = _typed(obj, "authors_parsed", list, "a list of [last, first, suffix] lists")
    if parsed and not all(isinstance(a, list) and a and all(isinstance(p, str) for p in a) for a in parsed):
        raise InvalidInput("'authors_parsed' must be a list of [last, first, suffix] lists of strings")
    versions = _typed(obj, "versions", list, "a list")
    if versions and not (isinstance(versions[0], dict) and isinstance(versions[0].get("created", ""), str)):
        raise InvalidInput("'versions' must be a list of objects with a 'created' date string")
    if parsed:
        authors = [_ws(" ".join(p for p in (a[1] if len(a) > 1 else "", a[0], a[2] if len(a) > 2 else "") if p))
                   for a in parsed]
    else:
        authors = [_ws(a) for a in re.split(r",\s*|\s+and\s+", obj.get("authors") or "") if _ws(a)]
    published = None
    if versions and versions[0].get("created"):
        try:
            published = email.utils.parsedate_to_datetime(versions[0]["created"]).date()
        except (TypeError, ValueError, IndexError):
            published = None
    return {
        "arxiv_id": aid,
        "title": _ws(obj.get("title")),
        "authors": [a for a in authors if a],
        "abstract": _ws(obj.get("abstract")),
        "categories": (obj.get("categories") or "").split(),
        "doi": obj.get("doi"),
        "venue": _ws(obj.get("journal-ref")) or None,
        "year": published.year if published else None,
        "published": published.isoformat() if published else None,
        "url": f"https://arxiv.org/abs/{aid}",
    }


def import_jsonl(log: Log, path: Path, *, progress: bool = False, batch: int = JSONL_BATCH) -> dict[str, Any]:
    """Stream an arXiv metadata snapshot into the log, ``batch`` records per transaction.

    The byte offset reached is saved in the same transaction as each batch, so an interrupted import (Ctrl-C,
    kill) resumes where it stopped when run again, and never stores a paper twice. A line that cannot be read
    (not JSON, a field of the wrong type) is skipped and named in ``errors`` (line number, or byte offset after a
    resume, and the reason); the offset moves past it like past any other line.
    """
    from tqdm import tqdm

    path = Path(path).resolve()
    stat = path.stat()
    key = f"import.jsonl:{path}"
    saved = log.get_setting(key) or {}
    start = saved.get("offset", 0) if (saved.get("size"), saved.get("mtime_ns")) == (stat.st_size,
                                                                                       stat.st_mtime_ns) else 0
    report: dict[str, Any] = {"added": 0, "merged": 0, "links": 0, "errors": [], "ids": [], "resumed_at": start}
    bar = tqdm(total=stat.st_size, initial=start, unit="B", unit_scale=True, desc=path.name, disable=not progress)
    with open(path, "rb") as fh, bar:
        fh.seek(start)
        offset, lineno, pending, seen = start, 0, [], 0
        for raw in fh:
            lineno += 1
            where = f"line {lineno}" if not start else f"line at byte {offset}"
            offset += len(raw)
            if raw.strip():
                seen += 1
                try:
                    obj = json.loads(raw)
                except (ValueError, RecursionError) as err:
                    if seen == 1 and start == 0:
                        raise InvalidInput(f"{path.name} is not an arXiv JSONL snapshot (line {lineno}: "
                                           f"{_reason(err)})") from None
                    report["errors"].append(f"{where}: {_reason(err)}")
                    continue
                try:
                    record = jsonl_record(obj)
                except (ValueError, TypeError, KeyError, AttributeError, ReadingError) as err:
                    if seen == 1 and start == 0 and not isinstance(obj, dict):
                        raise InvalidInput(f"{path.name} is not an arXiv JSONL snapshot (line {lineno}: "
                                           f"{_reason(err)})") from None
                    report["errors"].append(f"{where}: {_reason(err)}")
                    continue
                record["_where"] = where
                pending.append(record)
            if len(pending) >= batch:
                _commit_batch(log, pending, key, offset, stat, report)
                bar.update(offset - bar.n)
                pending = []
                time.sleep(BATCH_PAUSE_S)
        _commit_batch(log, pending, key, offset, stat, report)
        bar.update(offset - bar.n)
    log.set_setting(key, None)  # finished: a later run imports the file afresh (idempotently)
    return report


def _reason(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply"
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:120]


def _commit_batch(log: Log, records: list[dict[str, Any]], key: str, offset: int, stat: os.stat_result,
                  report: dict[str, Any]) -> None:
    with log.transaction():
        part = log.import_records(records, source="jsonl")
        log.set_setting(key, {"offset": offset, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    _merge_report(report, part)


# --- our own JSON and CSV exports -------------------------------------------------------------------------------

CSV_COLUMNS = ("id", "arxiv_id", "doi", "title", "authors", "year", "venue", "categories", "url", "status", "rating",
               "tags", "read_on", "added_at", "abstract", "notes", "needs_refresh", "manual_fields", "models")


def json_records(text: str) -> Iterator[dict[str, Any]]:
    """Records from ``reading export --format json`` (a list of paper objects). A paper that cannot be read
    becomes a record with an ``_error`` (reported, not stored); the others import."""
    data = parse_json(text)
    if isinstance(data, dict):
        data = data.get("papers", [])
    if not isinstance(data, list):
        raise InvalidInput("expected a JSON list of papers")
    for i, paper in enumerate(data):
        try:
            yield _json_record(paper, f"paper {i}")
        except (ReadingError, ValueError, TypeError, KeyError, AttributeError) as err:
            yield {"_where": f"paper {i}", "_error": _reason(err)}


def _json_record(paper: Any, where: str) -> dict[str, Any]:
    if not isinstance(paper, dict):
        raise InvalidInput("not a JSON object")
    record = {k: paper.get(k) for k in ("arxiv_id", "doi", "title", "authors", "abstract", "year", "venue",
                                        "categories", "url", "published", "status", "rating", "tags", "added_at",
                                        "updated_at", "needs_refresh", "manual_fields", "source")}
    # notes and reads keep their creation times (our export writes them), so a round trip changes no date
    record["notes"] = [_dated(n, "text", "note") for n in _listed(paper, "notes")]
    record["reads"] = [_dated(r, "read_on", "read") for r in _listed(paper, "reads")]
    record["models"] = _listed(paper, "models")
    record["_where"] = where
    return record


def _listed(paper: dict[str, Any], key: str) -> list[Any]:
    value = paper.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"'{key}' must be a list, not {type(value).__name__}")
    return value


def _dated(item: Any, key: str, what: str) -> str | dict[str, str]:
    """A note or a read as :meth:`Log.import_records` takes it: its text or date, with its ``created_at`` when the
    item has one."""
    value = _member(item, key, what)
    created = item.get("created_at") if isinstance(item, dict) else None
    return {key: value, "created_at": created} if isinstance(created, str) and created else value


def _member(item: Any, key: str, what: str) -> str:
    """A note's text or a read's date: the object's ``key`` (or the item itself when it is a string)."""
    value = item.get(key) if isinstance(item, dict) else item
    if not isinstance(value, str):
        raise InvalidInput(f"a {what} without '{key}'" if isinstance(item, dict) else f"a {what} must be a string "
                           f"or an object with '{key}'")
    return value


def csv_records(text: str) -> Iterator[dict[str, Any]]:
    """Records from ``reading export --format csv``: lists are ``; ``-separated (``\\;`` inside an item), notes by a
    rule line, and cells that a spreadsheet would run as formulas carry a leading ``'`` (removed here)."""
    # a long abstract or notes cell is data, not an attack: lift the csv module's 128 KiB cell limit
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as err:
        raise InvalidInput(f"not CSV: {err}") from None
    if not fieldnames or "title" not in fieldnames:
        raise InvalidInput("CSV needs a header row with at least a 'title' column")
    i = 1
    while True:
        i += 1
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield {"_where": f"row {i}", "_error": f"not CSV: {err}"}
            continue
        row = {k: restore_cell(v) if isinstance(v, str) else v for k, v in raw.items() if k is not None}
        yield {
            "arxiv_id": row.get("arxiv_id") or None,
            "doi": row.get("doi") or None,
            "title": row.get("title") or "",
            "authors": split_items(row.get("authors")),
            "year": row.get("year") or None,
            "venue": row.get("venue") or None,
            "categories": (row.get("categories") or "").split(),
            "url": row.get("url") or None,
            "status": row.get("status") or None,
            "rating": row.get("rating") or None,
            "tags": split_items(row.get("tags")),
            "reads": split_items(row.get("read_on")),
            "added_at": row.get("added_at") or None,
            "abstract": row.get("abstract") or "",
            "notes": split_notes(row.get("notes")),
            # a file without the column (older exports, other programs) leaves the flag to the usual guess
            "needs_refresh": None if "needs_refresh" not in fieldnames else row.get("needs_refresh") == "yes",
            "manual_fields": (row.get("manual_fields") or "").split(),
            "models": split_items(row.get("models")),
            "_where": f"row {i}",
        }


# --- the starter set --------------------------------------------------------------------------------------------


def starter_papers() -> dict[str, Any]:
    """The bundled starter set (``reading/data/starter_papers.json``): papers, and the zoo models of each."""
    text = resources.files("reading").joinpath("data/starter_papers.json").read_text(encoding="utf-8")
    return json.loads(text)


def starter_summary(paper: Mapping[str, Any]) -> str | None:
    """Our summary of a starter-set paper (matched by arXiv id, else by title), or None for any other paper. The set
    ships no abstracts (arXiv's arrive with ``reading refresh --all``); a page can show this instead."""
    summaries = _starter_summaries()
    return summaries.get(paper.get("arxiv_id") or "") or summaries.get(normalise_title(paper.get("title")))


@functools.lru_cache(maxsize=1)
def _starter_summaries() -> dict[str, str]:
    return {p.get("arxiv_id") or normalise_title(p.get("title")): p["summary"].strip()
            for p in starter_papers()["papers"] if (p.get("summary") or "").strip()}


_METRIC_NAMES = {"macs": "MACs", "params": "params", "top1": "top-1", "top1_err": "top-1 error",
                 "top5_err": "top-5 error"}


def starter_note(paper: dict[str, Any]) -> str:
    """The note a starter paper comes with: our summary, then the figures it claims for the zoo's models."""
    lines = [paper.get("summary", "").strip()]
    for claim in paper.get("claims", []):
        figures = ", ".join(f"{_METRIC_NAMES.get(f['metric'], f['metric'])} {f['value']:g}"
                            f"{'%' if f['unit'] == '%' else ' ' + f['unit']} ({f['source']})" for f in claim["figures"])
        lines.append(f"- {' / '.join(claim['models'])}: {figures}")
    if len(lines) > 1:
        lines.insert(1, "\nClaimed in the paper for the zoo's models:\n")
    return "\n".join(lines).strip()


def import_starter(log: Log) -> dict[str, Any]:
    """Load the starter set: its papers (to-read and complete as shipped: our summary as a note, tags, the claimed
    figures) and their zoo model links. ``reading refresh --all`` adds arXiv's abstracts when online."""
    data = starter_papers()
    records = []
    for paper in data["papers"]:
        record = {k: paper.get(k) for k in ("arxiv_id", "title", "authors", "year", "venue", "doi")}
        record["tags"] = paper.get("tags", [])
        record["notes"] = [starter_note(paper)] if paper.get("summary") else []
        record["models"] = paper.get("zoo_models", [])
        record["_where"] = paper["title"]
        records.append(record)
    return log.import_records(records, source="starter")
