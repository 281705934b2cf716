"""Layout analysis of PDF pages: words with their positions and fonts in, lines in reading order and the document's
structure (section headings, the reference list) out. Used by :func:`reading._pdf.extract`.

The steps, each a function below:

1. **Words** (:func:`page_words`): PDFium's characters grouped into words, each with its box, baseline, font size,
   weight and angle.
2. **Margin stamps** (:func:`split_margin`): text set vertically in the margin (arXiv's id stamp) is put aside.
   A word counts as vertical by its angle, and a word PDFium cannot tell the angle of (a one-character piece of the
   stamp) by lying in the stamp's strip of the margin, left or right of the body text.
3. **Running headers and footers** (:func:`running_lines`): the top and bottom lines of each page that repeat
   across pages (digits ignored: "Page 3" and "Page 4" repeat) or look like page numbers ("3", "- 3 -", "Page 3 of
   9", "iv") are dropped.
4. **Columns** (:func:`order_page`): a vertical strip near the middle that (almost) no word covers is a gutter; words
   left and right of it are read as two columns, and a line across the gutter (a title, a figure set across the
   page) cuts the page into bands read one after the other.
5. **Headings** (:func:`find_headings`): short lines set larger, bold, in capitals or italic and numbered
   ("4.2 Ablation", "IV. EXPERIMENTS", "A. Speed"), or the names papers give their sections ("Abstract",
   "References"); kept as printed.
6. **References** (:func:`reference_entries`): from the "References"/"Bibliography" heading to the end (or an
   appendix heading), lines are grouped into entries: a new entry starts with a label ("[12]", "12.") or, in a list
   without labels, at the column's left edge (continuation lines are indented) or after a wider vertical gap.
"""
from __future__ import annotations

import ctypes
import json
import math
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Ligature code points and their letters (PDFium already splits most ligature glyphs; other producers do not).
LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
             "\ufb06": "st", "\u0132": "IJ", "\u0133": "ij", "\u0152": "OE", "\u0153": "oe"}
_LIGATURE_RE = re.compile("[" + "".join(LIGATURES) + "]")
#: PDFium marks a hyphen it found at a line end with U+0002 (U+FFFE in extracted text).
SOFT = "\ufffe"
HYPHENS = "-\u00ad\u2010\u2011" + SOFT
_WORD_SPAN = re.compile(r"[^\s\ufffe]+\ufffe?|\ufffe")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Share of the page height at its top and at its bottom where running headers, footers and page numbers are looked
#: for.
EDGE_ZONE = 0.2
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|medi|-b$|-sb$|cmbx|cmb\d|bx\d|tb$|\.b$", re.IGNORECASE)
_ITALIC_NAME = re.compile(r"ital|oblique|-it$|-i$|cmti|cmmi|cmsl|ti\d|\.i$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(
    r"^[\W_]*(?:page|p\.|seite)?\s*(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:of|/|von)\s*\d{1,4})?[\W_]*$", re.IGNORECASE)
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
#: A reference entry's label: "[12]", "[Smi19]", "12." or "(12)".
_LABEL = re.compile(r"^(?:\[[^\]\s]{1,12}\]|\(\d{1,3}\)|\d{1,3}\.)(?=\s|$)")


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    base: float  # baseline y (PDF space: up is bigger)
    size: float  # font size in points
    rotated: bool = False
    bold: bool = False
    italic: bool = False


@dataclass
class Line:
    """A line of one column (or across the page), in reading order."""

    words: list[Word]
    col: int = 0  # 0: the page's only column or across the page, 1: left column, 2: right column
    edge: float = 0.0  # where lines of this column start (its left margin)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def base(self) -> float:
        return statistics.median(w.base for w in self.words)

    @property
    def size(self) -> float:
        return max(w.size for w in self.words)


