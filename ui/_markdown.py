"""Markdown from the log (notes, abstracts, snippets) made safe to render: the app contacts no host the user did not
ask for, so an image (``![](http://host/x.png)``, or by reference ``![x][ref]``) is shown as a link to it, never
fetched. Code spans and fenced code blocks are left exactly as written.
"""
from __future__ import annotations

import re

# fenced code blocks (``` or ~~~, to the matching fence or the end) and inline code spans (a run of backticks
# closed by a run of the same length): text in them is code, not Markdown
_CODE = re.compile(r"(^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\2[ \t]*$|\Z)|(`+)(?:.|\n)*?(?<!`)\3(?!`))",
                   re.MULTILINE | re.DOTALL)
# "!" opening an image (an escaped "\!" is literal text and stays so), with its alt text when it is inline
_IMAGE = re.compile(r"(?<!\\)((?:\\\\)*)!\[(?:([^\[\]\n]*)\](?=\())?")
# an HTML <img> (Streamlit escapes HTML unless told otherwise; disarmed anyway, should a page ever allow it)
_IMG_TAG = re.compile(r"<(\s*img\b)", re.IGNORECASE)


def _as_link(m: re.Match[str]) -> str:
    if m.group(2) is None:  # by reference: the same reference as a link
        return m.group(1) + "["
    return f"{m.group(1)}[image: {m.group(2).strip() or 'remote'}]"


def _disarm(text: str) -> str:
    return _IMG_TAG.sub(r"&lt;\1", _IMAGE.sub(_as_link, text))


def safe_markdown(text: str | None) -> str:
    """``text`` with every Markdown image turned into a link to the image (and ``<img`` tags escaped), so rendering
    it fetches nothing; everything else is unchanged."""
    if not text:
        return ""
    out, last = [], 0
    for m in _CODE.finditer(text):
        out.append(_disarm(text[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_disarm(text[last:]))
    return "".join(out)
