"""The :class:`Log`: the public face of the paper log. Logic lives here, SQL in ``_db``."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _db
from ._config import default_db_path
from ._errors import InvalidInput, PaperNotFound, ReadingError
from ._ids import is_arxiv_id, normalise_title, parse_arxiv_id, parse_doi

if TYPE_CHECKING:
    import sqlite_utils

STATUSES = ("to-read", "reading", "read")
# fields a user may type by hand; those typed are remembered so a later refresh never overwrites them
MANUAL_FIELDS = ("title", "authors", "year", "venue", "abstract", "doi")


@dataclass
class AddResult:
    """What :meth:`Log.add` did: the paper as now stored, whether it is new, and a one-line warning if any."""

    paper: dict[str, Any]
    created: bool
    message: str | None = None


def now_iso() -> str:
    """Local time with its UTC offset, to the second: the first 10 characters are the local date."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def parse_date(value: str | dt.date | None, what: str = "date") -> str | None:
    """``YYYY-MM-DD`` of ``value`` (a date, an ISO string, ``today`` or ``yesterday``), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip().lower()
    if text == "today":
        return dt.date.today().isoformat()
    if text == "yesterday":
        return (dt.date.today() - dt.timedelta(days=1)).isoformat()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InvalidInput(f"bad {what} {value!r}: use YYYY-MM-DD, 'today' or 'yesterday'") from None


def split_authors(authors: str | Iterable[str] | None) -> list[str]:
    """Authors as a list: a string is split on semicolons (``"Kaiming He; Xiangyu Zhang"``)."""
    if authors is None:
        return []
    items = authors.split(";") if isinstance(authors, str) else list(authors)
    return [a.strip() for a in items if a and a.strip()]


def _clean_text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _clean_tags(tags: Iterable[str]) -> list[str]:
    out = []
    for tag in tags:
        tag = str(tag).strip()
        if not tag:
            raise InvalidInput("empty tag")
        if tag not in out:
            out.append(tag)
    return out


def _check_status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"bad status {status!r}: use one of {', '.join(STATUSES)}")
    return status


def _check_rating(rating: int | str | None) -> int | None:
    if rating is None:
        return None
    try:
        value = int(rating)
    except (TypeError, ValueError):
        raise InvalidInput(f"bad rating {rating!r}: use a whole number from 1 to 5") from None
    if not 1 <= value <= 5 or str(rating).strip() not in (str(value), f"{value}.0"):
        raise InvalidInput(f"bad rating {rating!r}: use a whole number from 1 to 5")
    return value


def _check_year(year: int | str | None) -> int | None:
    if year is None or year == "":
        return None
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise InvalidInput(f"bad year {year!r}") from None
    if not 1000 <= value <= 9999:
        raise InvalidInput(f"bad year {year!r}")
    return value


class Log:
    """One SQLite reading log. Open it with :func:`open_log`; use it as a context manager to close it.

    The object is safe to share between threads (the Streamlit app does): calls are serialised by a lock.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self.conn = _db.connect(path)
        self._lock = threading.RLock()
        self._db: sqlite_utils.Database | None = None

    # --- plumbing -------------------------------------------------------------------------------------------------

    @property
    def db(self) -> sqlite_utils.Database:
        """The ``sqlite_utils.Database`` over this log's connection (imported on first use: it is not light)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Log({str(self.path)!r})"

    def _write(self):
        return _db.write(self.conn)

    def _resolve(self, ref: int | str) -> int:
        """Row id of ``ref`` (row id, digit string, arXiv id in any accepted form, DOI)."""
        with self._lock:
            if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
                pid = int(ref)
                if _db.paper_exists(self.conn, pid):
                    return pid
                raise PaperNotFound(f"no paper with id {pid} in the log")
            text = str(ref).strip()
            if is_arxiv_id(text):
                pid = _db.find_paper_id(self.conn, arxiv_id=parse_arxiv_id(text))
            else:
                doi = parse_doi(text)
                pid = _db.find_paper_id(self.conn, doi=doi) if doi else None
                if not doi:
                    raise PaperNotFound(f"{text!r} is not a paper id, arXiv id or DOI")
            if pid is None:
                raise PaperNotFound(f"no paper {text!r} in the log")
            return pid

    def _paper(self, pid: int) -> dict[str, Any]:
        return _db.paper_rows(self.conn, [pid])[pid]

    def _touch(self, pid: int) -> None:
        _db.update_paper(self.conn, pid, {"updated_at": now_iso()})

    # --- papers ---------------------------------------------------------------------------------------------------

    def add(
        self,
        arxiv_id: str | None = None,
        *,
        title: str | None = None,
        authors: str | Iterable[str] | None = None,
        year: int | str | None = None,
        venue: str | None = None,
        abstract: str | None = None,
        doi: str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
        rating: int | None = None,
        status: str | None = None,
        read_on: str | dt.date | None = None,
        fetch: bool = True,
        client: Any = None,
    ) -> AddResult:
        """Log a paper, or log another read of one already in the log.

        A new paper gets metadata from arXiv when ``arxiv_id`` is given and ``fetch`` is true; the fields typed here
        win over arXiv's. If arXiv cannot be reached the paper is still logged from the typed fields, flagged
        ``needs_refresh``, and ``AddResult.message`` says so. A paper already in the log (same arXiv id, DOI or
        normalised title) gets the tags, note, rating and read merged in; no second paper is made.

        ``status`` defaults to ``"read"`` for a new paper; a read dated ``read_on`` (default today) is recorded
        unless the status is ``to-read`` or ``reading`` and no ``read_on`` is given.
        """
        aid = parse_arxiv_id(arxiv_id) if arxiv_id else None
        doi_norm = parse_doi(doi)
        if doi and not doi_norm:
            raise InvalidInput(f"bad DOI {doi!r}: expected 10.<registrant>/<suffix>")
        typed = {
            "title": title.strip() if title and title.strip() else None,
            "authors": split_authors(authors) or None,
            "year": _check_year(year),
            "venue": venue.strip() if venue and venue.strip() else None,
            "abstract": abstract.strip() if abstract and abstract.strip() else None,
            "doi": doi_norm,
        }
        typed = {k: v for k, v in typed.items() if v is not None}
        tags = _clean_tags(tags)
        rating = _check_rating(rating)
        status = _check_status(status)
        read_day = parse_date(read_on, "read-on date")
        if not aid and not typed.get("title"):
            raise InvalidInput("give an arXiv id or a --title")
        note = note if note and note.strip() else None

        with self._lock:
            existing = self._match(aid, doi_norm, typed.get("title"))
            fetched: dict[str, Any] = {}
            message = None
            needs_refresh = False
            if aid and fetch and (existing is None or self._paper(existing)["needs_refresh"]):
                from ._arxiv import FetchError, fetch_one

                try:
                    fetched = fetch_one(aid, client=client)
                except FetchError as err:
                    message = f"{err}; logged arXiv:{aid} from what you typed, run `reading refresh` later"
                    needs_refresh = True
            elif aid and not fetch and existing is None:
                needs_refresh = True

            fields = {**fetched, **typed}
            if aid:
                fields["arxiv_id"] = aid
            with self._write():
                pid = self._match(aid, fields.get("doi"), fields.get("title"))  # again, under the write lock
                created = pid is None
                record_read = bool(read_day) or (status or "read") == "read"
                if created:
                    pid = self._insert(fields, manual=list(typed), needs_refresh=needs_refresh,
                                       status=status or "read", rating=rating, source="arxiv" if fetched else "manual")
                else:
                    self._merge(pid, fields, manual=list(typed), fetched=bool(fetched),
                                status=status or ("read" if record_read else None), rating=rating)
                if tags:
                    _db.insert_tags(self.conn, pid, tags)
                if note and not _db.has_note(self.conn, pid, note):
                    _db.insert_note(self.conn, pid, note, now_iso())
                if record_read:
                    _db.insert_read(self.conn, pid, read_day or dt.date.today().isoformat(), now_iso())
                if not created:
                    self._touch(pid)
            return AddResult(self._paper(pid), created, message)

    def _match(self, aid: str | None, doi: str | None, title: str | None) -> int | None:
        """The paper this one duplicates: same arXiv id, else same DOI, else same normalised title; a paper with
        a different arXiv id is never a duplicate."""
        pid = _db.find_paper_id(self.conn, arxiv_id=aid, doi=doi, title_norm=normalise_title(title))
        if pid is not None and aid:
            other = self._paper(pid)["arxiv_id"]
            if other and other != aid:
                return None
        return pid

    def _insert(self, fields: dict[str, Any], *, manual: list[str], needs_refresh: bool, status: str,
                rating: int | None, source: str) -> int:
        now = now_iso()
        row = {
            **fields,
            "title": fields.get("title") or (f"arXiv:{fields['arxiv_id']}" if fields.get("arxiv_id") else ""),
            "title_norm": normalise_title(fields.get("title")),
            "added_at": fields.get("added_at") or now,
            "updated_at": now,
            "status": status,
            "rating": rating,
            "needs_refresh": needs_refresh,
            "manual_fields": manual,
            "source": source,
        }
        if row.get("arxiv_id") and not row.get("url"):
            row["url"] = f"https://arxiv.org/abs/{row['arxiv_id']}"
        if row.get("doi") and _db.find_paper_id(self.conn, doi=row["doi"]) is not None:
            row.pop("doi")  # another paper (a different arXiv id) already holds that DOI
        return _db.insert_paper(self.conn, row)

    def _merge(self, pid: int, fields: dict[str, Any], *, manual: list[str], fetched: bool, status: str | None,
               rating: int | None, force: bool = False) -> None:
        """Fold new facts into an existing paper. What a user typed before is kept (unless ``force``: an explicit
        edit); newly typed or fetched facts replace fetched ones and fill blanks."""
        old = self._paper(pid)
        keep = set(old["manual_fields"])
        update: dict[str, Any] = {}
        for key, value in fields.items():
            if value in (None, "", []):
                continue
            placeholder = key == "title" and old["arxiv_id"] and old["title"] == f"arXiv:{old['arxiv_id']}"
            typed_before = key in keep and not force
            if not old.get(key) or placeholder or (not typed_before and (key in manual or fetched) or force):
                if key == "arxiv_id" and old.get("arxiv_id"):
                    continue
                if key == "doi" and value != old.get("doi") and _db.find_paper_id(self.conn, doi=value):
                    continue  # another paper holds that DOI; never merge two papers silently
                update[key] = value
        if "title" in update:
            update["title_norm"] = normalise_title(update["title"])
        if manual:
            update["manual_fields"] = sorted(keep | set(manual))
        if fetched:
            update["needs_refresh"] = False
        if status is not None:
            update["status"] = status
        if rating is not None:
            update["rating"] = rating
        _db.update_paper(self.conn, pid, update)

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
                    found = fetch([aid for _, aid in chunk], client=client)
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

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Log]:
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
                self.conn.execute("SAVEPOINT record")
                try:
                    pid, created, links = self._import_one(record, source)
                except (ReadingError, ValueError, TypeError, KeyError) as err:
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
        aid = parse_arxiv_id(record["arxiv_id"]) if record.get("arxiv_id") else None
        doi = parse_doi(record.get("doi"))
        fields: dict[str, Any] = {
            "arxiv_id": aid,
            "doi": doi,
            "title": _clean_text(record.get("title")),
            "authors": split_authors(record.get("authors")),
            "abstract": (record.get("abstract") or "").strip(),
            "year": _check_year(record.get("year")),
            "venue": _clean_text(record.get("venue")),
            "categories": [str(c) for c in record.get("categories") or []],
            "url": record.get("url") or None,
            "published": record.get("published") or None,
        }
        fields = {k: v for k, v in fields.items() if v not in (None, "", [])}
        if not fields.get("title") and not aid:
            raise InvalidInput("no title and no arXiv id")
        status = _check_status(record.get("status") or None)
        rating = _check_rating(record.get("rating") or None)
        reads = [parse_date(d, "read date") for d in record.get("reads") or []]
        tags = _clean_tags(record.get("tags") or [])
        pid = self._match(aid, doi, fields.get("title"))
        created = pid is None
        if created:
            if record.get("added_at"):
                fields["added_at"] = str(record["added_at"])
            pid = self._insert(fields, manual=[], needs_refresh=bool(aid and not fields.get("abstract")),
                               status=status or ("read" if reads else "to-read"), rating=rating, source=source)
        else:
            self._merge(pid, fields, manual=[], fetched=False, status=status, rating=rating)
        if tags:
            _db.insert_tags(self.conn, pid, tags)
        for text in record.get("notes") or []:
            if text and text.strip() and not _db.has_note(self.conn, pid, text):
                _db.insert_note(self.conn, pid, text, now_iso())
        for day in reads:
            _db.insert_read(self.conn, pid, day, now_iso())
        models = [m for m in record.get("models") or [] if m]
        if models and not aid:
            raise InvalidInput("zoo model links need an arXiv id")
        for model in models:
            _db.upsert_link(self.conn, str(model), aid, "implements", now_iso())
        return pid, created, len(models)

    def get(self, ref: int | str) -> dict[str, Any]:
        """The paper ``ref`` (row id, arXiv id in any accepted form, or DOI). Raises PaperNotFound."""
        with self._lock:
            return self._paper(self._resolve(ref))

    def papers(
        self,
        *,
        tag: str | None = None,
        status: str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        year_min: int | None = None,
        year_max: int | None = None,
        sort: str = "added",
        limit: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Papers matching every filter. ``since``/``until`` match papers added or read in the (inclusive) range.

        ``sort``: ``added`` (newest first), ``read`` (latest read first), ``title``, ``year``, ``rating``.
        """
        if sort not in _db.SORT_KEYS:
            raise InvalidInput(f"bad sort {sort!r}: use one of {', '.join(_db.SORT_KEYS)}")
        _check_status(status)
        with self._lock:
            pids = _db.select_paper_ids(
                self.conn, tag=tag, status=status, since=parse_date(since, "since date"),
                until=parse_date(until, "until date"), year_min=year_min, year_max=year_max, ids=ids, sort=sort,
                limit=limit,
            )
            rows = _db.paper_rows(self.conn, pids)
        return [rows[i] for i in pids]

    def count(self) -> int:
        with self._lock:
            return _db.count_papers(self.conn)

    def note(self, ref: int | str, text: str) -> int:
        """Append a Markdown note (any language, stored verbatim); returns the note id."""
        if not text or not text.strip():
            raise InvalidInput("empty note")
        with self._lock, self._write():
            pid = self._resolve(ref)
            nid = _db.insert_note(self.conn, pid, text, now_iso())
            self._touch(pid)
            return nid

    def tag(self, ref: int | str, *tags: str) -> list[str]:
        """Add tags; returns the paper's tags."""
        tags_ = _clean_tags(tags)
        with self._lock, self._write():
            pid = self._resolve(ref)
            _db.insert_tags(self.conn, pid, tags_)
            self._touch(pid)
            return self._paper(pid)["tags"]

    def untag(self, ref: int | str, *tags: str) -> list[str]:
        """Remove tags (absent ones are ignored); returns the paper's tags."""
        with self._lock, self._write():
            pid = self._resolve(ref)
            _db.delete_tags(self.conn, pid, [t.strip() for t in tags])
            self._touch(pid)
            return self._paper(pid)["tags"]

    def remove(self, ref: int | str) -> dict[str, Any]:
        """Delete a paper with its notes, tags and reads; returns what was deleted."""
        with self._lock, self._write():
            pid = self._resolve(ref)
            paper = self._paper(pid)
            _db.delete_paper(self.conn, pid)
            return paper

    def set_status(self, ref: int | str, status: str) -> dict[str, Any]:
        _check_status(status)
        if status is None:
            raise InvalidInput("status is required")
        with self._lock, self._write():
            pid = self._resolve(ref)
            _db.update_paper(self.conn, pid, {"status": status, "updated_at": now_iso()})
            return self._paper(pid)

    def rate(self, ref: int | str, rating: int | None) -> dict[str, Any]:
        """Set a rating 1-5 (None clears it)."""
        value = _check_rating(rating)
        with self._lock, self._write():
            pid = self._resolve(ref)
            _db.update_paper(self.conn, pid, {"rating": value, "updated_at": now_iso()})
            return self._paper(pid)

    def add_read(self, ref: int | str, read_on: str | dt.date | None = None) -> bool:
        """Record a read on ``read_on`` (default today) and mark the paper read; False if that day is logged."""
        day = parse_date(read_on, "read-on date") or dt.date.today().isoformat()
        with self._lock, self._write():
            pid = self._resolve(ref)
            added = _db.insert_read(self.conn, pid, day, now_iso())
            _db.update_paper(self.conn, pid, {"status": "read", "updated_at": now_iso()})
            return added

    def update(self, ref: int | str, **fields: Any) -> dict[str, Any]:
        """Edit metadata by hand (title, authors, year, venue, abstract, doi); edited fields survive refreshes."""
        unknown = set(fields) - set(MANUAL_FIELDS)
        if unknown:
            raise InvalidInput(f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(MANUAL_FIELDS)}")
        with self._lock, self._write():
            pid = self._resolve(ref)
            clean: dict[str, Any] = {}
            for key, value in fields.items():
                if key == "authors":
                    value = split_authors(value)
                elif key == "year":
                    value = _check_year(value)
                elif key == "doi":
                    value = parse_doi(value)
                clean[key] = value
            self._merge(pid, clean, manual=list(clean), fetched=False, status=None, rating=None, force=True)
            self._touch(pid)
            return self._paper(pid)

    # --- search and the index feed --------------------------------------------------------------------------------

    def keyword_search(self, query: str, *, k: int = 10, ids: Iterable[int] | None = None) -> list[tuple[int, float]]:
        """FTS5 BM25 over title, abstract and notes: ``(paper id, score)``, best first, higher is better.

        Any text is accepted: words are quoted, so FTS syntax in the query is searched for, never parsed. Papers
        matching any word are returned; those matching more (and rarer) words rank higher.
        """
        from ._text import fts_query

        match = fts_query(query)
        if not match or k <= 0:
            return []
        with self._lock:
            return _db.fts_search(self.conn, match, k, None if ids is None else list(ids))

    def filter_ids(
        self,
        *,
        tag: str | None = None,
        status: str | None = None,
        year_min: int | None = None,
        year_max: int | None = None,
        read_since: str | dt.date | None = None,
        read_until: str | dt.date | None = None,
    ) -> set[int]:
        """Ids of papers matching every filter (for restricting a search)."""
        _check_status(status)
        with self._lock:
            return set(
                _db.select_paper_ids(
                    self.conn, tag=tag, status=status, year_min=year_min, year_max=year_max,
                    read_since=parse_date(read_since, "read-since date"),
                    read_until=parse_date(read_until, "read-until date"),
                )
            )

    def index_texts(self, ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
        """``(paper id, "title\\n\\nabstract\\n\\nnote 1\\n\\nnote 2 ...")`` for embedding, by id; blanks dropped."""
        with self._lock:
            rows = _db.texts(self.conn, None if ids is None else list(ids))
        return [(pid, "\n\n".join(part for part in (title, abstract, *notes) if part)) for pid, title, abstract, notes
                in rows]

    def data_version(self) -> int:
        """A counter that grows on every write to papers, notes, tags and reads (cheap staleness check)."""
        with self._lock:
            return _db.data_version(self.conn)

    # --- zoo links and results ------------------------------------------------------------------------------------

    def link_model(self, model: str, arxiv_id: str, *, role: str = "implements") -> None:
        """Record that zoo model ``model`` implements (``role``) paper ``arxiv_id``; idempotent."""
        if not model or not str(model).strip():
            raise InvalidInput("empty model name")
        aid = parse_arxiv_id(arxiv_id)
        with self._lock, self._write():
            _db.upsert_link(self.conn, str(model).strip(), aid, role, now_iso())

    def models_for(self, ref: int | str) -> list[str]:
        """Zoo model names linked to paper ``ref`` (an arXiv id need not be in the log)."""
        with self._lock:
            text = str(ref).strip()
            if not (isinstance(ref, int) or text.isdigit()) and is_arxiv_id(text):
                return _db.linked_models(self.conn, parse_arxiv_id(text))
            paper = self._paper(self._resolve(ref))
            return paper["models"]

    def papers_for_model(self, model: str) -> list[dict[str, Any]]:
        with self._lock:
            pids = _db.linked_paper_ids(self.conn, model)
            rows = _db.paper_rows(self.conn, pids)
        return [rows[i] for i in pids]

    def links(self) -> list[dict[str, Any]]:
        """Every (model, arxiv_id, role) link."""
        with self._lock:
            return _db.all_links(self.conn)

    def add_result(
        self,
        model: str,
        metric: str,
        value: float,
        *,
        weights: str | None = None,
        env: dict[str, Any] | None = None,
        source: str = "measured",
        measured_at: str | None = None,
    ) -> int:
        """Store one benchmark number for a zoo model; returns the result id."""
        if not model or not metric:
            raise InvalidInput("a result needs a model name and a metric")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"bad result value {value!r}") from None
        row = {"model": model, "weights": weights, "metric": metric, "value": number, "env": dict(env or {}),
               "source": source, "measured_at": measured_at or now_iso()}
        with self._lock, self._write():
            return _db.insert_result(self.conn, row)

    def results(self, model: str | None = None, *, metric: str | None = None) -> list[dict[str, Any]]:
        """Stored results, oldest first: dicts with model, weights, metric, value, env (dict), source, measured_at."""
        with self._lock:
            return _db.select_results(self.conn, model, metric)

    # --- settings -------------------------------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._lock:
            raw = _db.get_setting(self.conn, key)
        return default if raw is None else json.loads(raw)

    def set_setting(self, key: str, value: Any) -> None:
        try:
            raw = json.dumps(value, ensure_ascii=False)
        except TypeError:
            raise InvalidInput(f"setting {key!r} must be JSON-serialisable") from None
        with self._lock, self._write():
            _db.set_setting(self.conn, key, raw)

    # --- reading stats --------------------------------------------------------------------------------------------

    def stats(self, *, window_days: int = 30, today: str | dt.date | None = None) -> dict[str, Any]:
        """Reading statistics; see :func:`reading._stats.compute`."""
        from ._stats import compute

        with self._lock:
            days = _db.read_dates(self.conn)
            tags = _db.tag_counts(self.conn)
            total = _db.count_papers(self.conn)
        day = dt.date.fromisoformat(parse_date(today) or dt.date.today().isoformat())
        return compute(days, tags, total_papers=total, window_days=window_days, today=day)


def open_log(path: Path | str | None = None) -> Log:
    """Open the log at ``path`` (default :func:`default_db_path`), creating it and its folder when missing.

    Raises:
        ReadingError: when the file cannot be opened as a log.
    """
    import sqlite3

    target = default_db_path() if path is None else path
    try:
        return Log(target)
    except sqlite3.DatabaseError as err:
        raise ReadingError(f"cannot open the log {str(target)!r}: {err}") from None
    except OSError as err:
        raise ReadingError(f"cannot create the log {str(target)!r}: {err.strerror or err}") from None
