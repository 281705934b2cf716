"""Notes written in HTML (Zotero's note editor) as Markdown: headings, paragraphs, emphasis, links, lists, quotes
and code keep their shape; every character of the text is kept (any language); scripts and styles are dropped."""
from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "table", "tr", "hr"}
_SKIP = {"script", "style", "head", "title"}


class _ToMarkdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # one [counter] per open list; counter -1 for a bulleted list
        self.quote = 0
        self.pre = 0
        self.skip = 0
        self.href: list[str | None] = []

    # the text so far ends a block: a blank line (or a quote marker) before what follows
    def _break(self, blank: bool = True) -> None:
        text = "".join(self.out).rstrip(" ")
        if not text:
            self.out = []
            return
        if not blank and text.endswith("\n"):
            self.out = [text]
            return
        self.out = [text.rstrip("\n") + ("\n\n" if blank else "\n")]

    def _prefix(self) -> str:
        return "> " * self.quote

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if tag in _BLOCKS:
            self._break(blank=tag != "li" and not (tag in ("ul", "ol") and self.lists))
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.out.append(self._prefix() + "#" * int(tag[1]) + " ")
        elif tag in ("ul", "ol"):
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            depth = max(len(self.lists) - 1, 0)
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
            self.out.append(self._prefix() + "  " * depth + (f"{counter[0]}. " if counter[0] >= 0 else "- "))
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
            self.out.append(self._prefix() + "```\n")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "br":
            self.out.append("\n" + self._prefix())
        elif tag == "hr":
            self.out.append("---")
            self._break()
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
            self.out.append("[")
        elif tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(self.skip - 1, 0)
            return
        if tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "a":
            href = self.href.pop() if self.href else None
            self.out.append(f"]({href})" if href else "]")
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
            self.out.append("\n```")
            self._break()
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._break(blank=not self.lists)
        elif tag == "blockquote":
            self._break()
            self.quote = max(self.quote - 1, 0)
        elif tag == "li":
            self._break(blank=False)
        elif tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if not "".join(self.out[-1:]).strip(" ") or "".join(self.out[-1:]).endswith(("\n", "> ", "- ", ". ")):
                data = data.lstrip()
        if self.quote and "".join(self.out).endswith("\n") and data:
            data = self._prefix() + data
        self.out.append(data)


def html_to_markdown(html: str) -> str:
    """Markdown for an HTML note; text that holds no tags comes back as it is (stripped)."""
    if not html or "<" not in html:
        return (html or "").strip()
    parser = _ToMarkdown()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
