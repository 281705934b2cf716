"""PDFs made with reportlab for the full-text tests and benches: papers laid out in one or two columns, optionally
drawn line by line across both columns (so the content stream interleaves them), encrypted, or without text.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

PAGE_W, PAGE_H = 612.0, 792.0  # US letter, points
MARGIN = 54.0
GUTTER = 24.0


def _wrap(words: list[str], width: float, font: str, size: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    cur: list[str] = []
    for word in words:
        trial = " ".join([*cur, word])
        if cur and stringWidth(trial, font, size) > width:
            lines.append(" ".join(cur))
            cur = [word]
        else:
            cur.append(word)
    if cur:
        lines.append(" ".join(cur))
    return lines


def make_paper_pdf(path: str | Path, *, title: str, authors: Sequence[str] = (), body: str | Sequence[str] = "",
                   columns: int = 1, interleave: bool = False, size: float = 10.0, meta_title: str | None = None,
                   meta_author: str | None = None, header: str | None = None, password: str | None = None,
                   text: bool = True, min_pages: int = 1, stamp: str | None = None) -> Path:
    """Write a paper: a large-font title, an author line, then ``body`` (one string per paragraph) flowed over as
    many pages as it needs (at least ``min_pages``), in ``columns`` columns.

    Args:
        interleave: with two columns, draw each pair of left/right lines one after the other (the content stream
            then alternates columns, as some producers write it; reading order must come from positions).
        header: a small line above the title (an arXiv stamp, a DOI ...).
        password: encrypt the file (RC4 128, user password).
        text: False draws grey boxes instead of words: a "scanned" PDF with no text layer.
        stamp: a line set vertically in the left margin of the first page, as arXiv stamps its id.
    """
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    path = Path(path)
    encrypt = None
    if password is not None:
        from reportlab.lib import pdfencrypt

        encrypt = pdfencrypt.StandardEncryption(password, strength=128)
    c = canvas.Canvas(str(path), pagesize=letter, encrypt=encrypt, invariant=1)
    if meta_title is not None:
        c.setTitle(meta_title)
    if meta_author is not None:
        c.setAuthor(meta_author)
    font, lead = "Times-Roman", size * 1.25
    paragraphs = [body] if isinstance(body, str) else list(body)
    col_w = (PAGE_W - 2 * MARGIN - (columns - 1) * GUTTER) / columns
    lines: list[str] = []
    for para in paragraphs:
        lines += _wrap(para.split(), col_w, font, size) + [""]

    def draw(x: float, y: float, s: str, f: str = font, fs: float = size) -> None:
        if not s:
            return
        if text:
            c.setFont(f, fs)
            c.drawString(x, y, s)
        else:
            from reportlab.pdfbase.pdfmetrics import stringWidth

            c.setFillGray(0.6)
            c.rect(x, y, stringWidth(s, f, fs), fs * 0.7, stroke=0, fill=1)
            c.setFillGray(0)

    if stamp:
        c.saveState()
        c.translate(MARGIN / 2, PAGE_H / 3)
        c.rotate(90)
        c.setFont("Times-Roman", 16)
        c.drawString(0, 0, stamp)
        c.restoreState()
    y = PAGE_H - MARGIN
    if header:
        draw(MARGIN, y, header, font, 8)
        y -= 20
    title_size = max(20.0, 1.4 * size)  # a title is set larger than the body, as papers do
    for tline in _wrap(title.split(), PAGE_W - 2 * MARGIN, "Times-Bold", title_size):
        draw(MARGIN, y - title_size, tline, "Times-Bold", title_size)
        y -= title_size * 1.3
    if authors:
        draw(MARGIN, y - 16, ", ".join(authors), font, 12)
        y -= 26
    top = y - 16
    per_col = max(1, int((top - MARGIN) // lead))
    pages = 0
    i = 0
    while i < len(lines) or pages < min_pages:
        if pages:
            c.showPage()
            top = PAGE_H - MARGIN
            per_col = int((top - MARGIN) // lead)
        cols = [lines[i + k * per_col:i + (k + 1) * per_col] for k in range(columns)]
        i += per_col * columns
        if interleave and columns > 1:
            for row in range(per_col):
                for k in range(columns):
                    if row < len(cols[k]):
                        draw(MARGIN + k * (col_w + GUTTER), top - row * lead, cols[k][row])
        else:
            for k in range(columns):
                for row, s in enumerate(cols[k]):
                    draw(MARGIN + k * (col_w + GUTTER), top - row * lead, s)
        pages += 1
    c.showPage()
    c.save()
    return path


def make_pages_pdf(path: str | Path, pages: Sequence[str], *, size: float = 10.0, **kwargs: Any) -> Path:
    """One short text per page (for page-number checks and long documents)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter, invariant=1, **kwargs)
    for body in pages:
        lines = _wrap(body.split(), PAGE_W - 2 * MARGIN, "Times-Roman", size)
        for row, s in enumerate(lines):
            c.setFont("Times-Roman", size)
            c.drawString(MARGIN, PAGE_H - MARGIN - row * size * 1.25, s)
        c.showPage()
    c.save()
    return Path(path)


