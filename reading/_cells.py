"""How an export writes a paper's lists, notes and key into one text field (a CSV cell, a BibTeX field, a CSL item)
and how an import reads them back: shared by `_export`, `_intake` and `_csl`, which import it and not one another."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import InvalidInput

NOTE_SEPARATOR = "\n\n-----\n\n"


def join_items(items: Iterable[str], sep: str = "; ", specials: str = ";") -> str:
    """Items in one cell, ``sep``-joined; a backslash escapes each of ``specials`` (and itself) inside an item,
    so an item holding the separator survives the round trip."""
    def esc(item: str) -> str:
        out = item.replace("\\", "\\\\")
        for ch in specials:
            out = out.replace(ch, "\\" + ch)
        return out

    return sep.join(esc(i) for i in items)


def split_items(text: str | None, specials: str = ";") -> list[str]:
    """The inverse of :func:`join_items`: split on unescaped ``specials``, unescape, strip, drop empties."""
    items, cur, i, text = [], [], 0, text or ""
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and (text[i + 1] in specials or text[i + 1] == "\\"):
            cur.append(text[i + 1])
            i += 2
            continue
        if ch in specials:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    items.append("".join(cur))
    return [item.strip() for item in items if item.strip()]


_RULE_LINE = re.compile(r"^(\\*)-----$", re.MULTILINE)
_ESCAPED_RULE_LINE = re.compile(r"^\\(\\*-----)$", re.MULTILINE)


def join_notes(texts: Iterable[str]) -> str:
    """Notes in one cell, separated by a rule line; a rule line inside a note gets one more leading backslash, so
    it is never taken for the separator."""
    return NOTE_SEPARATOR.join(_RULE_LINE.sub(lambda m: "\\" + m.group(0), t) for t in texts)


def split_notes(text: str | None) -> list[str]:
    """The inverse of :func:`join_notes` (files written before the escaping read the same, bar such lines)."""
    return [_ESCAPED_RULE_LINE.sub(r"\1", n) for n in (text or "").split(NOTE_SEPARATOR) if n.strip()]


# a cell starting with one of these is a formula (or a DDE payload) to a spreadsheet; a quote in front keeps it text
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """A CSV cell safe to open in a spreadsheet: ``'`` put in front of a formula start (and of a cell that already
    starts with ``'`` and one of them, so that :func:`restore_cell` undoes exactly what was done)."""
    if value.startswith(_FORMULA_START) or (value.startswith("'") and value[1:2] in (*_FORMULA_START, "'")):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """The inverse of :func:`neutralise_cell`."""
    if value.startswith("'") and value[1:2] in (*_FORMULA_START, "'"):
        return value[1:]
    return value


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def citation_key(paper: Mapping[str, Any], used: set[str]) -> str:
    """A BibTeX / CSL citation key: first author's surname, year, first title word (``he2015deep``), made unique
    against ``used`` (and added to it) with a letter, then a number."""
    last = _ascii_word(paper["authors"][0].split()[-1]) if paper["authors"] else "anon"
    words = [w for w in (_ascii_word(w) for w in paper["title"].split()) if w and w not in {"a", "an", "the", "on"}]
    base = f"{last or 'anon'}{paper['year'] or ''}{words[0] if words else ''}" or f"paper{paper['id']}"
    key, n = base, 0
    while key in used:
        n += 1
        key = base + "abcdefghijklmnopqrstuvwxyz"[(n - 1) % 26] + ("" if n <= 26 else str(n))
    used.add(key)
    return key


def parse_json(text: str) -> Any:
    """The value of a JSON export or import file; InvalidInput (one line) for text that is not JSON or is nested
    too deeply for Python to read."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidInput("the JSON is nested too deeply to read") from None
    except ValueError as err:
        raise InvalidInput(f"not JSON: {err}") from None
