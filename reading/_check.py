"""``Log.check``: the integrity of a log and of its PDF library, one line per problem (``reading check``).

The log file (``PRAGMA quick_check`` and the foreign keys), the library folder's marker, and every stored PDF
(present, and its bytes hash to the name it is stored under). The index folder is the ``index`` package's:
``paperzoo.check`` adds it.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from . import _db
from ._errors import ReadingError

if TYPE_CHECKING:
    from ._log import Log


def _problem(where: str, text: str, fix: str = "") -> dict[str, str]:
    return {"where": where, "problem": text, "fix": fix}


def check(log: Log) -> dict[str, Any]:
    """See :meth:`reading.Log.check`."""
    from ._fulltext import OWNER_FILE, file_sha256
    from ._stale import remove_stale

    problems: list[dict[str, str]] = []
    notes: list[str] = []
    with log._lock:
        for found in _db.integrity_problems(log.conn):
            problems.append(_problem("log", found.splitlines()[0], "restore a backup or an export of the log"))
        pdfs = _db.select_pdfs(log.conn)
    if str(log.path) == ":memory:":
        return {"problems": problems, "notes": notes, "pdfs": 0}
    try:
        folder = log.library_dir()
    except ReadingError as err:
        problems.append(_problem("library", str(err)))
        return {"problems": problems, "notes": notes, "pdfs": len(pdfs)}
    known = set()
    for row in pdfs:
        sha, name = row["sha256"], row["file_name"]
        known.add(sha)
        path = log.pdf_file(sha)
        what = f"PDF {sha[:12]} ({name}, paper {row['paper_id']})"
        fix = f"add the original file again (reading add {name}) to restore it"
        if not path.is_file():
            problems.append(_problem("pdf", f"{what}: the stored copy is missing ({path})", fix))
        elif file_sha256(path) != sha:
            problems.append(_problem("pdf", f"{what}: the stored copy was altered (its bytes no longer match its "
                                            "hash)", fix))
    if folder.is_dir():
        for sub in (folder, *(p for p in folder.iterdir() if p.is_dir())):
            for left in remove_stale(sub, ".incoming-"):
                notes.append(f"removed {left.name}, left by an interrupted import")
        for path in sorted(folder.rglob("*.pdf")):
            if path.parent.parent == folder and not path.name.startswith(".") and path.stem not in known:
                notes.append(f"{path} is not in the log (left by an interrupted removal?): delete it to free space")
        owner = (folder / OWNER_FILE)
        if not owner.is_file() and pdfs and os.access(folder, os.W_OK):
            notes.append(f"{folder} has no owner marker yet")
    return {"problems": problems, "notes": notes, "pdfs": len(pdfs)}


__all__ = ["check"]
