"""Exports: BibTeX (re-imports to the same library), JSON (everything), CSV and CSL-JSON; atomic file writes."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import atomic_open
from ._errors import InvalidInput
from ._cells import citation_key, join_items, join_notes, neutralise_cell
from ._intake import CSV_COLUMNS, EXPORT_MARK, FLAGS_MARK

if TYPE_CHECKING:  # pragma: no cover  (Log imports this module's workflows: no import back)
    from ._log import Log

_CONFERENCE = re.compile(
    r"\b(CVPR|ICCV|ECCV|NeurIPS|NIPS|ICML|ICLR|AAAI|IJCAI|ACL|EMNLP|NAACL|KDD|SIGIR|WWW|BMVC|WACV|Multimedia|"
    r"Conference|Proceedings|Workshop|Symposium)\b",
    re.IGNORECASE,
)


def log_files(log: Log | Path | str) -> list[Path]:
    """What makes up a log on disk (the database, its WAL, shared-memory and journal files, its PDF folder): never
    an export target. ``log`` is a :class:`Log` or the path of its file."""
    path = Path(log if isinstance(log, (str, os.PathLike)) else log.path)
    if str(path) == ":memory:":
        return []
    from ._fulltext import library_dir

    return [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")), library_dir(path)]


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check_target(path: Path, protect: Iterable[Path | str] = ()) -> None:
    """Refuse to write to ``path`` when it is (by resolved path, or by inode: a symlink or a hard link) one of the
    ``protect`` files, or lies inside one of the ``protect`` folders.

    Raises:
        InvalidInput: one line naming what the target is.
    """
    target = Path(path).expanduser()
    resolved = target.resolve()
    try:
        target_st = os.stat(target)
    except OSError:
        target_st = None
    for item in protect:
        guarded = Path(item).expanduser()
        g_resolved = guarded.resolve()
        try:
            g_st = os.stat(guarded)
        except OSError:
            g_st = None
        if g_resolved in resolved.parents:  # a folder of the log's (whether it exists yet or not)
            raise InvalidInput(f"refusing to write {path}: it is inside {guarded}, which this program maintains")
        if g_st is not None and stat.S_ISDIR(g_st.st_mode):
            if resolved == g_resolved:
                raise InvalidInput(f"refusing to write {path}: it is {guarded}, which this program maintains")
            continue
        if resolved == g_resolved or (target_st is not None and g_st is not None and _same_file(target_st, g_st)):
            raise InvalidInput(f"refusing to write {path}: it is the log file {guarded} itself; choose another file")


def check_writable(path: Path, *, protect: Iterable[Path | str] = ()) -> None:
    """Fail now, before a long computation, if :func:`write_atomic` could not write ``path`` later: a protected
    target, a folder, or a place that cannot hold a new file (tried with a temporary file, removed at once).

    Raises:
        InvalidInput: one line, as :func:`write_atomic` would raise it.
    """
    path = Path(path).expanduser()
    check_target(path, protect)
    real = path.resolve() if path.is_symlink() else path
    if real.is_dir():
        raise InvalidInput(f"cannot write {path}: it is a folder")
    if real.exists() and not real.is_file():
        return  # a pipe or a device: written through
    folder = real.parent
    while not folder.exists() and folder != folder.parent:  # write_atomic would create the missing folders here
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{real.name}.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise InvalidInput(f"cannot write {path}: {err.strerror or err}") from None


def write_atomic(path: Path, text: str, *, protect: Iterable[Path | str] = ()) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: readers never see half a file.

    ``protect``: files and folders that must never be written (see :func:`check_target`). A symlink is followed
    and its target replaced (the link stays a link); a FIFO, a device or another non-regular file is written
    through, never replaced. A new file gets the user's umask; an existing one keeps its permissions.

    Raises:
        InvalidInput: a protected target, or a place that cannot hold the file (one line, nothing written).
    """
    path = Path(path).expanduser()
    check_target(path, protect)
    real = path.resolve() if path.is_symlink() else path
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise InvalidInput(f"cannot write {path}: {err.strerror or err}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InvalidInput(f"cannot write {path}: it is a folder")
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            # a pipe, a terminal, /dev/null: write into it; a rename would replace the node with a plain file
            with open(real, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            return
        real.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(real, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as err:
        raise InvalidInput(f"cannot write {path}: {err.strerror or err}") from None


def export_text(log: Log, fmt: str, *, tag: str | None = None) -> str:
    """The log (or the papers with ``tag``) as ``bibtex``, ``json``, ``csv`` or ``csl-json`` text."""
    papers = log.papers(tag=tag, sort="added")
    papers.reverse()  # oldest first: stable files that diff well
    if fmt == "json":
        return json.dumps([_portable(p) for p in papers], ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(papers)
    if fmt == "bibtex":
        return _bibtex(papers)
    if fmt == "csl-json":
        from ._csl import csl_json

        return csl_json(papers)
    raise InvalidInput(f"unknown export format {fmt!r}: use bibtex, json, csv or csl-json")


def _portable(paper: Mapping[str, Any]) -> dict[str, Any]:
    """A paper as the JSON export writes it: everything but the row ids of its notes and reads, which belong to
    this log (another log numbers them afresh on import); their texts, dates and creation times are kept."""
    return {**paper, "notes": [{"text": n["text"], "created_at": n["created_at"]} for n in paper["notes"]],
            "reads": [{"read_on": r["read_on"], "created_at": r["created_at"]} for r in paper["reads"]]}


def _csv(papers: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in papers:
        writer.writerow({
            k: neutralise_cell(str(v)) for k, v in {
                "id": p["id"], "arxiv_id": p["arxiv_id"] or "", "doi": p["doi"] or "", "title": p["title"],
                "authors": join_items(p["authors"]), "year": p["year"] or "", "venue": p["venue"] or "",
                "categories": " ".join(p["categories"]), "url": p["url"] or "", "status": p["status"],
                "rating": p["rating"] or "", "tags": join_items(p["tags"]),
                "read_on": join_items(r["read_on"] for r in p["reads"]), "added_at": p["added_at"],
                "abstract": p["abstract"], "notes": join_notes(n["text"] for n in p["notes"]),
                "needs_refresh": "yes" if p["needs_refresh"] else "",
                "manual_fields": " ".join(p["manual_fields"]), "models": join_items(p["models"]),
            }.items()
        })
    return buf.getvalue()


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _bibtex(papers: Sequence[Mapping[str, Any]]) -> str:
    import bibtexparser
    from bibtexparser import model

    library = bibtexparser.Library()
    library.add(model.ExplicitComment(f"{EXPORT_MARK}; UTF-8, no LaTeX escaping; {FLAGS_MARK}"))
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
            ("keywords", join_items(p["tags"], ", ", ",;")),
            ("annote", join_notes(n["text"] for n in p["notes"])),
            ("readstatus", p["status"]),
            ("rating", p["rating"]),
            ("readon", ", ".join(r["read_on"] for r in p["reads"])),
            ("added", p["added_at"]),
            ("zoomodels", ", ".join(p["models"])),
            ("needsrefresh", "yes" if p["needs_refresh"] else None),
            ("manualfields", ", ".join(p["manual_fields"])),
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
        library.add(model.Entry(entry_type, citation_key(p, used), fields))
    return bibtexparser.write_string(library)


def _bib_name(name: str) -> str:
    """``Kaiming He`` -> ``He, Kaiming`` (a name that is already ``Last, First`` or one word is kept)."""
    name = name.strip()
    if "," in name or " " not in name:
        return name
    first, _, last = name.rpartition(" ")
    return f"{last}, {first}"
