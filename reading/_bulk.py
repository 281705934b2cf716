"""Bulk writes of the :class:`~reading.Log`: refresh from arXiv and record imports (mixed into ``Log``)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import _db
from ._base import LogCore
from ._errors import InvalidInput, ReadingError
from ._fields import (
    MANUAL_FIELDS,
    _check_rating,
    _check_status,
    _check_year,
    _clean_tags,
    _clean_text,
    now_iso,
    parse_read_date,
    parse_timestamp,
    split_authors,
)
from ._ids import parse_arxiv_id, parse_doi

if TYPE_CHECKING:  # pragma: no cover
    from ._log import Log

_Self = TypeVar("_Self", bound="BulkMixin")


def _dated(item: str | dict[str, str], key: str) -> tuple[str, str | None]:
    """A note's text or a read's date, and its creation time when the record carries one (our JSON export)."""
    if isinstance(item, str):
        return item, None
    return item.get(key, ""), parse_timestamp(item.get("created_at"), "created_at")


def _lenient_year(value: Any) -> int | None:
    """Bulk data has odd years ("None", 801): keep the paper, drop the year."""
    try:
        return _check_year(value)
    except InvalidInput:
        return None


class BulkMixin(LogCore):
    """refresh, transaction, import_records."""

    def refresh(self, refs: Iterable[int | str] | None = None, *, client: Any = None,
                progress: bool = False) -> dict[str, Any]:
        """Complete papers from arXiv: those given, else every paper flagged ``needs_refresh``.

        Fields the user typed are kept. Work is saved batch by batch, so an interruption or a lost connection
        keeps what was fetched. Returns ``{"updated": [ids], "missing": [arXiv ids arXiv does not know],
        "error": one-line message or None}``.
        """
        from ._arxiv import BATCH, FetchError, fetch

        with self._lock:
            if refs is None:
                todo = [(p["id"], p["arxiv_id"]) for p in self.papers(sort="title") if p["needs_refresh"]]
            else:
                todo = [(pid, self._paper(pid)["arxiv_id"]) for pid in (self._resolve(r) for r in refs)]
        todo = [(pid, aid) for pid, aid in todo if aid]
        report: dict[str, Any] = {"updated": [], "missing": [], "error": None}
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="paper", desc="refresh", disable=not progress or not todo)
        try:
            for start in range(0, len(todo), BATCH):
                chunk = todo[start:start + BATCH]
                try:
                    found = fetch([str(aid) for _, aid in chunk], client=client)  # all set: filtered above
                except FetchError as err:
                    report["error"] = str(err)
                    break
                with self._lock, self._write():
                    for pid, aid in chunk:
                        if aid not in found or not _db.paper_exists(self.conn, pid):
                            report["missing"].append(aid)
                            continue
                        fields = {k: v for k, v in found[aid].items() if k != "arxiv_id"}
                        self._merge(pid, fields, manual=[], fetched=True, status=None, rating=None)
                        self._touch(pid)
                        report["updated"].append(pid)
                bar.update(len(chunk))
        finally:
            bar.close()
        return report

    def import_file(self, path: Any, *, fmt: str | None = None, progress: bool = False) -> dict[str, Any]:
        """Import a BibTeX (Zotero too), arXiv JSONL snapshot, or our CSV/JSON export; format from the extension
        unless ``fmt`` is given. Returns ``{"added", "merged", "links", "errors"}``; see ``reading import``."""
        from ._intake import import_file

        return import_file(cast("Log", self), path, fmt=fmt, progress=progress)  # mixed into Log only

    def import_starter(self) -> dict[str, Any]:
        """Load the bundled starter set (the papers behind the zoo, linked to its model names); idempotent."""
        from ._intake import import_starter

        return import_starter(cast("Log", self))

    def export(self, fmt: str, *, tag: str | None = None) -> str:
        """The log (or papers with ``tag``) as ``bibtex``, ``json`` or ``csv`` text; re-imports to the same library."""
        from ._export import export_text

        return export_text(cast("Log", self), fmt, tag=tag)

    @contextlib.contextmanager
    def transaction(self: _Self) -> Iterator[_Self]:
        """Group several writes into one transaction (all or nothing); calls inside it join it."""
        with self._lock, self._write():
            yield self

    def import_records(self, records: Iterable[dict[str, Any]], *, source: str) -> dict[str, Any]:
        """Merge bibliographic records (from an importer) into the log, duplicates matched as in :meth:`add`.

        A record holds paper fields (``title``, ``authors``, ``arxiv_id``, ``doi`` ...) and optionally ``tags``,
        ``notes`` (texts), ``reads`` (dates), ``status``, ``rating``, ``added_at`` and ``models`` (zoo model names
        linked to its arXiv id). Imported fields fill blanks; they never replace what is in the log. A bad record
        is skipped and reported; the others are stored, all in one transaction.

        Returns ``{"added": n, "merged": n, "links": n, "errors": ["where: why", ...], "ids": [paper ids]}``.
        """
        report: dict[str, Any] = {"added": 0, "merged": 0, "links": 0, "errors": [], "ids": []}
        with self.transaction():
            for record in records:
                where = record.get("_where", "record")
                if record.get("_error"):  # the importer could not read this one: reported, not stored
                    report["errors"].append(f"{where}: {record['_error']}")
                    continue
                self.conn.execute("SAVEPOINT record")
                try:
                    pid, created, links = self._import_one(record, source)
                except (ReadingError, ValueError, TypeError, KeyError, AttributeError) as err:
                    self.conn.execute("ROLLBACK TO record")
                    report["errors"].append(f"{where}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
                    continue
                finally:
                    self.conn.execute("RELEASE record")
                report["added" if created else "merged"] += 1
                report["links"] += links
                report["ids"].append(pid)
        return report

    def _import_one(self, record: dict[str, Any], source: str) -> tuple[int, bool, int]:
        for key in ("authors", "categories", "tags", "notes", "reads", "models"):
            value = record.get(key)
            if value is not None and not isinstance(value, (list, tuple)) and not (key == "authors"
                                                                                   and isinstance(value, str)):
                raise InvalidInput(f"{key} must be a list, not {type(value).__name__}")
            dated = key in ("notes", "reads")  # a note or read may carry its creation time: {text|read_on, created_at}
            if value is not None and not isinstance(value, str) and not all(
                    isinstance(v, str) or (dated and isinstance(v, dict) and all(isinstance(x, str)
                                                                                 for x in v.values()))
                    for v in value):
                raise InvalidInput(f"{key} must be a list of strings")
        for key in ("title", "abstract", "venue", "url", "published", "doi", "arxiv_id"):
            if record.get(key) is not None and not isinstance(record[key], str):
                raise InvalidInput(f"{key} must be a string, not {type(record[key]).__name__}")
        aid = parse_arxiv_id(record["arxiv_id"]) if record.get("arxiv_id") else None
        doi = parse_doi(record.get("doi"))
        fields: dict[str, Any] = {
            "arxiv_id": aid,
            "doi": doi,
            "title": _clean_text(record.get("title")),
            "authors": split_authors(record.get("authors")),
            "abstract": (record.get("abstract") or "").strip(),
            "year": _lenient_year(record.get("year")),
            "venue": _clean_text(record.get("venue")),
            "categories": [str(c) for c in record.get("categories") or []],
            "url": record.get("url") or None,
            "published": record.get("published") or None,
        }
        if aid and fields["title"] == f"arXiv:{aid}":
            fields["title"] = None  # the stand-in title of a paper logged offline: still no title
        fields = {k: v for k, v in fields.items() if v not in (None, "", [])}
        if not fields.get("title") and not aid:
            raise InvalidInput("no title and no arXiv id")
        status = _check_status(record.get("status") or None)
        rating = _check_rating(record.get("rating") or None)
        reads = [(day, logged) for given, logged in (_dated(d, "read_on") for d in record.get("reads") or [])
                 if (day := parse_read_date(given))]
        added_at = parse_timestamp(record.get("added_at"))
        updated_at = parse_timestamp(record.get("updated_at"), "updated_at")
        flag = record.get("needs_refresh")  # our exports say; for other files it is guessed below
        if flag is not None and not isinstance(flag, bool):
            raise InvalidInput(f"needs_refresh must be true or false, not {type(flag).__name__}")
        manual = record.get("manual_fields") or []
        if not isinstance(manual, list) or not all(isinstance(m, str) for m in manual):
            raise InvalidInput("manual_fields must be a list of field names")
        origin = record.get("source")
        if origin is not None and not (isinstance(origin, str) and 0 < len(origin) <= 40):
            raise InvalidInput("source must be a short string")
        tags = _clean_tags(record.get("tags") or [])
        pid = self._match(aid, doi, fields.get("title"))
        created = pid is None
        if pid is None:
            if added_at:
                fields["added_at"] = added_at
            if updated_at:
                fields["updated_at"] = updated_at
            complete = source == "starter"  # bundled papers ship complete (our summary), not "logged offline"
            pending = bool(aid and not fields.get("abstract")) and not complete if flag is None else flag and bool(aid)
            pid = self._insert(fields, manual=list(dict.fromkeys(m for m in manual if m in MANUAL_FIELDS)),
                               needs_refresh=pending, status=status or ("read" if reads else "to-read"),
                               rating=rating, source=origin or source)
        else:
            self._merge(pid, fields, manual=[], fetched=False, status=status, rating=rating)
        if tags:
            _db.insert_tags(self.conn, pid, tags)
        for item in record.get("notes") or []:
            text, noted = _dated(item, "text")
            if text and text.strip() and not _db.has_note(self.conn, pid, text):
                _db.insert_note(self.conn, pid, text, noted or now_iso())
        for day, logged in reads:
            _db.insert_read(self.conn, pid, day, logged or now_iso())
        models = [m for m in record.get("models") or [] if m]
        if models:
            if not aid:
                raise InvalidInput("zoo model links need an arXiv id")
            for model in models:
                _db.upsert_link(self.conn, str(model), aid, "implements", now_iso())
        return pid, created, len(models)
