"""The :class:`Log`: the public face of the paper log. Logic lives here, SQL in ``_db``."""
from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from . import _db
from ._bulk import BulkMixin
from ._citations import CitationsMixin
from ._config import default_db_path
from ._errors import InvalidInput, PaperNotFound
from ._fields import (
    MANUAL_FIELDS,
    STATUSES,
    AddResult,
    _check_rating,
    _check_status,
    _check_year,
    _clean_tags,
    now_iso,
    parse_date,
    parse_read_date,
    split_authors,
)
from ._ids import is_arxiv_id, normalise_title, parse_arxiv_id, parse_doi
from ._fulltext import FulltextMixin
from ._inbox import InboxMixin
from ._types import Paper
from ._zoo_links import ZooLinksMixin

__all__ = ["STATUSES", "AddResult", "Log", "check_log_file", "open_log"]


class Log(BulkMixin, ZooLinksMixin, InboxMixin, FulltextMixin, CitationsMixin):
    """One SQLite reading log. Open it with :func:`open_log`; use it as a context manager to close it.

    The object is safe to share between threads (the Streamlit app does): calls are serialised by a lock.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self.conn = _db.connect(path)
        #: Why this log cannot be changed (its file or folder is read-only), or None: it is read as usual.
        self.read_only: str | None = self.conn.read_only
        self._lock = threading.RLock()
        self._intact = False  # checked before the first write

    # --- plumbing -------------------------------------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Log({str(self.path)!r})"

    def _write(self):
        if self.read_only is not None:
            from ._errors import LogReadOnly

            raise LogReadOnly(f"the log {self.path} is read-only ({self.read_only}): it can be read, not changed; "
                              "nothing was written")
        if not self._intact:
            self._check_intact()
        return _db.write(self.conn)

    def _check_intact(self) -> None:
        """Before this object's first write: a damaged file is refused, not written to (``quick_check`` reads the
        whole file once, about 2 ms per MB)."""
        if str(self.path) != ":memory:":
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check(2)").fetchall()]
            found = next((r for r in rows if not r.startswith("***")), rows[0]).splitlines()[0]
            if rows != ["ok"]:
                from ._errors import LogDamaged

                raise LogDamaged(f"the log file is damaged ({self.path}): {found}; it was left as it is (restore "
                                 "a backup or an export)")
        self._intact = True

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
                found = _db.find_paper_id(self.conn, arxiv_id=parse_arxiv_id(text))
            else:
                doi = parse_doi(text)
                found = _db.find_paper_id(self.conn, doi=doi) if doi else None
                if not doi:
                    raise PaperNotFound(f"{text!r} is not a paper id, arXiv id or DOI")
            if found is None:
                raise PaperNotFound(f"no paper {text!r} in the log")
            return found

    def _paper(self, pid: int) -> Paper:
        return cast(Paper, _db.paper_rows(self.conn, [pid])[pid])

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
        note: str | Iterable[str] | None = None,
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
        typed: dict[str, Any] = {
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
        read_day = parse_read_date(read_on)
        if not aid and not typed.get("title"):
            raise InvalidInput("give an arXiv id or a --title")
        notes = [n for n in ([note] if isinstance(note, str) else list(note or ())) if n and n.strip()]

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
                    message = (f"{err}; logged arXiv:{aid} from what you typed, run `reading refresh` later"
                               if existing is None else
                               f"{err}; arXiv:{aid} keeps its metadata pending, run `reading refresh` later")
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
                held = fields.get("doi") and _db.find_paper_id(self.conn, doi=fields["doi"])
                if created and held:
                    dropped = (f"DOI {fields['doi']} not stored: paper {held} already holds it (a paper has one DOI "
                               "and a DOI one paper)")
                    message = f"{message}; {dropped}" if message else dropped
                if pid is None:
                    pid = self._insert(fields, manual=list(typed), needs_refresh=needs_refresh,
                                       status=status or "read", rating=rating, source="arxiv" if fetched else "manual")
                    similar = self._similar(pid, fields.get("title")) if not aid else None
                    message = f"{message}; {similar}" if message and similar else (similar or message)
                else:
                    self._merge(pid, fields, manual=list(typed), fetched=bool(fetched),
                                status=status or ("read" if record_read else None), rating=rating)
                if tags:
                    _db.insert_tags(self.conn, pid, tags)
                for text in notes:
                    if not _db.has_note(self.conn, pid, text):
                        _db.insert_note(self.conn, pid, text, now_iso())
                logged = None
                if record_read:
                    day = read_day or dt.date.today().isoformat()
                    logged = day if _db.insert_read(self.conn, pid, day, now_iso()) else None
                if not created:
                    self._touch(pid)
            return AddResult(self._paper(pid), created, message, logged)

    def _match(self, aid: str | None, doi: str | None, title: str | None) -> int | None:
        """The paper this one duplicates: same arXiv id, else same DOI, else same normalised title; a paper with
        a different arXiv id is never a duplicate."""
        pid = _db.find_paper_id(self.conn, arxiv_id=aid, doi=doi, title_norm=normalise_title(title))
        if pid is not None and aid:
            other = self._paper(pid)["arxiv_id"]
            if other and other != aid:
                return None
        return pid

    def _similar(self, pid: int, title: str | None) -> str | None:
        """A warning when a paper logged by title alone looks like one already in the log: its title is a start of
        the other's, or the other's of its (three words at least), as a short title typed by hand often is."""
        norm = normalise_title(title)
        found = _db.similar_title(self.conn, norm, pid) if norm else None
        if found is None or min(len(norm.split()), len(normalise_title(found[1]).split())) < 3:
            return None
        return (f"paper {found[0]} ({found[1]!r}) has a similar title; if it is the same paper, `reading remove {pid}` "
                f"and use {found[0]}")

    def _insert(self, fields: dict[str, Any], *, manual: list[str], needs_refresh: bool, status: str,
                rating: int | None, source: str) -> int:
        now = now_iso()
        row = {
            **fields,
            "title": fields.get("title") or (f"arXiv:{fields['arxiv_id']}" if fields.get("arxiv_id") else ""),
            "title_norm": normalise_title(fields.get("title")),
            "added_at": fields.get("added_at") or now,
            "updated_at": fields.get("updated_at") or now,
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

    def get(self, ref: int | str) -> Paper:
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
    ) -> list[Paper]:
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
        return [cast(Paper, rows[i]) for i in pids]

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

    def _note(self, note_id: int | str, paper: int | str | None) -> dict[str, Any]:
        text = str(note_id).strip()
        found = _db.select_note(self.conn, int(text)) if text.isdigit() else None
        if found is None:
            raise PaperNotFound(f"no note with id {text} in the log")
        if paper is not None and found["paper_id"] != self._resolve(paper):
            raise InvalidInput(f"note {found['id']} belongs to another paper (id {found['paper_id']})")
        return found

    def edit_note(self, note_id: int | str, text: str, *, paper: int | str | None = None) -> dict[str, Any]:
        """Replace a note's text (Markdown, any language, stored verbatim); it keeps its id and creation time.

        Args:
            note_id: the note's id (``paper["notes"][i]["id"]``; `reading show` prints it).
            text: the new text; an empty one is refused (use :meth:`delete_note`).
            paper: when given (any paper reference), the note must belong to that paper.

        Returns:
            The note: ``{"id", "paper_id", "text", "created_at"}``.

        Raises:
            PaperNotFound: no such note (or paper). InvalidInput: empty text, or the note is another paper's.
        """
        if not text or not text.strip():
            raise InvalidInput("empty note; to remove a note, delete it")
        with self._lock, self._write():
            found = self._note(note_id, paper)
            _db.update_note(self.conn, found["id"], text)
            self._touch(found["paper_id"])
            return {**found, "text": text}

    def delete_note(self, note_id: int | str, *, paper: int | str | None = None) -> dict[str, Any]:
        """Delete a note (``paper`` as in :meth:`edit_note`); returns what was deleted. Raises PaperNotFound."""
        with self._lock, self._write():
            found = self._note(note_id, paper)
            _db.delete_note(self.conn, found["id"])
            self._touch(found["paper_id"])
            return found

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

    def remove(self, ref: int | str) -> Paper:
        """Delete a paper with its notes, tags, reads and PDFs (their stored copies too); returns what was deleted."""
        with self._lock:
            with self._write():
                pid = self._resolve(ref)
                paper = self._paper(pid)
                shas = [row["sha256"] for row in _db.select_pdfs(self.conn, paper_id=pid)]
                _db.delete_paper(self.conn, pid)
            self._forget_files(shas)  # after the commit: a failed delete keeps its files
            return paper

    def set_status(self, ref: int | str, status: str) -> Paper:
        _check_status(status)
        if status is None:
            raise InvalidInput("status is required")
        with self._lock, self._write():
            pid = self._resolve(ref)
            _db.update_paper(self.conn, pid, {"status": status, "updated_at": now_iso()})
            return self._paper(pid)

    def rate(self, ref: int | str, rating: int | None) -> Paper:
        """Set a rating 1-5 (None clears it)."""
        value = _check_rating(rating)
        with self._lock, self._write():
            pid = self._resolve(ref)
            _db.update_paper(self.conn, pid, {"rating": value, "updated_at": now_iso()})
            return self._paper(pid)

    def add_read(self, ref: int | str, read_on: str | dt.date | None = None) -> bool:
        """Record a read on ``read_on`` (default today) and mark the paper read; False if that day is logged."""
        day = parse_read_date(read_on) or dt.date.today().isoformat()
        with self._lock, self._write():
            pid = self._resolve(ref)
            added = _db.insert_read(self.conn, pid, day, now_iso())
            _db.update_paper(self.conn, pid, {"status": "read", "updated_at": now_iso()})
            return added

    def update(self, ref: int | str, **fields: Any) -> Paper:
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
        """BM25 over title (weighted 2), abstract and notes: ``(paper id, score)``, best first, higher is better.

        Any text is accepted: words are quoted, so FTS syntax in the query is searched for, never parsed. Papers
        matching any word are returned; those matching more (and rarer) words rank higher. CJK words (Chinese,
        Japanese, Korean) match anywhere inside the text, scored like a BM25 term: the word's inverse document
        frequency times 2 for the title, plus 1 each for the abstract and the notes.
        """
        from ._text import fts_query, query_words

        words, cjk = query_words(query)
        if not (words or cjk) or k <= 0:
            return []
        only = None if ids is None else list(ids)
        with self._lock:
            if not cjk:
                return _db.fts_search(self.conn, fts_query(words), k, only)
            n = _db.count_papers(self.conn)
            scores: dict[int, float] = {}
            if words:  # every match, not just the top k: CJK hits may lift others above them
                scores.update(_db.fts_search(self.conn, fts_query(words), n, only))
            for term in cjk:
                hits = _db.substring_hits(self.conn, term, only)
                idf = math.log(1 + (n - len(hits) + 0.5) / (len(hits) + 0.5))
                for pid, fields in hits.items():
                    scores[pid] = scores.get(pid, 0.0) + idf * fields
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

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

    def tags(self) -> dict[str, int]:
        """Every tag in use with its number of papers, most used first."""
        with self._lock:
            return _db.tag_counts(self.conn)

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

    # --- integrity ------------------------------------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """Check the log file (``PRAGMA quick_check``, foreign keys) and its PDF library (the folder is this log's;
        every stored copy is present and hashes to its name). Reads only, except that temporary files of killed
        imports are removed.

        Returns:
            ``{"problems": [{"where": "log" | "pdf" | "library", "problem": one line, "fix": one line}],
            "notes": [one line], "pdfs": number checked}``; no problems means sound.
        """
        from ._check import check

        return check(self)


def check_log_file(path: Path | str) -> None:
    """Refuse now, without changing a byte, a file that :func:`open_log` would refuse as not a log or as a log of a
    newer version (a missing or empty file is fine: it would become a log). For commands that open the log only
    after minutes of work (``zoo bench --store``).

    Raises:
        ReadingError: NotALog or LogNewer, one line; or LogDamaged when SQLite cannot read the file.
    """
    import sqlite3

    file = Path(path).expanduser()
    try:
        if file.is_dir() or (file.exists() and not file.is_file()):
            raise _db.NotALog(f"{file} is not a log file: it is a folder, a device or a pipe")
        if file.is_file() and file.stat().st_size > 0:
            _db.identify(file)
    except sqlite3.DatabaseError as err:
        from ._errors import database_error

        raise database_error(err, file) from None


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
        from ._errors import database_error

        raise database_error(err, target) from None
    except OSError as err:
        from ._errors import LogUnavailable

        raise LogUnavailable(f"cannot open or create the log {str(target)!r}: {err.strerror or err}") from None
