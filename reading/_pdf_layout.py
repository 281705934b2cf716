"""Layout analysis of PDF pages: words with their positions and fonts in, lines in reading order out. Used by
:func:`reading._pdf.extract`; :mod:`reading._pdf_sections` finds the headings and the reference list in the lines.

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
    title and author lines (a short paper shows its title head and its authors head once each) or, at the top, it
    stands apart from the text (at the bottom that would be a footnote).
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
                    n > 1 and short and (echoes_first_page(line) or (side == 0 and apart(lines, i, side))))
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
    # the strip ends where the right column's lines start (its leftmost margin shared by several lines: a short last
    # column of hanging references leaves a wide blank strip before its text)
    firsts: Counter[int] = Counter()
    for line in lines:
        for k, w in enumerate(line.words):
            if w.x0 >= g0 and (k == 0 or line.words[k - 1].x1 <= g0 + 1):
                firsts[round(w.x0)] += 1
                break
    margins = [x for x in firsts if x <= g1 + 1 and firsts[x - 1] + firsts[x] + firsts[x + 1] >= 3]
    if margins:
        g1 = min(g1, min(margins) - 1)
    if g1 - g0 < 3:
        return None
    left = right = across = 0
    starts: Counter[int] = Counter()
    gaps: list[float] = []  # between the two sides of a line: a gutter, not a space between words
    for line in lines:
        lw, rw, cross = _sides(line.words, g0, g1)
        if cross:
            across += 1
            continue
        left += bool(lw)
        right += bool(rw)
        if rw:
            starts[round(rw[0].x0)] += 1
        if lw and rw:
            gaps.append((rw[0].x0 - lw[-1].x1) / line.size)
    if left < 3 or right < 3 or across > len(lines) * 0.6 or (gaps and statistics.median(gaps) < 0.6):
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


#: Accents TeX sets as glyphs of their own (OT1: "Gr¨unwald") and the combining marks they stand for.
_ACCENTS = {"\u00a8": "\u0308", "\u00b4": "\u0301", "`": "\u0300", "\u02c6": "\u0302", "\u02dc": "\u0303",
            "\u00b8": "\u0327", "\u02c7": "\u030c", "\u02da": "\u030a", "\u02dd": "\u030b", "\u02d8": "\u0306",
            "\u02d9": "\u0307", "\u00af": "\u0304"}
#: A grave accent is the ASCII backtick, which also opens TeX quotes (`like this'): only inside a word, on a vowel.
_ACCENT_RE = re.compile("([" + "".join(a for a in _ACCENTS if a != "`") + "])([A-Za-z\u0131])|(?<=[A-Za-z])(`)([aeiouAEIOU])")


def normalise_text(text: str) -> str:
    """Ligatures to letters, an accent set apart joined to its letter ("¨u" -> "ü"), UTF-16 surrogates read one by
    one joined (a lone one becomes U+FFFD), NULs dropped."""
    text = _LIGATURE_RE.sub(lambda m: LIGATURES[m.group()], text)
    if _SURROGATE.search(text):  # UTF-16 code units read one by one: pairs joined, lone ones (SQLite refuses) to U+FFFD
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if _ACCENT_RE.search(text):
        text = unicodedata.normalize("NFC", _ACCENT_RE.sub(
            lambda m: (m.group(2) or m.group(4)).replace("\u0131", "i") + _ACCENTS[m.group(1) or m.group(3)], text))
    return text.replace("\x00", "")
