"""Import a Zotero library into the log: items with their creators, dates, tags, collections, child notes,
PDF annotations and PDFs (see README "Bring your library").

Two phases. Metadata, notes and annotations are written in short transactions of :data:`BATCH` items; then each PDF
goes through the log's PDF intake (:meth:`Log.attach_pdf`, or :meth:`Log.add_pdf` for a PDF without a parent
item), one transaction per file, as `reading import FOLDER/` does. What was imported is remembered by Zotero library
and item key (table ``imported_items``), so a second run brings only what is new, and a paper edited in the log
since (even its title) still receives its new notes and tags.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _db
from ._errors import InvalidInput, ReadingError
from ._fields import _clean_tags, now_iso
from ._ids import is_arxiv_id, parse_arxiv_id, parse_doi
from ._notehtml import html_to_markdown
from ._zotero_db import (
    EMBEDDED_IMAGE,
    IMPORTED_FILE,
    IMPORTED_URL,
    LINKED_FILE,
    LINKED_URL,
    Annotation,
    Attachment,
    Library,
    ZItem,
    find_database,
    linked_files_base,
    read_library,
    snapshot,
)

if TYPE_CHECKING:  # pragma: no cover
    from ._log import Log

BATCH = 200
BATCH_PAUSE_S = 0.03
#: Where a venue comes from, first found wins (Zotero field names; type-specific fields as Zotero stores them).
VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "conferenceName", "repository", "bookTitle", "university",
                "institution", "websiteTitle")
TITLE_FIELDS = ("title", "caseName", "nameOfAct", "subject")
#: Creators that are never authors, whatever the item type.
NOT_AUTHORS = {"editor", "seriesEditor", "translator", "reviewedAuthor", "bookAuthor", "contributor"}
_ARXIV_LINE = re.compile(r"(?im)^\s*arxiv\s*(?:id)?\s*:\s*(\S+)")
_DOI_LINE = re.compile(r"(?im)^\s*doi\s*:\s*(\S+)")
_ANNOTATION_LABEL = {"highlight": "Highlight", "underline": "Underline", "note": "Note", "text": "Text",
                     "image": "Image", "ink": "Drawing"}

Progress = Callable[[str, int, int], None]


# --- mapping Zotero's fields to the log's -----------------------------------------------------------------------


def zotero_time(value: str) -> str | None:
    """Zotero's ``YYYY-MM-DD HH:MM:SS`` (UTC) as the log's local ISO time with its offset; None if unreadable."""
    try:
        stamp = dt.datetime.fromisoformat(str(value).strip().replace(" ", "T"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.astimezone().isoformat(timespec="seconds")


def zotero_year(date: str | None) -> int | None:
    """The year of Zotero's ``date`` field, stored as ``YYYY-MM-DD original`` (``2016-00-00 2016``)."""
    if not date:
        return None
    m = re.match(r"^(\d{4})-\d{2}-\d{2}", date.strip())
    if m and m.group(1) != "0000":
        return int(m.group(1))
    m = re.search(r"\b(1[5-9]\d{2}|2\d{3})\b", date)
    return int(m.group(1)) if m else None


def _arxiv_id(fields: dict[str, str]) -> str | None:
    candidates = []
    archive_id = fields.get("archiveID", "")
    if archive_id.lower().startswith("arxiv:"):
        candidates.append(archive_id.split(":", 1)[1])
    candidates.append(fields.get("url", ""))
    m = re.match(r"10\.48550/arxiv\.(.+)$", fields.get("DOI", "").strip(), re.IGNORECASE)
    if m:
        candidates.append(m.group(1))
    candidates += _ARXIV_LINE.findall(fields.get("extra", ""))
    for text in candidates:
        text = text.strip()
        if text and is_arxiv_id(text):
            return parse_arxiv_id(text)
    return None


def item_record(item: ZItem) -> dict[str, Any]:
    """The log record of a regular Zotero item (as :meth:`Log.import_records` takes it)."""
    f = item.fields
    title = next((f[k] for k in TITLE_FIELDS if f.get(k, "").strip()), "")
    authors = [name for kind, name in item.creators if kind == "author"]
    if not authors and item.primary_creator and item.primary_creator not in NOT_AUTHORS:
        authors = [name for kind, name in item.creators if kind == item.primary_creator]
    doi = parse_doi(f.get("DOI")) or next((parse_doi(d) for d in _DOI_LINE.findall(f.get("extra", ""))
                                           if parse_doi(d)), None)
    return {
        "title": title,
        "authors": authors,
        "year": zotero_year(f.get("date")),
        "venue": next((f[k] for k in VENUE_FIELDS if f.get(k, "").strip()), None),
        "doi": doi,
        "arxiv_id": _arxiv_id(f),
        "url": f.get("url") or None,
        "abstract": f.get("abstractNote", ""),
        "added_at": zotero_time(item.date_added),
        "tags": [*item.tags, *item.collections],
        "_where": f"item {item.key}" + (f" ({title[:50]})" if title else ""),
    }


