"""The inbox of the :class:`~reading.Log` (mixed into ``Log``): new arXiv submissions waiting for triage.

Candidates live beside the papers, not among them: they are not in the library, its keyword search or its data
version. ``keep_candidate`` copies one into the log as to-read; ``skip_candidate`` remembers it so that it never
comes back. Ranking them is the index's job (``index.inbox``); fetching them is here (``fetch_inbox``).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from . import _db
from ._base import LogCore
from ._types import Paper
from ._errors import InvalidInput, PaperNotFound
from ._fields import _clean_tags, now_iso, parse_date
from ._ids import is_arxiv_id, parse_arxiv_id

#: Candidate states: waiting in the inbox, copied into the log, or dismissed for good.
CANDIDATE_STATES = ("new", "kept", "skipped")
#: Log settings of the inbox, with their defaults.
CATEGORIES_SETTING = "inbox.categories"
WINDOW_SETTING = "inbox.window_days"
MAX_SETTING = "inbox.max"
DEFAULT_CATEGORIES = ("cs.CV", "cs.LG")
DEFAULT_WINDOW_DAYS = 7
_FIELDS = ("doi", "title", "authors", "abstract", "year", "venue", "categories", "url", "published")
_AGE = re.compile(r"(\d+)\s*([dwm]?)")


def parse_age(value: int | str) -> int:
    """Days in an age: ``30``, ``"30d"``, ``"2w"`` or ``"1m"`` (30 days). InvalidInput otherwise."""
    if isinstance(value, int) and value >= 0:
        return value
    match = _AGE.fullmatch(str(value).strip().lower())
    if not match:
        raise InvalidInput(f"bad age {value!r}: use e.g. 30d, 2w or 1m")
    return int(match.group(1)) * {"": 1, "d": 1, "w": 7, "m": 30}[match.group(2)]


class InboxMixin(LogCore):
    """Candidates from arXiv: fetch, store, list, keep, skip and clear."""

    # --- settings -------------------------------------------------------------------------------------------------

    def inbox_settings(self) -> dict[str, Any]:
        """``{"categories": [...], "window_days": int, "max": int}`` from the log's settings, with defaults."""
        from ._feed import DEFAULT_MAX

        return {
            "categories": list(self.get_setting(CATEGORIES_SETTING, list(DEFAULT_CATEGORIES))),
            "window_days": int(self.get_setting(WINDOW_SETTING, DEFAULT_WINDOW_DAYS)),
            "max": int(self.get_setting(MAX_SETTING, DEFAULT_MAX)),
        }

    # --- fetching and storing -------------------------------------------------------------------------------------

    def fetch_inbox(
        self,
        categories: Iterable[str] | None = None,
        *,
        since: str | dt.date | None = None,
        max_results: int | None = None,
        client: Any = None,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Fetch new submissions from arXiv into the inbox, page by page (what arrived is kept on any failure).

        Categories, window (``since`` defaults to today minus the window) and cap default to the log's settings
        (:meth:`inbox_settings`); categories given here become the new setting.

        Returns:
            ``{"fetched", "added", "in_log", "skipped", "pending", "error", "since", "categories"}``: counts of
            results received, new candidates, results already in the log, results skipped before (never shown
            again), candidates now waiting; ``error`` is a one-line message (offline, API error) or None.
        """
        from tqdm import tqdm

        from ._arxiv import FetchError
        from ._feed import check_categories, fetch_new

        settings = self.inbox_settings()
        cats = check_categories(categories if categories else settings["categories"])
        day = parse_date(since, "since date")
        first = dt.date.fromisoformat(day) if day else dt.date.today() - dt.timedelta(days=settings["window_days"])
        cap = int(max_results or settings["max"])
        if categories:
            self.set_setting(CATEGORIES_SETTING, cats)
        report: dict[str, Any] = {"fetched": 0, "added": 0, "in_log": 0, "skipped": 0, "pending": 0,
                                  "error": None, "since": first.isoformat(), "categories": cats}
        with tqdm(total=cap, unit="paper", desc="inbox fetch", disable=not progress, leave=False) as bar:
            try:
                for page in fetch_new(cats, since=first, max_results=cap, client=client):
                    counts = self.add_candidates(page)
                    report["fetched"] += len(page)
                    for key in ("added", "in_log", "skipped"):
                        report[key] += counts[key]
                    bar.update(len(page))
            except FetchError as err:
                report["error"] = f"{err}; the inbox keeps what it had"
        report["pending"] = len(self.candidates())
        return report

    def add_candidates(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Store fetched papers (dicts with ``arxiv_id`` and paper fields) as inbox candidates, in one transaction.

        Papers already in the log and papers skipped before are left out; one already waiting is refreshed.

        Returns:
            ``{"added", "updated", "in_log", "skipped"}`` counts.
        """
        counts = {"added": 0, "updated": 0, "in_log": 0, "skipped": 0}
        rows = []
        for record in records:
            if not record.get("arxiv_id"):
                raise InvalidInput("an inbox candidate needs an arXiv id")
            row = {k: record[k] for k in _FIELDS if record.get(k) not in (None, "", [])}
            row["arxiv_id"] = parse_arxiv_id(record["arxiv_id"])
            rows.append(row)
        with self._lock, self._write():
            known = _db.candidate_states(self.conn, [r["arxiv_id"] for r in rows])
            now = now_iso()
            for row in rows:
                cid, state = known.get(row["arxiv_id"], (None, None))
                if state == "skipped":
                    counts["skipped"] += 1
                elif (pid := self._match(row["arxiv_id"], row.get("doi"), row.get("title"))) is not None:
                    counts["in_log"] += 1
                    if state == "new" and cid is not None:  # logged by another way since it was fetched
                        _db.update_candidate(self.conn, cid, {"state": "kept", "decided_at": now, "paper_id": pid})
                elif cid is None:
                    known[row["arxiv_id"]] = (_db.insert_candidate(self.conn, {**row, "fetched_at": now}), "new")
                    counts["added"] += 1
                elif state == "new":
                    _db.update_candidate(self.conn, cid, row)
                    counts["updated"] += 1
                else:  # kept, then removed from the log: it may wait again
                    _db.update_candidate(self.conn, cid, {**row, "state": "new", "decided_at": None,
                                                          "paper_id": None, "fetched_at": now})
                    counts["added"] += 1
        return counts

    # --- reading --------------------------------------------------------------------------------------------------

    def candidates(
        self,
        *,
        state: str | Iterable[str] = "new",
        ids: Iterable[int] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Candidates, newest submission first: dicts with id, arxiv_id, title, authors, abstract, year, venue,
        categories, url, published, fetched_at, state (new, kept, skipped), decided_at, paper_id."""
        states = [state] if isinstance(state, str) else list(state)
        for s in states:
            if s not in CANDIDATE_STATES:
                raise InvalidInput(f"bad candidate state {s!r}: use one of {', '.join(CANDIDATE_STATES)}")
        with self._lock:
            return _db.select_candidates(self.conn, states=states, ids=None if ids is None else list(ids),
                                         limit=limit, waiting_only=states == ["new"])

    def candidate(self, ref: int | str) -> dict[str, Any]:
        """One candidate by inbox id or arXiv id (any state). Raises PaperNotFound."""
        with self._lock:
            return self._candidate(ref)

    def _candidate(self, ref: int | str) -> dict[str, Any]:
        text = str(ref).strip()
        if isinstance(ref, int) or text.isdigit():
            found = _db.select_candidates(self.conn, ids=[int(text)])
            where = f"id {int(text)}"
        elif is_arxiv_id(text):
            found = _db.select_candidates(self.conn, arxiv_id=parse_arxiv_id(text))
            where = f"arXiv:{parse_arxiv_id(text)}"
        else:
            raise PaperNotFound(f"{text!r} is neither an inbox id nor an arXiv id")
        if not found:
            raise PaperNotFound(f"no inbox candidate with {where}")
        return found[0]

    def candidate_texts(self, ids: Iterable[int] | None = None, *, state: str | Iterable[str] = ("new", "skipped")
                        ) -> list[tuple[int, str]]:
        """``(candidate id, "title\\n\\nabstract")`` for embedding, as :meth:`index_texts` shapes papers."""
        return [(c["id"], "\n\n".join(p for p in (c["title"], c["abstract"]) if p))
                for c in self.candidates(state=state, ids=ids)]

    def candidates_version(self) -> int:
        """A counter that grows on every write to the inbox candidates (fetch, edit, keep, skip, clear)."""
        with self._lock:
            return _db.candidates_version(self.conn)

    # --- triage ---------------------------------------------------------------------------------------------------

    def keep_candidate(self, ref: int | str, *, tags: Iterable[str] = (), note: str | None = None
                       ) -> Paper:
        """Move a candidate into the log as a to-read paper (with ``tags`` and ``note``); returns the paper.

        A paper that reached the log meanwhile keeps its status and gains the tags and note.
        """
        tags_ = _clean_tags(tags)
        note = note if note and note.strip() else None
        with self._lock, self._write():
            cand = self._candidate(ref)
            if cand["state"] == "skipped":
                raise InvalidInput(f"arXiv:{cand['arxiv_id']} was skipped; add it with `reading add` instead")
            pid = self._match(cand["arxiv_id"], cand.get("doi"), cand.get("title"))
            if pid is None:
                fields = {k: cand[k] for k in _FIELDS if cand.get(k) not in (None, "", [])}
                pid = self._insert({**fields, "arxiv_id": cand["arxiv_id"]}, manual=[], needs_refresh=False,
                                   status="to-read", rating=None, source="arxiv")
            if tags_:
                _db.insert_tags(self.conn, pid, tags_)
            if note and not _db.has_note(self.conn, pid, note):
                _db.insert_note(self.conn, pid, note, now_iso())
            _db.update_candidate(self.conn, cand["id"], {"state": "kept", "decided_at": now_iso(), "paper_id": pid})
            return self._paper(pid)

    def skip_candidate(self, ref: int | str) -> dict[str, Any]:
        """Dismiss a candidate for good: it leaves the inbox and later fetches leave it out. Returns it."""
        with self._lock, self._write():
            cand = self._candidate(ref)
            if cand["state"] == "kept":
                raise InvalidInput(f"arXiv:{cand['arxiv_id']} was kept; it is in the log (use `reading remove`)")
            _db.update_candidate(self.conn, cand["id"], {"state": "skipped", "decided_at": now_iso()})
            return self._candidate(cand["id"])

    def clear_candidates(self, older_than: int | str = 30, *, today: str | dt.date | None = None) -> int:
        """Drop waiting candidates submitted more than ``older_than`` days ago (``30``, ``"30d"``, ``"2w"``).

        Skipped candidates are kept (so they never return) and kept ones are already in the log. Returns how many
        were dropped.
        """
        days = parse_age(older_than)
        day = dt.date.fromisoformat(parse_date(today) or dt.date.today().isoformat())
        with self._lock, self._write():
            return _db.delete_candidates_before(self.conn, "new", (day - dt.timedelta(days=days)).isoformat())
