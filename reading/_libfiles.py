"""PDFs named inside reference files: BibTeX ``file`` fields (Zotero, JabRef, Mendeley syntaxes) and RIS ``L1`` /
``UR`` links, attached through the log's PDF intake after the records are stored."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from ._errors import ReadingError
from ._ids import is_arxiv_id, parse_arxiv_id, parse_doi

if TYPE_CHECKING:  # pragma: no cover
    from ._log import Log

_TYPE = re.compile(r"^(?:[a-z]+/[a-z0-9.+-]+|[a-z0-9]{1,10})$", re.IGNORECASE)


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on ``sep`` not preceded by a backslash escape; escapes are kept for the next level."""
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\:;{}])", r"\1", text)


def parse_file_field(value: str | None) -> list[str]:
    """The PDF paths in a BibTeX ``file`` field, in order.

    Syntaxes: Zotero's ``Description:path:mime`` (several separated by ``;``), JabRef's ``:path:PDF`` (``\\:``,
    ``\\;`` and ``\\\\`` escaped), Mendeley's ``:/absolute/path.pdf:pdf`` (``$\\backslash$`` for a backslash), and
    a bare path. Entries that are not PDFs (an HTML snapshot) are left out.
    """
    if not value or not value.strip():
        return []
    text = value.replace("$\\backslash$", "\\").replace("{", "").replace("}", "")
    out = []
    for entry in _split_unescaped(text, ";"):
        parts = [_unescape(p) for p in _split_unescaped(entry.strip(), ":")]
        if len(parts) == 1:
            path, kind = parts[0], ""
        elif len(parts) == 2:
            path, kind = (parts[0], parts[1]) if _TYPE.match(parts[1].strip()) else (":".join(parts), "")
        else:
            path, kind = ":".join(parts[1:-1]), parts[-1]
        path, kind = path.strip(), kind.strip().lower()
        if not path:
            continue
        if kind in ("application/pdf", "pdf") or path.lower().endswith(".pdf"):
            out.append(path)
    return out


def link_path(link: str) -> str | None:
    """A local path from an RIS ``L1``/``UR`` link (``file://`` URL or a path), or None for a web address."""
    link = link.strip()
    if not link:
        return None
    if link.lower().startswith("file:"):
        return unquote(urlparse(link).path)
    if re.match(r"^[a-z][a-z0-9+.-]*://", link, re.IGNORECASE):
        return None
    return link


def _paper_of(log: Log, record: dict[str, Any]) -> int | None:
    aid = record.get("arxiv_id")
    aid = parse_arxiv_id(aid) if isinstance(aid, str) and is_arxiv_id(aid) else None
    doi = parse_doi(record.get("doi")) if isinstance(record.get("doi"), str) else None
    title = record.get("title") if isinstance(record.get("title"), str) else None
    with log._lock:
        return log._match(aid, doi, title)


def attach_files(log: Log, records: list[dict[str, Any]], base_dir: Path, report: dict[str, Any], *,
                 progress: bool = False) -> None:
    """Attach the PDFs records name (``_files``: paths, relative ones to ``base_dir``) to the papers the records
    became. Counts ``pdfs`` in ``report``; a file that is not there goes to ``missing``, a bad PDF to ``errors``."""
    from tqdm import tqdm

    todo = [(r, f) for r in records if not r.get("_error") for f in r.get("_files") or []]
    report.setdefault("pdfs", 0)
    report.setdefault("missing", [])
    for record, name in tqdm(todo, unit="pdf", desc="PDFs", disable=not progress or not todo):
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        where = record.get("_where", "record")
        if not path.is_file():
            report["missing"].append(f"{where}: {name}")
            continue
        pid = _paper_of(log, record)
        if pid is None:
            continue  # the record itself was not stored: its error is reported
        try:
            result = log.attach_pdf(pid, path)
        except ReadingError as err:
            report["errors"].append(f"{where}: {path.name}: {err}")
            continue
        except OSError as err:
            report["errors"].append(f"{where}: {path.name}: cannot read it: {err.strerror or err}")
            continue
        if not result.duplicate:
            report["pdfs"] += 1
