"""Full text in the log: papers logged from their PDFs, PDFs attached to papers, page text, passages, page search.

PDFs are copied into a library folder beside the log (`<db stem>.pdfs/ab/<sha256>.pdf`), content-addressed, so
the user's own folders are never touched and the same file twice is stored once. The text of every page is
extracted once (:mod:`reading._pdf`) and kept in SQLite with FTS5 over it; the passage index (`index`) is derived
from :meth:`FulltextMixin.passage_texts`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _db
from ._atomic import atomic_open
from ._base import LogCore
from ._errors import FileChanged, InvalidInput, PaperNotFound, ReadingError
from ._stale import remove_stale, temp_prefix
from ._fields import _check_rating, _check_status, _check_year, _clean_tags, now_iso, split_authors
from ._ids import normalise_title
from ._types import Paper

if TYPE_CHECKING:
    from ._pdf import PdfText

#: Words per passage aimed at (passages of a page are 150-250 words; a page's last words join its last passage).
PASSAGE_WORDS = 200
#: Passages per page at most: a passage id is ``page row id * PASSAGE_SLOTS + passage number``.
PASSAGE_SLOTS = 64
NO_TEXT = "no text layer: metadata from you, full text not searchable"
#: Share of the shorter title's words the other must hold for a PDF's title to agree with a paper's.
TITLE_AGREEMENT = 0.6
#: A query word on more than this share of the pages is left out of a page search (see `_rarer_words`) ...
COMMON_SHARE = 0.25
#: ... once the log holds this many pages (below it every word is searched: it is fast anyway).
COMMON_MIN_PAGES = 2_000
#: English function words left out of a page search (unless the query has nothing else): nearly every page of a
#: paper holds them, so they rank nothing and make BM25 score every page.
STOPWORDS = frozenset(
    "a an and are as at be been but by can do for from has have how in into is it its may more not of on or our "
    "than that the their these this those to using via was we were what when where which while who why will with "
    "without you".split()
)


#: The marker file in a log's PDF folder: ``{"log": resolved path of the log file, "library_id": id in its meta}``.
OWNER_FILE = "owner.json"


def _natural(real: Path, suffix: str) -> Path:
    """``papers.db`` -> ``papers<suffix>`` (the name it always had); any other name keeps its extension:
    ``papers.bak`` -> ``papers.bak<suffix>``, so a copy of a log beside it never shares its folders."""
    return real.with_name((real.stem if real.suffix == ".db" else real.name) + suffix)


def read_owner(folder: Path) -> dict[str, Any] | None:
    """The marker of a log's folder, or None when there is none (a folder made before markers) or it is unreadable."""
    try:
        owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and isinstance(owner.get("log"), str) else None


def write_owner(folder: Path, real: Path, library_id: int | None) -> None:
    """Mark ``folder`` as the folder of the log ``real`` (best effort: a read-only folder stays unmarked)."""
    with contextlib.suppress(OSError):
        atomic_write_owner(folder / OWNER_FILE, {"log": str(real), "library_id": library_id})


def atomic_write_owner(path: Path, owner: dict[str, Any]) -> None:
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(owner, sort_keys=True) + "\n")


def _names(real: Path, suffix: str) -> tuple[Path, Path, Path, Path]:
    """The folders a log file may use, in order of preference: natural, ``<full name><suffix>``, a spare one named
    with a hash of the path (for the rare name two logs share), and the legacy ``<stem><suffix>``."""
    spare = real.with_name(f"{real.name}.{hashlib.sha256(str(real).encode()).hexdigest()[:8]}{suffix}")
    return _natural(real, suffix), real.with_name(real.name + suffix), spare, real.with_name(real.stem + suffix)


def _live_owner(owner: dict[str, Any] | None, real: Path, folder: Path, suffix: str) -> bool:
    """Whether ``folder`` is, by its marker, the folder of another log file that still exists and may use it."""
    if owner is None or owner["log"] == str(real):
        return False
    other = Path(owner["log"])
    return other.is_file() and other != real and folder in _names(other, suffix)


def owned_folder(db_path: str | os.PathLike[str], suffix: str) -> tuple[Path, dict[str, Any] | None]:
    """The folder (``suffix`` ``.pdfs`` here; ``index`` follows the same rule for ``.index``) of the log file
    ``db_path``, reached through symlinks by its resolved path, and its marker (None when unmarked).

    In order: a folder whose marker names this log; a legacy ``<stem><suffix>`` folder without a marker when the
    natural one does not exist and no ``<stem>.db`` beside it owns it (a log renamed from ``.db`` before markers
    existed); the first of its natural folder (:func:`_natural`), ``<full name><suffix>`` and a spare name that no
    other existing log uses.
    """
    real = Path(db_path).expanduser().resolve()
    natural, full, spare, legacy = _names(real, suffix)
    owners = {c: read_owner(c) for c in dict.fromkeys((natural, full, spare, legacy)) if c.is_dir()}
    for folder, owner in owners.items():
        if owner is not None and owner["log"] == str(real):
            return folder, owner
    if natural not in owners and legacy in owners and owners[legacy] is None \
            and not real.with_name(real.stem + ".db").is_file():
        return legacy, None
    for folder in dict.fromkeys((natural, full)):
        if not _live_owner(owners.get(folder), real, folder, suffix):
            return folder, owners.get(folder)
    return spare, owners.get(spare)