@dataclass
class PageLayout:
    """The structure of one page's text (its lines are the page text's lines, from 0).

    Attributes:
        headings: (line index, the heading as printed, e.g. "4.2 Ablation"), top to bottom.
        refs_from: the line where the reference list starts on this page (0 when it goes on from the page before),
            None when the page holds none. The list runs to the page's end, or to a later heading (an appendix).
    """

    headings: list[tuple[int, str]] = field(default_factory=list)
    refs_from: int | None = None

    def to_json(self) -> str:
        return json.dumps({"headings": [[i, h] for i, h in self.headings], "refs_from": self.refs_from},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> PageLayout | None:
        """The layout stored as JSON; None for a page stored before layouts were (or unreadable JSON)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls([(int(i), str(h)) for i, h in data.get("headings", [])], data.get("refs_from"))
        except (ValueError, TypeError, AttributeError):
            return None

    def reference_lines(self, n_lines: int) -> range:
        """The indices of this page's lines that belong to the reference list."""
        if self.refs_from is None:
            return range(0)
        end = next((i for i, _ in self.headings if i > self.refs_from), n_lines)
        return range(self.refs_from, end)


# --- words --------------------------------------------------------------------------------------------------------


def page_words(textpage: Any) -> list[Word]:
    """The page's words with their positions and fonts (PDFium numbers one character per index)."""
    import pypdfium2.raw as raw

    n = textpage.count_chars()
    if n <= 0:
        return []
    text = textpage.get_text_range(0, n)
    if len(text) != n:  # characters outside the BMP: fall back to one call per character
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, i) or 32) for i in range(n)).replace("\x02", SOFT)
    tp = textpage.raw
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    fonts: dict[tuple[bytes, int], tuple[bool, bool]] = {}  # a font's weight and slant, by its name and flags
    words = []
    for m in _WORD_SPAN.finditer(text):
        first, last = m.start(), m.end() - 1
        if not raw.FPDFText_GetCharBox(tp, first, left, right, bottom, top):
            continue
        x0, y0, y1 = left.value, bottom.value, top.value
        end = last - 1 if text[last] == SOFT and last > first else last
        if end > first:
            raw.FPDFText_GetCharBox(tp, end, left, right, bottom, top)
            # a word set vertically advances in y, not in x
            rotated = abs((bottom.value + top.value) - (y0 + y1)) / 2 > abs(right.value - x0)
        else:  # one character: only its angle tells
            angle = raw.FPDFText_GetCharAngle(tp, first)
            rotated = angle >= 0 and abs(math.sin(angle)) > 0.3
        x1 = right.value
        base = oy.value if raw.FPDFText_GetCharOrigin(tp, first, ox, oy) else y0
        size = raw.FPDFText_GetFontSize(tp, first) or (y1 - y0) or 10.0
        raw.FPDFText_GetFontInfo(tp, first, name, 128, flags)
        key = (name.value, flags.value)
        style = fonts.get(key)
        if style is None:
            font = key[0].decode("latin-1").split("+")[-1]
            weight = raw.FPDFText_GetFontWeight(tp, first)
            style = fonts[key] = (weight >= 600 or bool(flags.value & (1 << 18)) or bool(_BOLD_NAME.search(font)),
                                  bool(flags.value & (1 << 6)) or bool(_ITALIC_NAME.search(font)))
        if x1 < x0:  # right-to-left runs or odd boxes
            x0, x1 = x1, x0
        words.append(Word(m.group(), x0, x1, base, float(size), rotated, *style))
    return words