def annotation_note(a: Annotation) -> str | None:
    """A note for one PDF annotation: what it is and on which page, the quoted text, the comment (None if empty)."""
    text, comment = a.text.strip(), html_to_markdown(a.comment)
    if not text and not comment:
        return None
    head = f"**{_ANNOTATION_LABEL.get(a.kind, 'Annotation')}" + (f", p. {a.page_label}" if a.page_label else "") + "**"
    parts = [head]
    if text:
        parts.append("\n".join("> " + line if line.strip() else ">" for line in text.splitlines()))
    if comment:
        parts.append(comment)
    return "\n\n".join(parts)


def attachment_kind(att: Attachment) -> str:
    """``pdf``, or what kind of other attachment it is (the summary counts them)."""
    name = att.path.lower()
    if att.link_mode == LINKED_URL:
        return "link"
    if att.link_mode == EMBEDDED_IMAGE:
        return "image"
    if att.content_type == "application/pdf" or name.endswith(".pdf"):
        return "pdf"
    if att.content_type in ("text/html", "application/xhtml+xml") or name.endswith((".html", ".htm")):
        return "snapshot"
    if att.content_type == "application/epub+zip" or name.endswith(".epub"):
        return "EPUB"
    return "other file"


def attachment_path(att: Attachment, data_dir: Path, base_dir: Path | None) -> Path | None:
    """Where an attachment's file is: ``storage:<name>`` under ``storage/<KEY>/``, a linked file's absolute path,
    or ``attachments:<relative>`` under Zotero's base folder for linked files (``base_dir``; None if not given)."""
    path = att.path
    if att.link_mode in (IMPORTED_FILE, IMPORTED_URL) or path.startswith("storage:"):
        name = path[len("storage:"):] if path.startswith("storage:") else Path(path).name
        return data_dir / "storage" / att.key / name if name else None
    if att.link_mode == LINKED_FILE or path:
        if path.startswith("attachments:"):
            return base_dir / path[len("attachments:"):] if base_dir is not None else None
        return Path(path).expanduser() if path else None
    return None


# --- the import ---------------------------------------------------------------------------------------------------


def _new_report() -> dict[str, Any]:
    return {"added": 0, "merged": 0, "unchanged": 0, "pdfs": 0, "notes": 0, "annotations": 0, "links": 0,
            "skipped": Counter(), "missing": [], "errors": [], "ids": []}


def summary(report: dict[str, Any]) -> str:
    """One line: papers added, papers enriched, PDFs attached, notes, annotations, skipped by kind, missing files."""
    line = (f"added {report['added']} papers, enriched {report['merged']}, attached {report['pdfs']} PDFs, "
            f"{report['notes']} notes, {report['annotations']} annotations")
    if report.get("unchanged"):
        line += f"; {report['unchanged']} unchanged"
    skipped = report.get("skipped") or {}
    if skipped:
        line += "; skipped " + ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
    if report.get("missing"):
        line += f"; {len(report['missing'])} missing files (first: {report['missing'][0]})"
    if report.get("errors"):
        line += f"; {len(report['errors'])} errors (first: {report['errors'][0]})"
    return line


