"""Turning user text into a safe FTS5 query."""
from __future__ import annotations

import re

MAX_TERMS = 64


def fts_query(text: str | None) -> str:
    """An FTS5 MATCH expression for free text: each word double-quoted (so operators, quotes, colons and
    parentheses are searched as text, never parsed), joined with OR. Empty when the text has no words.
    """
    words: list[str] = []
    for word in re.findall(r"\w+", text or ""):
        if word.casefold() not in (w.casefold() for w in words):
            words.append(word)
        if len(words) == MAX_TERMS:
            break
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