def library_dir(db_path: str | os.PathLike[str]) -> Path:
    """The PDF library folder of a log file: `/x/reading.db` -> `/x/reading.pdfs/`, `/x/papers.bak` ->
    `/x/papers.bak.pdfs/` (see :func:`owned_folder`; :meth:`FulltextMixin.library_dir` also checks the marker)."""
    return owned_folder(db_path, ".pdfs")[0]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file the user gave; a file that cannot be read is InvalidInput in one line."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as err:
        raise InvalidInput(f"cannot read {shown_name(Path(path).name)}: {err.strerror or err}") from None
    return h.hexdigest()


def shown_name(name: str | os.PathLike[str]) -> str:
    """A file name as text that can be stored and shown: bytes that are not UTF-8 (which Python keeps as lone
    surrogates, and SQLite cannot store) become U+FFFD."""
    return os.fsencode(name).decode("utf-8", errors="replace")


def split_passages(text: str, words: int = PASSAGE_WORDS) -> list[str]:
    """A page's text as passages of about ``words`` words (one for a short page), evenly sized, in order."""
    tokens = text.split()
    if not tokens:
        return []
    n = min(PASSAGE_SLOTS, max(1, round(len(tokens) / words)))
    size = -(-len(tokens) // n)
    return [" ".join(tokens[i:i + size]) for i in range(0, len(tokens), size)]


def _stored_text(doc: PdfText) -> tuple[list[str], list[str | None], list[tuple[int, str]]]:
    """What the log keeps of a PDF's text: pages, their layouts as JSON, the reference list (none without text)."""
    from ._pdf_layout import PageLayout

    if not doc.has_text:
        return [""] * doc.page_count, [PageLayout().to_json() for _ in range(doc.page_count)], []
    layouts: list[str | None] = [layout.to_json() for layout in doc.layout or [PageLayout()] * doc.page_count]
    return doc.pages, layouts, doc.references


def page_passages(text: str, layout_json: str | None, section: str = "") -> tuple[list[tuple[str, str]], str]:
    """A page's passages with their sections, and the section in force at the page's end.

    ``section`` is the heading in force where the page starts. A page stored without a layout is cut as before
    (no sections, no reference list known). Otherwise the page is cut at its headings, each stretch into passages
    of about ``PASSAGE_WORDS`` words, and the reference list is left out.
    """
    from ._pdf_layout import PageLayout

    layout = PageLayout.from_json(layout_json)
    if layout is None:
        return [(p, "") for p in split_passages(text)], ""
    lines = text.split("\n")
    refs = set(layout.reference_lines(len(lines)))
    heads = dict(layout.headings)
    stretches: list[tuple[str, list[str]]] = [(section, [])]
    for i, line in enumerate(lines):
        if i in heads:
            section = heads[i]
            stretches.append((section, []))
        if i not in refs:
            stretches[-1][1].append(line)
    out: list[tuple[str, str]] = []
    for name, body in stretches:
        if not body or (len(body) == 1 and name and body[0].strip() == name):
            continue  # nothing, or a heading alone (its text goes on over the page)
        out += [(p, name) for p in split_passages("\n".join(body))]
    if len(out) > PASSAGE_SLOTS:  # ids have room for this many passages a page: the last ones become one
        out[PASSAGE_SLOTS - 1:] = [(" ".join(p for p, _ in out[PASSAGE_SLOTS - 1:]), out[PASSAGE_SLOTS - 1][1])]
    return out, section


def titles_agree(pdf_title: str | None, paper_title: str | None) -> bool | None:
    """Whether a PDF's own title names the same paper as ``paper_title``; None when either is unknown (a
    placeholder such as "arXiv:1807.11164" is no title).

    Lenient, since a title read from a first page may be cut or carry stray words: same normalised title, one
    inside the other, or most words of the shorter one in the longer.
    """
    a, b = normalise_title(pdf_title), normalise_title(paper_title)
    if not a or not b or b.startswith("arxiv ") and len(b.split()) <= 3:
        return None
    if a == b or (min(len(a), len(b)) >= 12 and (a in b or b in a)):
        return True
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) >= TITLE_AGREEMENT * min(len(wa), len(wb))