def import_zotero(log: Log, folder: str | Path, *, attachments_base: str | Path | None = None,
                  progress: bool = False, on_progress: Progress | None = None) -> dict[str, Any]:
    """Import the Zotero library in data folder ``folder`` (or its ``zotero.sqlite``) into ``log``.

    Args:
        attachments_base: Zotero's base folder for linked files (Settings > Advanced > Files and Folders), to
            find linked files stored as ``attachments:<relative path>``; default: the one in Zotero's prefs.js.
        progress: tqdm bars on stderr. on_progress: ``(phase, done, total)`` after each batch and each PDF.

    Returns:
        ``{"added", "merged", "unchanged", "pdfs", "notes", "annotations", "skipped": {kind: n}, "missing":
        [...], "errors": [...], "ids": [...], "timings": {...}}``; :func:`summary` makes it one line.

    Raises:
        InvalidInput: no Zotero database there, or not one this can read. Item by item problems are reported.
    """
    db = find_database(folder)
    base = Path(attachments_base).expanduser() if attachments_base else None
    t0 = time.perf_counter()
    with snapshot(db) as conn:
        try:
            lib = read_library(conn)
        except sqlite3.DatabaseError as err:  # a schema this reader does not know (a very old or newer Zotero)
            raise InvalidInput(f"cannot read the Zotero database {db}: {err}") from None
    if base is None and any(a.path.startswith("attachments:") for a in lib.attachments.values()):
        base = linked_files_base()
    report = _new_report()
    if lib.trashed:
        report["skipped"]["in the trash"] += lib.trashed
    t_read = time.perf_counter()
    papers = _metadata(log, lib, report, progress=progress, on_progress=on_progress)
    t_meta = time.perf_counter()
    _pdfs(log, lib, db.parent, base, papers, report, progress=progress, on_progress=on_progress)
    report["timings"] = {"read_s": t_read - t0, "metadata_s": t_meta - t_read, "pdfs_s": time.perf_counter() - t_meta}
    report["skipped"] = dict(report["skipped"])
    return report


def _source(library: str) -> str:
    return f"zotero:{library}"


def _known(log: Log, lib: Library) -> dict[str, dict[str, tuple[str, int | None]]]:
    with log._lock:
        return {s: _db.imported_items(log.conn, s) for s in {_source(lib_) for lib_, _ in lib.keys.values()}}


def _metadata(log: Log, lib: Library, report: dict[str, Any], *, progress: bool,
              on_progress: Progress | None) -> dict[int, int]:
    """Papers, tags, child notes and annotations; returns Zotero item id -> paper id."""
    from tqdm import tqdm

    known = _known(log, lib)
    notes_of: dict[int, list[tuple[int, str, str, str]]] = {}
    for item_id, key, parent, html, added in lib.notes:
        if parent is None or parent not in lib.items:
            report["skipped"]["standalone notes"] += 1
            continue
        notes_of.setdefault(parent, []).append((item_id, key, html, added))
    annots_of: dict[int, list[Annotation]] = {}
    for a in lib.annotations:
        parent = lib.attachments[a.attachment].parent
        if parent is not None and parent in lib.items:
            annots_of.setdefault(parent, []).append(a)
    papers: dict[int, int] = {}
    items = sorted(lib.items.values(), key=lambda i: (i.date_added, i.item_id))
    bar = tqdm(total=len(items), unit="item", desc="zotero", disable=not progress or not items)
    try:
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            with log.transaction():
                for item in chunk:
                    _one_item(log, item, notes_of.get(item.item_id, []), annots_of.get(item.item_id, []),
                              known[_source(item.library)], papers, report)
            bar.update(len(chunk))
            if on_progress:
                on_progress("items", start + len(chunk), len(items))
            if start + BATCH < len(items):
                time.sleep(BATCH_PAUSE_S)
    finally:
        bar.close()
    return papers


