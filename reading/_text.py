"""Turning user text into a safe FTS5 query."""
from __future__ import annotations

import re

MAX_TERMS = 64
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def fts_query(text: str | None) -> str:
    """An FTS5 MATCH expression for free text: each word double-quoted (so operators, quotes, colons and
    parentheses are searched as text, never parsed), joined with OR; CJK words match as prefixes. Empty when the
    text has no words.
    """
    words: list[str] = []
    for word in re.findall(r"\w+", text or ""):
        if word.casefold() not in (w.casefold() for w in words):
            words.append(word)
        if len(words) == MAX_TERMS:
            break
    # unicode61 keeps a run of CJK characters as one token, so a Chinese word matches as a prefix of that run
    return " OR ".join('"' + w.replace('"', '""') + '"' + ("*" if _CJK.search(w) else "") for w in words)