def passage_id(page_row: int, number: int) -> int:
    return page_row * PASSAGE_SLOTS + number


def split_passage_id(pid: int) -> tuple[int, int]:
    """(page row id, passage number) of a passage id."""
    return divmod(int(pid), PASSAGE_SLOTS)


@dataclass
class PdfAddResult:
    """What :meth:`FulltextMixin.add_pdf` did.

    Attributes:
        paper: the paper as now stored. created: a new paper was logged.
        pdf: the stored PDF (sha256, file_name, size, page_count, has_text, added_at, path).
        duplicate: this very file was already in the log (nothing stored again).
        message: a one-line note (offline arXiv, no text layer ...), or None.
        restored: a duplicate whose stored copy was missing or altered, restored from this file.
        unattached: why the PDF was not attached to the paper of an arXiv id or DOI found in it (the paper's
            title is another: the PDF cites it), or None; also in ``message``.
    """

    paper: Paper
    created: bool
    pdf: dict[str, Any]
    duplicate: bool = False
    message: str | None = None
    restored: bool = False
    unattached: str | None = None


@dataclass
class ImportReport:
    """What :meth:`FulltextMixin.import_pdfs` did: ids of papers added, ids of papers already in the log that got
    this PDF (same arXiv id, DOI or title), ids of papers whose very file was already stored, (file, one-line
    reason) for each PDF that could not be read, and notes (PDFs with no text layer)."""

    added: list[int] = field(default_factory=list)
    joined: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    needs_refresh: int = 0

    def summary(self) -> str:
        line = f"imported {len(self.added)} PDFs, {len(self.already)} already in the log, {len(self.failed)} failed"
        if self.joined:
            line += f"; {len(self.joined)} attached to papers already in the log"
        if self.needs_refresh:
            line += f"; {self.needs_refresh} arXiv papers logged from their PDFs: run `reading refresh` to complete them"
        return line


def _last_heading(layout_json: str | None, section: str) -> str:
    """The heading in force at the end of a page that starts under ``section``."""
    from ._pdf_layout import PageLayout

    layout = PageLayout.from_json(layout_json)
    return layout.headings[-1][1] if layout is not None and layout.headings else section