def make_article_pdf(path: str | Path, *, title: str, authors: Sequence[str], sections: Sequence[tuple[str, str]],
                     references: Sequence[str] = (), header: str | None = None, page_numbers: bool = False,
                     stamp: Sequence[str] = (), stray_stamp: str | None = None, labels: bool = True,
                     size: float = 9.0) -> Path:
    """A two-column paper set as conferences set them: a bold title across the page, headings (bold, larger for a
    section than a subsection: a heading whose number has a dot, "2.1 ...", is a subsection), justified-looking
    columns, a running header from page 2 on, a page number centred in the footer (in the gutter's line), an arXiv
    stamp set vertically in the left margin of page 1 (``stamp``: its pieces, drawn one by one, as TeX sets them),
    and a reference list with hanging indents (``labels``: "[n]" labels; else author-year entries) flowing over both
    columns and pages.

    Args:
        sections: (heading as printed, its text).
        stray_stamp: a piece of the stamp drawn upright (a producer that sets its glyphs one by one: PDFium sees no
            angle for it), below the rotated pieces.
    """
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    path = Path(path)
    c = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    col_w = (PAGE_W - 2 * MARGIN - GUTTER) / 2
    lead = size * 1.2
    page = [1]
    state = {"col": 0, "y": 0.0, "top": 0.0}

    def furniture() -> None:
        if header and page[0] > 1:
            c.setFont("Times-Italic", 8)
            c.drawCentredString(PAGE_W / 2, PAGE_H - 36, header)
        if page_numbers:
            c.setFont("Times-Roman", 9)
            c.drawCentredString(PAGE_W / 2, 30, str(page[0]))

    def new_page() -> None:
        c.showPage()
        page[0] += 1
        furniture()
        state.update(col=0, y=PAGE_H - MARGIN - 10, top=PAGE_H - MARGIN - 10)

    def advance(step: float) -> None:
        if state["y"] - step < MARGIN:
            if state["col"] == 0:
                state.update(col=1, y=state["top"])
            else:
                new_page()
        state["y"] -= step

    def put(text: str, font: str, fs: float, indent: float = 0.0) -> None:
        advance(fs * 1.2)
        c.setFont(font, fs)
        c.drawString(MARGIN + state["col"] * (col_w + GUTTER) + indent, state["y"], text)

    furniture()
    for i, piece in enumerate(stamp):
        c.saveState()
        c.translate(30, 250 + 110 * i)
        c.rotate(90)
        c.setFont("Times-Roman", 20)
        c.drawString(0, 0, piece)
        c.restoreState()
    if stray_stamp:
        c.setFont("Times-Roman", 20)
        c.drawString(24, 200, stray_stamp)
    y = PAGE_H - MARGIN - 20
    for tline in _wrap(title.split(), PAGE_W - 2 * MARGIN, "Times-Bold", 18):
        c.setFont("Times-Bold", 18)
        c.drawCentredString(PAGE_W / 2, y, tline)
        y -= 22
    c.setFont("Times-Roman", 11)
    c.drawCentredString(PAGE_W / 2, y - 4, ", ".join(authors))
    state.update(y=y - 30, top=y - 30)
    for heading, text in sections:
        sub = "." in heading.split()[0].rstrip(".")
        advance(4)
        put(heading, "Times-Bold", size + (0 if sub else 2))
        for line in _wrap(text.split(), col_w, "Times-Roman", size):
            put(line, "Times-Roman", size)
    if references:
        advance(4)
        put("References", "Times-Bold", size + 2)
        hang = stringWidth("[99] ", "Times-Roman", size - 1) if labels else 10.0
        for n, entry in enumerate(references, start=1):
            label = f"[{n}] " if labels else ""
            lines = _wrap((label + entry).split(), col_w - hang, "Times-Roman", size - 1)
            for k, line in enumerate(lines):
                put(line, "Times-Roman", size - 1, 0.0 if k == 0 else hang)
            advance(2)
    c.showPage()
    c.save()
    return path