def _one_item(log: Log, item: ZItem, notes: list[tuple[int, str, str, str]], annotations: list[Annotation],
              known: dict[str, tuple[str, int | None]], papers: dict[int, int], report: dict[str, Any]) -> None:
    conn = log.conn
    source = _source(item.library)
    record = item_record(item)
    conn.execute("SAVEPOINT zotero_item")
    try:
        before = conn.total_changes
        done = []
        if item.key in known:
            pid = known[item.key][1]
            if pid is None:
                report["skipped"]["removed from the log since"] += 1
                return
            _db.insert_tags(conn, pid, _clean_tags(record["tags"]))
            created = False
        else:
            pid, created, _ = log._import_one(record, "zotero")
            done.append((item.key, "item", pid))
        for note_id, key, html, added in notes:
            if key in known:
                continue
            text = html_to_markdown(html)
            if text and not _db.has_note(conn, pid, text):
                _db.insert_note(conn, pid, text, zotero_time(added) or now_iso())
                report["notes"] += 1
            done.append((key, "note", pid))
        for a in annotations:
            if a.key in known:
                continue
            if _annotate(conn, pid, a):
                report["annotations"] += 1
            else:
                report["skipped"]["empty annotations"] += 1
            done.append((a.key, "annotation", pid))
        _db.record_imported(conn, source, done, now_iso())
        for key, kind, _ in done:
            known[key] = (kind, pid)
    except (ReadingError, ValueError, TypeError, KeyError, AttributeError, sqlite3.IntegrityError) as err:
        conn.execute("ROLLBACK TO zotero_item")
        report["errors"].append(f"{record['_where']}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
        return
    finally:
        conn.execute("RELEASE zotero_item")
    papers[item.item_id] = pid
    report["ids"].append(pid)
    if created:
        report["added"] += 1
    elif conn.total_changes > before + len(done):
        report["merged"] += 1  # an earlier import's paper (or a duplicate) that received something new
    else:
        report["unchanged"] += 1


def _annotate(conn: Any, pid: int, a: Annotation) -> bool:
    text = annotation_note(a)
    if text is None:
        return False
    if not _db.has_note(conn, pid, text):
        _db.insert_note(conn, pid, text, zotero_time(a.date_added) or now_iso())
    return True


def _pdfs(log: Log, lib: Library, data_dir: Path, base: Path | None, papers: dict[int, int],
          report: dict[str, Any], *, progress: bool, on_progress: Progress | None) -> None:
    """Attach each PDF not imported before; log a PDF without a parent item as `reading add file.pdf` would."""
    from tqdm import tqdm

    known = _known(log, lib)
    todo = []
    for att in lib.attachments.values():
        kind = attachment_kind(att)
        if kind != "pdf":
            report["skipped"][{"link": "links", "snapshot": "HTML snapshots", "EPUB": "EPUBs",
                               "image": "images"}.get(kind, "other attachments")] += 1
            continue
        mine = known[_source(lib.keys[att.item_id][0])]
        if att.key in mine:
            continue
        if att.parent is not None and att.parent not in papers:
            continue  # its item was skipped (broken, removed from the log): named above
        todo.append(att)
    annots_of: dict[int, list[Annotation]] = {}
    for a in lib.annotations:
        annots_of.setdefault(a.attachment, []).append(a)
    bar = tqdm(total=len(todo), unit="pdf", desc="zotero PDFs", disable=not progress or not todo)
    try:
        for n, att in enumerate(todo, start=1):
            _one_pdf(log, lib, att, data_dir, base, papers, annots_of.get(att.item_id, []), known, report)
            bar.update(1)
            if on_progress:
                on_progress("pdfs", n, len(todo))
    finally:
        bar.close()


def _one_pdf(log: Log, lib: Library, att: Attachment, data_dir: Path, base: Path | None, papers: dict[int, int],
             annotations: list[Annotation], known: dict[str, dict[str, tuple[str, int | None]]],
             report: dict[str, Any]) -> None:
    from ._pdf import EncryptedPdf

    source = _source(lib.keys[att.item_id][0])
    parent = lib.items.get(att.parent) if att.parent is not None else None
    owner = (parent.fields.get("title") or parent.key) if parent else (att.title or att.key)
    path = attachment_path(att, data_dir, base)
    if path is None or not path.is_file():
        shown = str(path) if path is not None else att.path
        why = " (a linked file under Zotero's base folder: pass its path)" if path is None and att.path else ""
        report["missing"].append(f"{owner[:60]}: {shown}{why}")
        return
    name = path.name
    try:
        if att.parent is not None:
            result = log.attach_pdf(papers[att.parent], path, name=name)
        else:
            tags = lib.attachment_collections.get(att.item_id, [])
            result = log.add_pdf(path, tags=tags, fetch=False, name=name)
            if result.created:
                report["added"] += 1
            elif not result.duplicate:
                report["merged"] += 1
    except EncryptedPdf as err:
        report["errors"].append(f"{owner[:60]}: {name}: {err}; add it by itself: reading attach ... --password")
        return
    except ReadingError as err:
        report["errors"].append(f"{owner[:60]}: {name}: {err}")
        return
    except OSError as err:
        report["errors"].append(f"{owner[:60]}: {name}: cannot read it: {err.strerror or err}")
        return
    pid = int(result.paper["id"])
    if not result.duplicate:
        report["pdfs"] += 1
    with log.transaction():
        rows = [(att.key, "attachment", pid)]
        if att.parent is None:
            for a in annotations:  # a standalone PDF's annotations: its paper exists only now
                if a.key not in known[source]:
                    if _annotate(log.conn, pid, a):
                        report["annotations"] += 1
                    rows.append((a.key, "annotation", pid))
        _db.record_imported(log.conn, source, rows, now_iso())
    for key, kind, _ in rows:
        known[source][key] = (kind, pid)