class FulltextMixin(LogCore):
    """add_pdf, attach_pdf, import_pdfs, pdfs, pdf_pages, pdf_file, fulltext_search, passage_texts,
    reference_entries, reextract_pdfs (mixed into Log)."""

    _library: tuple[Path, Path] | None = None  # (library folder, the log path it was found for)
    _swept = False  # stale temporary files of killed imports removed from the library (once per log object)

    # --- storage ----------------------------------------------------------------------------------------------

    def library_dir(self) -> Path:
        """Where this log keeps its PDFs (see :func:`owned_folder`); the folder is marked as this log's when it is
        first used.

        Raises:
            InvalidInput: an in-memory log. ReadingError: the folder's marker names another log (another library
            id): one line; nothing is read from or written to it.
        """
        if str(self.path) == ":memory:":
            raise InvalidInput("an in-memory log cannot hold PDFs; open a log file")
        cached = getattr(self, "_library", None)
        if cached is not None and cached[1] == self.path:
            return cached[0]
        folder, owner = owned_folder(self.path, ".pdfs")
        with self._lock:
            lid = _db.library_id(self.conn)
            holds = bool(_db.pdf_shas(self.conn)) if not folder.is_dir() else False
        real = self.path.expanduser().resolve()
        if holds and lid is not None and not getattr(self, "read_only", None):
            folder, owner = self._follow_rename(folder, real, lid) or (folder, owner)
        if owner is not None and owner.get("library_id") not in (None, lid) and lid is not None:
            raise ReadingError(f"the PDF folder {folder} belongs to another log (library {owner['library_id']}, "
                               f"{owner['log']}), not to this one (library {lid}): move it away or open that log")
        if folder.is_dir() and (owner is None or owner["log"] != str(real)) and not getattr(self, "read_only", None):
            write_owner(folder, real, lid)  # claimed: unmarked (made before markers), or moved here with its log
        self._library = (folder, self.path)
        return folder

    @staticmethod
    def _follow_rename(folder: Path, real: Path, lid: int) -> tuple[Path, dict[str, Any]] | None:
        """A log renamed without its folder (``mv papers.db archive.db``): the folder beside it whose marker holds
        this log's library id and names a file that no longer exists is this log's; it is renamed to the name this
        log uses (so every path derived from the log agrees) and re-marked."""
        try:
            siblings = [p for p in real.parent.iterdir() if p.name.endswith(".pdfs") and p.is_dir()]
        except OSError:
            return None
        for old in siblings:
            owner = read_owner(old)
            if owner is None or owner.get("library_id") != lid or Path(owner["log"]).exists():
                continue
            with contextlib.suppress(OSError):
                old.rename(folder)
                write_owner(folder, real, lid)
                return folder, {"log": str(real), "library_id": lid}
        return None

    def pdf_file(self, sha256: str) -> Path:
        """The stored copy of the PDF with this hash."""
        return self.library_dir() / sha256[:2] / f"{sha256}.pdf"

    def _store_file(self, src: Path, sha256: str) -> bool:
        """Copy ``src`` into the library, hashing the bytes as they are copied: the copy is renamed into place only
        when they hash to ``sha256`` (temp file + fsync + rename), so a file replaced while it is being added is
        never stored under the first file's hash. False if an intact copy (same hash) is already there.

        Raises:
            FileChanged: the bytes read now are not those hashed before; nothing is stored.
        """
        target = self.pdf_file(sha256)
        if target.is_file() and file_sha256(target) == sha256:
            return False
        folder = self.library_dir()
        marked = (folder / OWNER_FILE).is_file()
        self._sweep_library(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        with atomic_open(target, "wb", prefix=temp_prefix(".incoming-"), suffix=".pdf") as out, \
                open(src, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
                out.write(block)
            if h.hexdigest() != sha256:
                raise FileChanged(f"{src.name} changed while it was being added (its bytes no longer match what was "
                                  "read): nothing was stored; add it again")
        self._verified.pop(sha256, None)
        if not marked:  # a new library: marked as this log's once its first file is in
            with self._lock:
                write_owner(folder, self.path.expanduser().resolve(), _db.library_id(self.conn))
        return True

    def _sweep_library(self, folder: Path) -> None:
        """Delete what killed imports left in the library (``.incoming-*`` files whose process is gone, or old),
        once per log object."""
        if self._swept or not folder.is_dir():
            return
        self._swept = True
        for sub in (folder, *(p for p in folder.iterdir() if p.is_dir())):
            remove_stale(sub, ".incoming-")

    def _repair_file(self, src: Path, sha256: str) -> str | None:
        """Restore the stored copy of a PDF already in the log from ``src`` (a file with the same hash) when that
        copy is missing or altered; a note saying so, or None when the copy was intact."""
        target = self.pdf_file(sha256)
        state = "missing" if not target.is_file() else None
        if state is None and file_sha256(target) != sha256:
            state = "altered"
        if state is None:
            return None
        try:
            self._store_file(src, sha256)
        except OSError as err:  # a full disk, a read-only library folder
            raise ReadingError(f"cannot restore the stored copy of {src.name} in {self.library_dir()}: "
                               f"{err.strerror or err}") from None
        return f"its stored copy was {state} and has been restored from this file"

    _verified: dict[str, tuple[int, int, int]] = {}  # sha256 -> (inode, size, mtime_ns) of the copy last verified

    def verified_pdf_file(self, sha256: str) -> Path:
        """The stored copy of a PDF, checked against its hash (once per change of the file: cheap on repeat).

        Raises:
            ReadingError: the copy is missing or its bytes no longer match (one line saying how to restore it).
        """
        target = self.pdf_file(sha256)
        try:
            st = target.stat()
        except OSError:
            raise ReadingError(f"the stored copy of PDF {sha256[:12]} is missing ({target}): add the original file "
                               "again (reading add FILE) to restore it") from None
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._verified.get(sha256) != sig:
            if file_sha256(target) != sha256:
                raise ReadingError(f"the stored copy of PDF {sha256[:12]} was altered (its bytes no longer match its "
                                   "hash): add the original file again (reading add FILE) to restore it")
            self._verified[sha256] = sig
        return target

    def _forget_files(self, shas: Iterable[str]) -> None:
        """Delete stored PDFs no paper refers to any more (after the removal was committed)."""
        if str(self.path) == ":memory:":
            return
        try:
            self.library_dir()
        except ReadingError:
            return  # the folder is another log's: its files are not ours to delete
        with self._lock:
            live = _db.pdf_shas(self.conn)
        for sha in set(shas) - live:
            with contextlib.suppress(OSError):
                self.pdf_file(sha).unlink()
            with contextlib.suppress(OSError):
                self.pdf_file(sha).parent.rmdir()  # only when empty

    def _pdf_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "path": str(self.pdf_file(row["sha256"]))}

    # --- intake -----------------------------------------------------------------------------------------------

    def _read_pdf(self, path: Path, *, password: str | None, name: str | None,
                  on_page: Callable[[int, int], None] | None) -> tuple[str, PdfText]:
        from ._pdf import extract

        if not path.is_file():
            raise InvalidInput(f"no file {str(path)!r}")
        sha = file_sha256(path)
        try:
            return sha, extract(path, password=password, name=name, on_page=on_page)
        except (ReadingError, KeyboardInterrupt):
            raise
        except Exception as err:  # noqa: BLE001 - a file PDFium or its bindings fail on in a way no one foresaw:
            # one line naming the file, so every importer (folder, Zotero, BibTeX file fields) goes on to the next
            from ._pdf import PdfError

            why = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            raise PdfError(f"{shown_name(name or path.name)} cannot be read "
                           f"({type(err).__name__}{': ' + why if why else ''})") from None

    def add_pdf(
        self,
        path: str | os.PathLike[str],
        *,
        title: str | None = None,
        authors: str | Iterable[str] | None = None,
        year: int | str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
        status: str | None = None,
        rating: int | None = None,
        fetch: bool = True,
        client: Any = None,
        password: str | None = None,
        name: str | None = None,
        on_page: Callable[[int, int], None] | None = None,
    ) -> PdfAddResult:
        """Log a paper from its PDF (or attach the PDF to the paper it duplicates) and store its text.

        The paper is identified by an arXiv id found in the PDF (then completed from arXiv when ``fetch``; offline
        or with ``fetch=False`` it is logged from the PDF's title and authors and flagged ``needs_refresh``), else
        a DOI on its first page, else its title (metadata or the first page's largest lines; the file name as a
        last resort). The usual duplicate rules apply, and the same file twice is one paper. ``title``,
        ``authors``, ``year`` typed here win. A new paper's status defaults to ``to-read``.

        Raises:
            reading._pdf.PdfError (a ReadingError): not a PDF, truncated, corrupt, or encrypted without the
            right ``password``. Nothing is stored then.
        """
        src = Path(path)
        name = shown_name(name or src.name)
        tags_ = _clean_tags(tags)
        rating_ = _check_rating(rating)
        status_ = _check_status(status)
        typed = {"title": title.strip() if title and title.strip() else None,
                 "authors": split_authors(authors) or None, "year": _check_year(year)}
        typed = {k: v for k, v in typed.items() if v is not None}
        if not src.is_file():
            raise InvalidInput(f"no file {str(src)!r}")
        sha = file_sha256(src)
        with self._lock:
            known = _db.select_pdfs(self.conn, sha256=sha)
        if known:
            pid = known[0]["paper_id"]
            repaired = self._repair_file(src, sha)  # a missing or altered stored copy is restored from it
            with self._lock, self._write():
                self._annotate(pid, tags_, note, None, rating_)
            return PdfAddResult(self._paper(pid), False, self._pdf_row(known[0]), duplicate=True,
                                message=f"{name} is already in the log (paper {pid})" + (f"; {repaired}" if repaired
                                                                                        else ""),
                                restored=repaired is not None)
        _, doc = self._read_pdf(src, password=password, name=name, on_page=on_page)
        aid, doi = doc.arxiv_id, doc.doi
        fetched: dict[str, Any] = {}
        messages = []
        own_title = title.strip() if title and title.strip() else doc.title
        refused: list[str] = []
        if aid:
            with self._lock:
                existing = self._match(aid, None, None)
                logged = self._paper(existing) if existing is not None else None
            if fetch and (logged is None or logged["needs_refresh"]):
                from ._arxiv import FetchError, fetch_one

                try:
                    fetched = fetch_one(aid, client=client)
                except FetchError as err:
                    messages.append(f"{err}; logged arXiv:{aid} from the PDF, run `reading refresh` later")
            their = fetched.get("title") or (logged["title"] if logged is not None else None)
            if titles_agree(own_title, their) is False:  # an id the PDF cites, not its own
                refused.append(f"arXiv:{aid} (“{their}”)")
                aid, fetched, messages = None, {}, []
        if doi:
            with self._lock:
                existing = self._match(None, doi, None)
                their = self._paper(existing)["title"] if existing is not None else None
            if titles_agree(own_title, their) is False:
                refused.append(f"doi:{doi} (“{their}”)")
                doi = None
        unattached = None
        if refused:
            unattached = (f"not attached to {' or '.join(refused)}: the PDF's title is “{own_title}”, so the id "
                          "is one it cites; logged as a paper of its own")
            messages.insert(0, unattached)
        from_pdf: dict[str, Any] = {"title": doc.title, "authors": doc.authors or None, "doi": doi}
        if not (doc.title or fetched.get("title") or typed.get("title")):
            from_pdf["title"] = " ".join(Path(name).stem.replace("_", " ").split()) or "untitled PDF"
        fields = {k: v for k, v in {**from_pdf, **fetched, **typed}.items() if v}
        if aid:
            fields["arxiv_id"] = aid
        if not doc.has_text:
            messages.append(f"{name}: {NO_TEXT}")
        result = self._commit_pdf(src, sha, name, doc, fields, manual=list(typed),
                                  needs_refresh=bool(aid) and not fetched, tags=tags_, note=note, status=status_,
                                  rating=rating_, messages=messages)
        result.unattached = unattached
        return result

    def _annotate(self, pid: int, tags: list[str], note: str | None, status: str | None,
                  rating: int | None) -> None:
        if tags:
            _db.insert_tags(self.conn, pid, tags)
        if note and note.strip() and not _db.has_note(self.conn, pid, note):
            _db.insert_note(self.conn, pid, note, now_iso())
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
        if rating is not None:
            changes["rating"] = rating
        if status == "read":
            _db.insert_read(self.conn, pid, dt.date.today().isoformat(), now_iso())
        if changes or tags or note:
            _db.update_paper(self.conn, pid, {**changes, "updated_at": now_iso()})

    def _commit_pdf(self, src: Path, sha: str, name: str, doc: PdfText, fields: dict[str, Any], *,
                    manual: list[str], needs_refresh: bool, tags: list[str], note: str | None, status: str | None,
                    rating: int | None, messages: list[str], paper_id: int | None = None) -> PdfAddResult:
        """Store the file, then the paper (new or merged) and the PDF's pages in one transaction."""
        self.library_dir()
        try:
            stored = self._store_file(src, sha)
        except OSError as err:  # a full disk, a file-size limit (EFBIG), a read-only library folder
            raise ReadingError(f"cannot store {name} in {self.library_dir()}: {err.strerror or err}") from None
        try:
            with self._lock, self._write():
                known = _db.select_pdfs(self.conn, sha256=sha)
                if known:  # another process logged the same file meanwhile
                    pid = known[0]["paper_id"]
                    return PdfAddResult(self._paper(pid), False, self._pdf_row(known[0]), duplicate=True,
                                        message=f"{name} is already in the log (paper {pid})")
                pid = paper_id
                created = False
                if pid is None:
                    pid = self._match(fields.get("arxiv_id"), fields.get("doi"), fields.get("title"))
                    created = pid is None
                    if pid is None:
                        pid = self._insert(fields, manual=manual, needs_refresh=needs_refresh,
                                           status=status or "to-read", rating=rating, source="pdf")
                    else:
                        self._merge(pid, fields, manual=manual, fetched="arxiv_id" in fields and not needs_refresh,
                                    status=None, rating=None)
                self._annotate(pid, tags, note, status if not created else None, None if created else rating)
                if created and status == "read":
                    _db.insert_read(self.conn, pid, dt.date.today().isoformat(), now_iso())
                row = {"sha256": sha, "paper_id": pid, "file_name": name, "size": src.stat().st_size,
                       "page_count": doc.page_count, "has_text": int(doc.has_text), "added_at": now_iso()}
                _db.insert_pdf(self.conn, row, *_stored_text(doc))
                if not created:
                    self._touch(pid)
        except BaseException:
            if stored:
                self._forget_files([sha])
            raise
        with contextlib.suppress(Exception):  # derived data: what fails here is parsed again at the next read
            self.sync_citations()  # its reference list parsed and matched now (a few ms), not at the first read
        return PdfAddResult(self._paper(pid), created, self._pdf_row({**row, "has_text": bool(row["has_text"])}),
                            message="; ".join(messages) or None)

    def attach_pdf(self, ref: int | str, path: str | os.PathLike[str], *, password: str | None = None,
                   name: str | None = None, on_page: Callable[[int, int], None] | None = None) -> PdfAddResult:
        """Attach a PDF to a paper already in the log and store its text.

        Raises:
            PaperNotFound: no such paper. InvalidInput: the file is attached to another paper already.
            reading._pdf.PdfError: not a PDF, truncated, corrupt, encrypted.
        """
        src = Path(path)
        name = shown_name(name or src.name)
        pid = self._resolve(ref)
        if not src.is_file():
            raise InvalidInput(f"no file {str(src)!r}")
        sha = file_sha256(src)
        with self._lock:
            known = _db.select_pdfs(self.conn, sha256=sha)
        if known:
            if known[0]["paper_id"] != pid:
                raise InvalidInput(f"{name} is already attached to paper {known[0]['paper_id']}")
            repaired = self._repair_file(src, sha)
            return PdfAddResult(self._paper(pid), False, self._pdf_row(known[0]), duplicate=True,
                                message=f"{name} is already attached to paper {pid}" + (f"; {repaired}" if repaired
                                                                                       else ""),
                                restored=repaired is not None)
        _, doc = self._read_pdf(src, password=password, name=name, on_page=on_page)
        messages = [] if doc.has_text else [f"{name}: {NO_TEXT}"]
        return self._commit_pdf(src, sha, name, doc, {}, manual=[], needs_refresh=False, tags=[], note=None,
                                status=None, rating=None, messages=messages, paper_id=pid)

    def import_pdfs(self, folder: str | os.PathLike[str], *, tags: Iterable[str] = (), fetch: bool = False,
                    client: Any = None, progress: bool = False) -> ImportReport:
        """Log every PDF below ``folder`` (a Zotero storage folder, say), one transaction per file.

        Resumable: files already in the log (by hash) are skipped, so an interrupted import simply runs again.
        A PDF that cannot be read is named in ``failed`` and the rest are imported. arXiv papers are logged from
        their PDFs and flagged for ``reading refresh`` (one batched call) unless ``fetch``.
        """
        root = Path(folder)
        if not root.is_dir():
            raise InvalidInput(f"no folder {str(root)!r}")
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
        report = ImportReport()
        from tqdm import tqdm

        from ._pdf import EncryptedPdf

        for path in tqdm(files, unit="pdf", desc="import", disable=not progress or not files):
            shown = shown_name(path.relative_to(root))
            try:
                result = self.add_pdf(path, tags=tags, fetch=fetch, client=client)
            except EncryptedPdf as err:
                report.failed.append((shown, f"{err}; add it by itself: reading add FILE --password ..."))
                continue
            except ReadingError as err:
                report.failed.append((shown, str(err)))
                continue
            except OSError as err:
                report.failed.append((shown, f"cannot read it: {err.strerror or err}"))
                continue
            except Exception as err:  # noqa: BLE001 - one odd file must not stop the import of the rest
                import sqlite3

                if isinstance(err, sqlite3.Error):  # the log itself fails: every later file would too
                    raise
                text = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
                report.failed.append((shown, f"cannot be read ({type(err).__name__}{': ' + text if text else ''})"))
                continue
            pid = int(result.paper["id"])
            (report.already if result.duplicate else report.added if result.created else report.joined).append(pid)
            if result.created and result.paper.get("needs_refresh"):
                report.needs_refresh += 1
            if result.unattached:
                report.notes.append((shown, result.unattached))
            if not result.pdf["has_text"]:
                report.notes.append((shown, NO_TEXT))
        return report

    # --- reading it back --------------------------------------------------------------------------------------

    def pdfs(self, ref: int | str) -> list[dict[str, Any]]:
        """The PDFs of a paper: sha256, file_name, size, page_count, has_text, added_at and path (stored copy)."""
        with self._lock:
            pid = self._resolve(ref)
            return [self._pdf_row(r) for r in _db.select_pdfs(self.conn, paper_id=pid)]

    def pdf_pages(self, sha256: str, first: int = 1, last: int | None = None) -> list[str]:
        """The text of pages ``first``..``last`` (1-based, inclusive; default all) of a stored PDF."""
        with self._lock:
            if not _db.select_pdfs(self.conn, sha256=sha256):
                raise PaperNotFound(f"no PDF {sha256[:12]} in the log")
            return _db.select_pages(self.conn, sha256, first, last)

    def render_pdf_page(self, sha256: str, page: int, *, scale: float = 1.5) -> Any:
        """Page ``page`` (1-based) of a stored PDF rendered as a PIL image (``scale`` 1 = 72 dpi)."""
        from ._pdf import render_page

        with self._lock:
            if not _db.select_pdfs(self.conn, sha256=sha256):
                raise PaperNotFound(f"no PDF {sha256[:12]} in the log")
        return render_page(self.verified_pdf_file(sha256), page, scale=scale)

    def pages_version(self) -> int:
        """A counter that grows whenever a PDF is stored or removed (the passage index's staleness check)."""
        with self._lock:
            return _db.pages_version(self.conn)

    def fulltext_search(self, query: str, *, k: int = 10, ids: Iterable[int] | None = None
                        ) -> list[dict[str, Any]]:
        """BM25 over the pages of the stored PDFs: ``{"page_id", "paper_id", "sha256", "page", "score"}``, best
        first. Query words are quoted (FTS syntax is searched for, never parsed); pages with any word match."""
        from ._text import fts_query, query_words

        words, cjk = query_words(query)
        content = [w for w in words if w.casefold() not in STOPWORDS]
        words = (content or words) + cjk  # a page holds hundreds of words: "the" would match them all
        if not words or k <= 0:
            return []
        with self._lock:
            if len(words) > 1:
                words = self._rarer_words(words)
            hits = _db.pages_fts_search(self.conn, fts_query(words), k, None if ids is None else list(ids))
            rows = {r[0]: r for r in _db.page_rows(self.conn, [h[0] for h in hits])}
        return [{"page_id": gid, "paper_id": rows[gid][1], "sha256": rows[gid][2], "page": rows[gid][3],
                 "score": score} for gid, score in hits if gid in rows]

    def _rarer_words(self, words: list[str]) -> list[str]:
        """``words`` without those on more than ``COMMON_SHARE`` of the pages (at least the two rarest are kept).

        Such words weigh little in BM25 (their inverse document frequency is small) but cost the most: every page
        they are on gets scored. At 50,000 pages this makes a title-length query about 5x faster.
        """
        from ._text import fts_query

        total = _db.count_pages(self.conn)
        if total < COMMON_MIN_PAGES:
            return words
        df = {w: _db.pages_matching(self.conn, fts_query([w])) for w in words}
        kept = [w for w in words if df[w] <= COMMON_SHARE * total]
        return kept if len(kept) >= 2 else sorted(words, key=lambda w: df[w])[:2]

    def passage_texts(self, page_ids: Iterable[int] | None = None
                      ) -> list[tuple[int, int, str, int, str, str]]:
        """``(passage id, paper id, PDF sha256, page number, passage text, section)`` of the stored pages (all when
        None), by page; a passage id is ``page row id * PASSAGE_SLOTS + its number on the page``.

        ``section`` is the heading in force as printed ("4.2 Ablation"; carried over from earlier pages; "" before
        the first). Reference lists are no passages: a page of references alone has none. Pages stored before
        layouts were kept have no sections (see :meth:`reextract_pdfs`).
        """
        with self._lock:
            rows = _db.page_rows(self.conn, None if page_ids is None else list(page_ids))
            layouts = _db.page_layouts(self.conn, {row[2] for row in rows})
        opening: dict[tuple[str, int], str] = {}  # (sha256, page) -> the section in force where the page starts
        for sha, pages in layouts.items():
            section = ""
            for page in sorted(pages):
                opening[sha, page] = section
                section = _last_heading(pages[page], section)
        out = []
        for gid, pid, sha, page, text in rows:
            passages, _ = page_passages(text, layouts.get(sha, {}).get(page), opening.get((sha, page), ""))
            for n, (passage, section) in enumerate(passages):
                out.append((passage_id(gid, n), pid, sha, page, passage, section))
        return out

    def reference_entries(self, sha256: str | None = None) -> list[dict[str, Any]]:
        """The reference lists of the stored PDFs (or of one): ``{sha256, paper_id, number, page, text}`` rows, one
        entry each (``number`` from 1 in list order, ``page`` where it starts), PDF by PDF."""
        with self._lock:
            return _db.select_references(self.conn, sha256)

    def reextract_pdfs(self, *, all_pdfs: bool = False,
                       on_pdf: Callable[[int, int], None] | None = None) -> tuple[int, list[tuple[str, str]]]:
        """Read stored PDFs again for their structure: those stored before sections and reference lists were kept
        (or every one with ``all_pdfs``). Their pages get new text (running headers and footers out) and new page
        rows, so the passage index re-embeds them at its next sync.

        Returns:
            (how many were read again, (file name, one-line reason) for each that could not be: its stored copy
            is missing or unreadable, or it is encrypted; it keeps its text, without sections, and is not tried
            again).
        """
        from ._pdf import PdfError, extract
        from ._pdf_layout import PageLayout

        with self._lock:
            shas = [r["sha256"] for r in _db.select_pdfs(self.conn) if r["has_text"]] if all_pdfs \
                else _db.pdfs_without_layout(self.conn)
            names = {r["sha256"]: r["file_name"] for r in _db.select_pdfs(self.conn)}
        done = 0
        failed: list[tuple[str, str]] = []
        for k, sha in enumerate(shas, start=1):
            name = names.get(sha, sha[:12])
            try:
                doc = extract(self.pdf_file(sha), name=name)
            except (PdfError, OSError) as err:
                failed.append((name, str(err).splitlines()[0] if str(err) else type(err).__name__))
                with self._lock, self._write():  # asked once: it keeps its text, with no sections known
                    _db.settle_layouts(self.conn, sha, PageLayout().to_json())
                if on_pdf is not None:
                    on_pdf(k, len(shas))
                continue
            pages, layouts, refs = _stored_text(doc)
            with self._lock, self._write():
                if _db.select_pdfs(self.conn, sha256=sha):  # not removed meanwhile
                    _db.replace_pages(self.conn, sha, pages, layouts, refs)
                    done += 1
            if on_pdf is not None:
                on_pdf(k, len(shas))
        return done, failed

    def page_refs(self) -> dict[int, int]:
        """Page row id -> paper id for every page with a text layer (what the passage index is made of)."""
        with self._lock:
            return _db.page_refs(self.conn)

    def page_keys(self) -> dict[int, tuple[str, int]]:
        """Page row id -> (PDF sha256, page number) for every page with a text layer: row ids of removed pages are
        reused, this pair never is (the passage index keys its vectors by it)."""
        with self._lock:
            return _db.page_keys(self.conn)

    def paper_titles(self, ids: Iterable[int]) -> dict[int, str]:
        """Paper id -> title, for the given ids (a cheap read for the passage index)."""
        with self._lock:
            return _db.paper_titles(self.conn, list(ids))
