"""Turning user text into a safe FTS5 query, with CJK words kept apart for substring search."""
from __future__ import annotations

import re

MAX_TERMS = 64
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]+")
# a run of CJK characters, or a run of other word characters: "ResNet残差" is two words
_WORD = re.compile(f"[{_CJK_CHARS}]+|(?:(?![{_CJK_CHARS}])\\w)+")


def query_words(text: str | None) -> tuple[list[str], list[str]]:
    """The distinct words of ``text`` (case-insensitively, first spelling kept, at most ``MAX_TERMS``), split into
    words FTS5 can match and CJK words.

    FTS5's unicode61 tokenizer keeps a whole run of CJK characters (a clause: Chinese has no spaces) as one token,
    so a Chinese word inside a sentence can only be found as a substring, not as a token.
    """
    words: list[str] = []
    for word in _WORD.findall(text or ""):
        if word.casefold() not in (w.casefold() for w in words):
            words.append(word)
        if len(words) == MAX_TERMS:
            break
    cjk = [w for w in words if _CJK.fullmatch(w)]
    return [w for w in words if w not in cjk], cjk


def fts_query(words: list[str]) -> str:
    """An FTS5 MATCH expression: each word double-quoted (so operators, quotes, colons and parentheses are searched
    as text, never parsed), joined with OR. Empty when there are no words.
    """
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
