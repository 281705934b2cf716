"""The structure of a document's text: section headings and the reference list, found in the lines that
:mod:`reading._pdf_layout` put in reading order. Used by :func:`reading._pdf.extract`.

- **Headings** (:func:`heading_text`): short lines set larger, bold, in capitals or italic and numbered
  ("4.2 Ablation", "IV. EXPERIMENTS", "A. Speed"), or the names papers give their sections ("Abstract",
  "References"); kept as printed.
- **References** (:func:`reference_entries`): from the "References"/"Bibliography" heading to the end (or an
  appendix heading), lines are grouped into entries: a new entry starts with a label ("[12]", "12.") or, in a list
  without labels, at the column's left edge (continuation lines are indented) or after a wider vertical gap.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ._pdf_layout import (HYPHENS, SOFT, Line, PageLayout, Word, group_lines, normalise_text, order_page,
                          running_lines, split_margin)

#: "4.2", "IV.", "A.", "A.1", "Appendix A" ... at the start of a heading.
_NUMBERED = re.compile(r"^(?:(?:appendix|section|chapter)\s+)?(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-Z]\.|"
                       r"[A-Z](?:\.\d{1,2}){1,3}\.?|[A-Z](?=\s+[A-Z]))\s+\S", re.IGNORECASE)
_NAMED = re.compile(
    r"^(?:abstract|introduction|related\s+work|background|preliminaries|method(?:s|ology)?|approach|experiments?|"
    r"(?:experimental\s+)?results|evaluation|discussion|conclusions?|summary|limitations|future\s+work|"
    r"acknowledge?ments?|references|bibliography|appendix|appendices|supplementary\s+material)\b", re.IGNORECASE)
_REFERENCES = re.compile(
    r"^(?:(?:\d{1,2}|[IVX]{1,5}|[A-Z])\.?\s+)?(?:references|bibliography|literature\s+cited|works\s+cited|"
    r"reference\s+list|references\s+and\s+notes)\s*:?$", re.IGNORECASE)
_APPENDIX = re.compile(r"^(?:appendix|appendices|supplementary|[A-Z](?:\.\d{1,2})*\.?\s+\S)", re.IGNORECASE)
_RUN_IN_ABSTRACT = re.compile(r"^(abstract)\s*[—–\-.:]", re.IGNORECASE)
_CAPTION = re.compile(r"^(?:fig\.|figure|table)\s*\d+[.:]", re.IGNORECASE)
#: A reference entry's label: "[12]", "[Smi19]", "12." or "(12)".
_LABEL = re.compile(r"^(?:\[[^\]\s]{1,12}\]|\(\d{1,3}\)|\d{1,3}\.)(?=\s|$)")


# --- headings -----------------------------------------------------------------------------------------------------


def body_size(pages: Sequence[Sequence[Line]]) -> float:
    """The font size most of the text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            for w in line.words:
                sizes[round(w.size * 2) / 2] += len(w.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def heading_text(line: Line, body: float, *, in_references: bool = False) -> str | None:
    """The heading a line is, as printed, or None for a line of text."""
    words = line.words
    if len(words) > 14:
        return None
    text = " ".join(line.text.split())
    if not text or len(text) > 100 or not text[0].isalnum():
        return None
    numbered = bool(_NUMBERED.match(text)) and not re.match(r"^\d+(\.\d+)?\s+[a-z%]", text)
    named = bool(_NAMED.match(text)) and len(words) <= 5
    size = statistics.median(w.size for w in words)
    larger = size >= body * 1.12
    if not (numbered or named or larger):
        return None  # most lines of text end here
    letters = sum(len(w.text) for w in words)
    bold = sum(len(w.text) for w in words if w.bold) >= 0.8 * letters
    italic = sum(len(w.text) for w in words if w.italic) >= 0.8 * letters
    caps = _caps(text)
    if text[-1] in ",;" or (text[-1] == "." and len(words) > 3 and not numbered):
        return None
    if re.search(r"\b(19|20)\d\d\b", text) or _LABEL.match(text):
        return None  # a citation, a year in a sentence: not a heading
    if in_references:  # a heading inside the reference list ends it (an appendix): it must stand out
        return text if (bold or larger) and (_APPENDIX.match(text) or named) else None
    if named and (bold or caps or larger or italic or len(words) == 1):
        return text
    if numbered and (bold or larger or caps or italic) and len(words) >= 2:
        return text
    if bold and larger and len(words) <= 10:
        return text
    return None


def _run_in(line: Line) -> str | None:
    """A heading set at the start of a paragraph ("Abstract—We ...", bold "Abstract." in llncs)."""
    m = _RUN_IN_ABSTRACT.match(line.text)
    if m and (line.words[0].bold or line.words[0].italic or _caps(m.group(1))):
        return m.group(1)
    return None


# --- references ---------------------------------------------------------------------------------------------------


def is_references_heading(text: str) -> bool:
    return bool(_REFERENCES.match(" ".join(text.split())))


def reference_entries(lines: Sequence[Line], labelled: bool) -> list[tuple[str, str]]:
    """Reference lines (in reading order) grouped into entries: (kind, text), kind "start" for an entry that starts
    here, "more" for the end of the entry before (the page or column begins with it), "other" for a line that is no
    part of the list (a figure's text floated into it: it starts neither at the column's edge nor where the
    entries' lines go on).
    """
    if not lines:
        return []
    edges: dict[int, float] = {}
    for line in lines:
        if line.x0 >= line.edge - 2.0:
            edges[line.col] = min(edges.get(line.col, line.x0), line.x0)
    for line in lines:
        edges.setdefault(line.col, line.x0)
    indented = sum(1 for line in lines if line.x0 > edges[line.col] + 0.8 * line.size)
    hanging = indented >= max(1, len(lines) // 10)
    gaps = [a.base - b.base for a, b in zip(lines, lines[1:]) if a.col == b.col and a.base > b.base]
    step = statistics.median(gaps) if gaps else 0.0
    starts: list[bool] = []
    prev: Line | None = None
    for line in lines:
        text = line.text.strip()
        near_edge = line.x0 <= edges[line.col] + 0.6 * line.size
        if labelled:
            starts.append(bool(_LABEL.match(text)) and (near_edge or text.startswith("[")))
        elif hanging:
            starts.append(near_edge)
        else:  # no hanging indent: entries are told apart by the space between them
            starts.append(prev is None or prev.col != line.col or (step > 0 and prev.base - line.base > 1.25 * step))
        prev = line
    # where the entries' lines go on, per column (labelled or hanging lists indent them all alike)
    goes_on: dict[int, float] = {}
    if labelled or hanging:
        for col in edges:
            xs = Counter(round(line.x0) for line, first in zip(lines, starts) if not first and line.col == col)
            if xs:
                goes_on[col] = max(xs, key=lambda x: (xs[x - 1] + xs[x] + xs[x + 1], -x))
    out: list[tuple[str, list[str]]] = []
    last = -1  # the entry lines go on with
    for line, first in zip(lines, starts):
        text = line.text.strip()
        if first:
            out.append(("start", [text]))
            last = len(out) - 1
        elif _CAPTION.match(text) or (labelled and line.x0 <= edges[line.col] + 0.6 * line.size) or (
                line.col in goes_on and abs(line.x0 - goes_on[line.col]) > 0.6 * line.size
                and line.x0 > edges[line.col] + 0.6 * line.size):
            out.append(("other", [text]))  # a caption, or a line where no entry's line starts or goes on
        elif last < 0:
            out.append(("more", [text]))
            last = len(out) - 1
        else:
            out[last][1].append(text)
    return [(kind, join_lines(parts)) for kind, parts in out]


def join_lines(parts: Sequence[str]) -> str:
    """Lines of one entry as one string: whitespace normalised, a word hyphenated at a line end joined."""
    text = ""
    for part in parts:
        part = " ".join(part.split())
        if not text:
            text = part
        elif text[-1] == SOFT or (text[-1] in HYPHENS and text[-2:-1].isalpha() and part[:1].islower()):
            text = text[:-1] + part
        elif text[-1] in "-\u2013/" and (part[:1].isdigit() or text[-2:-1] == "/"):
            text += part  # "pp. 633–" "957", a URL broken after a slash
        else:
            text += " " + part
    return normalise_text(text.replace(SOFT, ""))


# --- the document -------------------------------------------------------------------------------------------------


@dataclass
class DocLayout:
    """What :func:`analyse` found: per page the lines (text not yet de-hyphenated) and layout, the reference list."""

    pages: list[list[str]]
    layouts: list[PageLayout]
    references: list[tuple[int, str]]
    first_page_words: list[Word]  # the body's (no stamp, header or footer)
    first_page_margin: str  # the first page's margin stamp, headers and footers


def analyse(pages: Sequence[tuple[list[Word], float, float]]) -> DocLayout:
    """Lines in reading order, headings and the reference list of a document, from each page's (words, width,
    height)."""
    bodies = []
    margin = ""
    for words, width, _height in pages:
        kept, stamp = split_margin(words, width)
        bodies.append(kept)
        if not margin:
            margin = " ".join(w.text for w in stamp)
    glines = [group_lines(kept) for kept in bodies]
    drops = running_lines([(lines, h) for lines, (_, _, h) in zip(glines, pages)])
    ordered: list[list[Line]] = []
    for lines, drop, (_, width, _) in zip(glines, drops, pages):
        ordered.append(order_page([line for i, line in enumerate(lines) if i not in drop], width))
    first_words = [w for i, line in enumerate(glines[0]) if i not in drops[0] for w in line.words] if glines else []
    if glines:
        margin = " ".join([margin] + [glines[0][i].text for i in sorted(drops[0])])
    body = body_size(ordered)
    title_size = max((w.size for w in first_words), default=0.0)

    # headings, and where the reference list is
    marks: list[list[str | None]] = []
    refs_at: tuple[int, int] | None = None
    for p, lines in enumerate(ordered):
        page_marks: list[str | None] = []
        for i, line in enumerate(lines):
            head = heading_text(line, body)
            if head is not None and p == 0 and line.size >= title_size - 0.5:
                head = None  # the title
            if head is None and is_references_heading(line.text) and len(line.words) <= 4:
                head = " ".join(line.text.split())
            if head is None:
                head = _run_in(line)
            page_marks.append(head)
            if head is not None and is_references_heading(head):
                refs_at = (p, i)
        marks.append(page_marks)

    out_pages: list[list[str]] = []
    layouts: list[PageLayout] = []
    references: list[tuple[int, str]] = []
    in_refs = False
    labelled = False
    if refs_at is not None:
        ref_lines = [line.text for p in range(refs_at[0], len(ordered)) for line in ordered[p]]
        labelled = sum(bool(_LABEL.match(t.strip())) for t in ref_lines) >= 0.15 * max(1, len(ref_lines))
    for p, lines in enumerate(ordered):
        layout = PageLayout()
        texts: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            head = marks[p][i]
            if refs_at is not None and (p, i) == refs_at:
                in_refs = True
                layout.refs_from = len(texts)
            elif in_refs:
                head = heading_text(line, body, in_references=True)
            if head is not None:
                layout.headings.append((len(texts), head))
                texts.append(line.text)
                i += 1
                if in_refs and (p, i - 1) != refs_at:
                    in_refs = False  # an appendix after the references
                continue
            if not in_refs:
                texts.append(line.text)
                i += 1
                continue
            j = i
            while j < len(lines) and heading_text(lines[j], body, in_references=True) is None:
                j += 1
            for kind, entry in reference_entries(lines[i:j], labelled):
                if layout.refs_from is None:
                    layout.refs_from = len(texts)
                texts.append(entry)
                if kind == "other":
                    continue
                if kind == "start" or not references:
                    references.append((p + 1, entry))
                else:
                    page, before = references[-1]
                    references[-1] = (page, join_lines([before, entry]))
            i = j
        out_pages.append(texts)
        layouts.append(layout)
    return DocLayout(out_pages, layouts, references, first_words, margin)