def split_margin(words: list[Word], width: float) -> tuple[list[Word], list[Word]]:
    """(the body's words, the words of a stamp set vertically in the margin)."""
    stamp = [w for w in words if w.rotated]
    if not stamp:
        return words, []
    body = [w for w in words if not w.rotated]
    # PDFium gives no angle for some one-character pieces of a rotated stamp: a word in the stamp's strip of the
    # margin (outside the body text's left and right edges) belongs to the stamp too
    sx0 = min(w.x0 for w in stamp) - 2.0
    sx1 = max(w.x1 for w in stamp) + 2.0
    if not body:
        return [], stamp
    starts = sorted(w.x0 for w in body)
    ends = sorted(w.x1 for w in body)
    lo = starts[len(starts) // 20]
    hi = ends[-1 - len(ends) // 20]
    strays = [w for w in body if w.x0 >= sx0 and w.x1 <= sx1 and (w.x1 < lo - 1.0 or w.x0 > hi + 1.0)]
    if strays:
        ids = {id(w) for w in strays}
        body = [w for w in body if id(w) not in ids]
        stamp += strays
    return body, stamp


def group_lines(words: list[Word]) -> list[Line]:
    """Words grouped by baseline (top of the page first), each line sorted left to right."""
    lines: list[list[Word]] = []
    bases: list[float] = []
    sizes: list[float] = []
    for w in sorted(words, key=lambda w: (-w.base, w.x0)):
        # the larger font sets the tolerance: a raised footnote mark may come first and is small
        tol = max(1.5, 0.45 * max(w.size, sizes[-1] if sizes else 0.0))
        if lines and abs(bases[-1] - w.base) <= tol:
            lines[-1].append(w)
            sizes[-1] = max(sizes[-1], w.size)
            continue
        lines.append([w])
        bases.append(w.base)
        sizes.append(w.size)
    return [Line(sorted(line, key=lambda w: w.x0)) for line in lines]


# --- running headers and footers ----------------------------------------------------------------------------------


def _signature(line: Line) -> str:
    return re.sub(r"\d+", "#", "".join(line.text.lower().split()))


def _head_words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]{2,}", text.lower()))


def _numbers(line: Line) -> set[int]:
    """Numbers a line starts or ends with ("Title 3", "4 F. Author")."""
    ends = {line.words[0].text, line.words[-1].text}
    return {int(t) for t in ends if t.isdigit() and len(t) <= 4}


def running_lines(pages: Sequence[tuple[list[Line], float]]) -> list[set[int]]:
    """For each page (its lines top to bottom, its height): the indices of its running header, footer and
    page-number lines.

    Looked for among the outermost lines of the top and bottom fifths of each page, outside in: a line is running
    when its text (digits aside) recurs at the same edge of another page, when it is a page number, when it is
    short and holds the page's number (odd and even pages often carry different headers: "Title 3", "4 Author"),
    or, from page 2 on, when it is set smaller than the text and either its words are those of the first page's
    title and author lines (a short paper shows its title head and its authors head once each) or it stands apart
    from the text.
    """
    sizes: Counter[float] = Counter()
    for lines, _ in pages:
        for line in lines:
            for w in line.words:
                sizes[round(w.size * 2) / 2] += len(w.text)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    head = {t for line in pages[0][0][:8] for t in _head_words(line.text)} if pages else set()

    def echoes_first_page(line: Line) -> bool:
        """Set smaller than the text, in words of the first page's title and author lines."""
        words = _head_words(line.text) - {"et", "al"}
        return len(words) >= 2 and len(words & head) >= 0.9 * len(words) and line.size < 0.95 * body

    def apart(lines: list[Line], i: int, side: int) -> bool:
        """Set smaller than the text and further from the next line in than two lines of text."""
        j = i + 1 if side == 0 else i - 1
        if not 0 <= j < len(lines) or lines[i].size > 0.9 * body:
            return False
        return abs(lines[i].base - lines[j].base) > 2.2 * body and len(lines[i].words) <= 14

    def edge_lines(lines: list[Line], height: float) -> tuple[list[int], list[int]]:
        top = [i for i in range(min(3, len(lines))) if lines[i].base >= height * (1 - EDGE_ZONE)]
        bottom = [i for i in range(len(lines) - 1, max(-1, len(lines) - 4), -1) if lines[i].base <= height * EDGE_ZONE]
        return top, bottom

    edges = [edge_lines(lines, h) for lines, h in pages]
    seen: list[Counter[str]] = [Counter(), Counter()]
    for (lines, _), pair in zip(pages, edges):
        for side in (0, 1):
            for sig in {_signature(lines[i]) for i in pair[side]}:
                seen[side][sig] += 1
    # what page numbers printed on the pages are, relative to their position in the file (offsets recur)
    offsets: Counter[int] = Counter()
    for n, ((lines, _), pair) in enumerate(zip(pages, edges), start=1):
        for i in pair[0] + pair[1]:
            for k in _numbers(lines[i]):
                offsets[k - n] += 1
    offset = {o for o, c in offsets.items() if c >= 2}
    out: list[set[int]] = []
    for n, ((lines, _), pair) in enumerate(zip(pages, edges), start=1):
        drop: set[int] = set()
        for side in (0, 1):
            for i in pair[side]:
                line = lines[i]
                text = line.text.strip()
                short = len(line.words) <= 14
                plain = line.size <= body * 1.05 and not all(w.bold for w in line.words)  # not a heading
                running = (short and seen[side][_signature(line)] >= 2) or bool(_PAGE_NUMBER.match(text)) or (
                    short and plain and any(k - n in offset for k in _numbers(line)) and len(line.words) <= 10) or (
                    n > 1 and short and (echoes_first_page(line) or apart(lines, i, side)))
                if not running:
                    break
                drop.add(i)
        out.append(drop)
    return out


# --- columns and reading order ------------------------------------------------------------------------------------


def _gutter(lines: list[Line], width: float) -> tuple[float, float] | None:
    """The column gutter near the middle of the page, as (left x, right x), or None for a one-column page.

    A gutter is a vertical strip (at least 3 points wide, between 30% and 70% of the width) that few words
    cover (lines set across the page may, and a word of a line set too long may poke into it), with lines on both
    sides, and whose right side shows a column margin: several lines start at the same x there. The widest such
    strip wins: the strip between a reference list's labels and its text is narrower.
    """
    if width <= 0 or len(lines) < 6:
        return None
    lo, hi = int(width * 0.3), int(width * 0.7)
    cover = [0] * (hi - lo + 2)
    for line in lines:
        for w in line.words:
            a, b = max(lo, int(w.x0)), min(hi, int(math.ceil(w.x1)))
            if a <= b:
                cover[a - lo] += 1
                cover[b - lo + 1] -= 1
    run = 0
    for i in range(len(cover)):
        run += cover[i]
        cover[i] = run
    cover = cover[:hi - lo + 1]
    least = min(cover)
    if least > max(1, len(lines) // 2):
        return None
    limit = least + max(1, len(lines) // 20)
    best: tuple[int, int] | None = None
    start = None
    for i, c in enumerate(cover + [limit + 1]):
        if c <= limit and start is None:
            start = i
        elif c > limit and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    if best is None or best[1] - best[0] < 3:
        return None
    g0, g1 = lo + best[0], lo + best[1] - 1
    left = right = across = 0
    starts: Counter[int] = Counter()
    for line in lines:
        lw, rw, cross = _sides(line.words, g0, g1)
        if cross:
            across += 1
            continue
        left += bool(lw)
        right += bool(rw)
        if rw:
            starts[round(rw[0].x0)] += 1
    if left < 3 or right < 3 or across > len(lines) * 0.6:
        return None
    aligned = max((starts[x - 1] + starts[x] + starts[x + 1] for x in starts), default=0)
    return (g0, g1) if aligned >= 3 else None


def _sides(words: list[Word], g0: float, g1: float) -> tuple[list[Word], list[Word], list[Word]]:
    """A line's words left of the gutter, right of it, and across it (covering it all)."""
    mid = (g0 + g1) / 2
    lw: list[Word] = []
    rw: list[Word] = []
    cross: list[Word] = []
    for w in words:
        if w.x0 < g0 + 1 and w.x1 > g1 - 1:
            cross.append(w)
        elif (w.x0 + w.x1) / 2 < mid:
            lw.append(w)
        else:
            rw.append(w)
    return lw, rw, cross


def _edge(xs: list[float]) -> float:
    """A column's left margin: the low end of where its lines start (a tenth in, so that strays do not count)."""
    xs = sorted(xs)
    return xs[len(xs) // 10] if xs else 0.0


def order_page(lines: list[Line], width: float) -> list[Line]:
    """The page's lines in reading order: one column top to bottom, or two columns (left, then right) band by band,
    a line across the gutter ending the band above it."""
    gutter = _gutter(lines, width)
    if gutter is None:
        edge = _edge([line.x0 for line in lines])
        for line in lines:
            line.edge = edge
        return lines
    g0, g1 = gutter
    split = [_sides(line.words, g0, g1) for line in lines]
    lx0 = _edge([lw[0].x0 for lw, _, cross in split if lw and not cross])
    rx0 = _edge([rw[0].x0 for _, rw, cross in split if rw and not cross])
    out: list[Line] = []
    left: list[Word] = []
    right: list[Word] = []
    columned = True  # whether the line before with words on both sides was read as two columns
    in_columns = False  # whether a line of column text came since the last line across the page
    for line, (lw, rw, cross) in zip(lines, split):
        if len(cross) == 1 and rw and abs(rw[0].x0 - rx0) <= 1.5 and cross[0].x1 < rw[0].x1 and lw \
                and abs(lw[0].x0 - lx0) <= 1.5:
            lw, cross = lw + cross, []  # a line of the left column set too long: its last word pokes into the gutter
        across = bool(cross)
        size = line.size
        if lw and rw and not across:
            at_edges = abs(lw[0].x0 - lx0) <= 1.5 and abs(rw[0].x0 - rx0) <= 1.5
            # pieces on both sides centred in their halves before the columns start (author blocks side by side;
            # later, two headings that happen to share a baseline), or a gap between them no wider than a space
            # (a line set across the page that has a space in the gutter): one line
            half = g0 - lx0
            centred = not in_columns and abs((lw[0].x0 + lw[-1].x1) / 2 - (lx0 + g0) / 2) < 0.1 * half \
                and abs((rw[0].x0 + rw[-1].x1) / 2 - (rx0 + rx0 + half) / 2) < 0.1 * half \
                and lw[0].x0 > lx0 + 2 * size and rw[0].x0 > rx0 + 2 * size \
                and lw[-1].x1 - lw[0].x0 < 0.7 * half and rw[-1].x1 - rw[0].x0 < 0.7 * half
            across = centred or (rw[0].x0 - lw[-1].x1 < 0.6 * size and not (at_edges and columned))
            columned = not across
        if not across and any(piece and abs(piece[0].x0 - edge) <= 1.5 for piece, edge in ((lw, lx0), (rw, rx0))):
            in_columns = True
        elif across:
            in_columns = False
        if across:
            line.edge = min(lx0, line.x0)
            out += column(left, 1, lx0) + column(right, 2, rx0) + [line]  # a line across the page ends the band
            left, right = [], []
            continue
        left += lw
        right += rw
    return out + column(left, 1, lx0) + column(right, 2, rx0)


def column(words: list[Word], col: int, edge: float) -> list[Line]:
    """A column's words as its lines (grouped again by baseline within the column: a footnote mark raised between
    two lines of one column may have been grouped with a line of the other)."""
    lines = group_lines(words)
    for line in lines:
        line.col, line.edge = col, edge
    return lines


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


def reference_entries(lines: Sequence[Line], labelled: bool) -> list[tuple[bool, str]]:
    """Reference lines (in reading order) grouped into entries: (whether it starts an entry here, its text).

    The first item does not start an entry when the page (or column) begins with the end of the entry before.
    """
    if not lines:
        return []
    edges: dict[int, float] = {}
    for line in lines:
        edges[line.col] = min(edges.get(line.col, line.x0), line.x0)
    indented = sum(1 for line in lines if line.x0 > edges[line.col] + 0.8 * line.size)
    gaps = [a.base - b.base for a, b in zip(lines, lines[1:]) if a.col == b.col and a.base > b.base]
    step = statistics.median(gaps) if gaps else 0.0
    out: list[tuple[bool, list[str]]] = []
    prev: Line | None = None
    for line in lines:
        text = line.text.strip()
        near_edge = line.x0 <= edges[line.col] + 0.6 * line.size
        if labelled:
            starts = bool(_LABEL.match(text)) and (near_edge or text.startswith("["))
        elif indented >= max(1, len(lines) // 10):
            starts = near_edge
        else:  # no hanging indent: entries are told apart by the space between them
            starts = prev is None or prev.col != line.col or (step > 0 and prev.base - line.base > 1.25 * step)
        if starts or not out:
            out.append((starts, [text]))
        else:
            out[-1][1].append(text)
        prev = line
    return [(starts, join_lines(parts)) for starts, parts in out]


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


#: Accents TeX sets as glyphs of their own (OT1: "Gr¨unwald") and the combining marks they stand for.
_ACCENTS = {"\u00a8": "\u0308", "\u00b4": "\u0301", "`": "\u0300", "\u02c6": "\u0302", "\u02dc": "\u0303",
            "\u00b8": "\u0327", "\u02c7": "\u030c", "\u02da": "\u030a", "\u02dd": "\u030b", "\u02d8": "\u0306",
            "\u02d9": "\u0307", "\u00af": "\u0304"}
_ACCENT_RE = re.compile("([" + "".join(_ACCENTS) + "])([A-Za-z\u0131])")


def normalise_text(text: str) -> str:
    """Ligatures to letters, an accent set apart joined to its letter ("¨u" -> "ü"), UTF-16 surrogates read one by
    one joined (a lone one becomes U+FFFD), NULs dropped."""
    text = _LIGATURE_RE.sub(lambda m: LIGATURES[m.group()], text)
    if _SURROGATE.search(text):  # UTF-16 code units read one by one: pairs joined, lone ones (SQLite refuses) to U+FFFD
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if _ACCENT_RE.search(text):
        text = unicodedata.normalize("NFC", _ACCENT_RE.sub(
            lambda m: m.group(2).replace("\u0131", "i") + _ACCENTS[m.group(1)], text))
    return text.replace("\x00", "")


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
            for starts, entry in reference_entries(lines[i:j], labelled):
                if layout.refs_from is None:
                    layout.refs_from = len(texts)
                texts.append(entry)
                if starts or not references:
                    references.append((p + 1, entry))
                else:
                    page, before = references[-1]
                    references[-1] = (page, join_lines([before, entry]))
            i = j
        out_pages.append(texts)
        layouts.append(layout)
    return DocLayout(out_pages, layouts, references, first_words, margin)
