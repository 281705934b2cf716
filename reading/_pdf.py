"""Text out of PDFs (pypdfium2: PDFium's bindings, BSD-3/Apache-2.0): per-page text in reading order, the
structure of the document (section headings, the reference list), and what a PDF says about itself (title, authors,
arXiv id, DOI).

Reading order is rebuilt from word positions rather than taken from the content stream (:mod:`reading._pdf_layout`):
words are grouped into lines by baseline, running headers, footers, page numbers and margin stamps are left out,
a page with a vertical gutter near the middle is read as two columns (left, then right), and lines that cross the
gutter (a title, an abstract set across the page) cut the page into bands read one after the other. Ligature glyphs
become their letters (ﬁ -> fi), and a word hyphenated at a line end is joined (unless the document also spells it
with the hyphen elsewhere: "two-column" stays). Reference entries are one line each.

Not handled (see the README's "Full text" section): three or more columns, text in figures (images), formulas
beyond their characters, tables (read row by row), scanned pages (no text layer: OCR is out of scope).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ReadingError
from ._ids import ARXIV_ID_IN_TEXT, is_arxiv_id, parse_arxiv_id, parse_doi, trim_doi

if TYPE_CHECKING:
    from ._pdf_layout import PageLayout, Word

# the layout analysis (reading._pdf_layout, reading._pdf_sections) is imported where a PDF is read: `import reading`
# (every command) only needs the errors
#: PDFium marks a hyphen it found at a line end with U+0002 (U+FFFE in extracted text); _pdf_layout.SOFT too.
_SOFT = "\ufffe"
_HYPHENS = "-\u00ad\u2010\u2011" + _SOFT
#: A page with fewer characters than this (after whitespace is dropped) counts as having no text layer.
MIN_TEXT_CHARS = 20
#: Bounds on what a file may claim (memory follows them, not the file's size): the inflated size of one stream, the
#: bytes of strings in one content stream, the characters of one page's text, the pixels of one rendered page.
MAX_STREAM_BYTES = 256 << 20
#: ... and for streams that may hold page content (not images or fonts): one stream, and all of them in the file.
MAX_CONTENT_STREAM_BYTES = 64 << 20
MAX_CONTENT_BYTES = 256 << 20
MAX_STREAM_TEXT = 1_000_000
MAX_PAGE_CHARS = 400_000
MAX_RENDER_PIXELS = 16_000_000
#: A metadata value (title, authors ...) is cut to this many characters.
MAX_META_CHARS = 2_000
#: How much of the first page's text, at its start and at its end, may name the paper's own arXiv id.
HEADER_CHARS = 400

_ARXIV_IN_TEXT = re.compile(r"arXiv:\s*" + ARXIV_ID_IN_TEXT, re.IGNORECASE | re.ASCII)
_ARXIV_FILE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?_\d{7})(v\d+)?$", re.IGNORECASE)
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_BAD_META_TITLE = re.compile(r"(^untitled|^anonymous|^unknown|^microsoft word|\.(pdf|docx?|tex|dvi|ps)$|^slide|^\s*$)", re.IGNORECASE)


class PdfError(ReadingError):
    """A file that cannot be read as a PDF (not a PDF, truncated, corrupt, encrypted); the message is one line."""


class EncryptedPdf(PdfError):
    """A password-protected PDF opened without (or with a wrong) password."""


@dataclass
class PdfText:
    """What was read from a PDF.

    Attributes:
        pages: the text of each page (1-based page N is ``pages[N - 1]``), lines joined by newlines.
        title, authors: from the document's metadata when plausible, else the first page's largest-font lines.
        arxiv_id: version-free, from the first page (arXiv's margin stamp or an ``arXiv:`` mention), the file name
            or the metadata; None if none.
        doi: a DOI printed on the first page or in the metadata; None if none.
        layout: per page, its section headings (line index, heading as printed) and where its reference list
            starts (see :class:`reading._pdf_layout.PageLayout`).
        references: (page number, one reference entry as one string), in list order; an entry going on over a
            page break is one entry, on the page where it starts.
    """

    pages: list[str]
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    doi: str | None = None
    layout: list[PageLayout] = field(default_factory=list)
    references: list[tuple[int, str]] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def has_text(self) -> bool:
        """Whether any page has a text layer (a scanned PDF has none)."""
        return any(len("".join(p.split())) >= MIN_TEXT_CHARS for p in self.pages)


# --- opening ------------------------------------------------------------------------------------------------------


def check_pdf_bytes(head: bytes, tail: bytes, name: str) -> None:
    """Raise PdfError unless the first and last bytes of a file look like a whole PDF."""
    if b"%PDF-" not in head[:1024]:
        raise PdfError(f"{name} is not a PDF (no %PDF header)")
    if b"%%EOF" not in tail[-2048:]:
        raise PdfError(f"{name} is truncated (it ends before the PDF end marker); download it again")


_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_NO_TEXT_STREAM = re.compile(rb"/Image\b|/Length[123]\b|/FontFile|/Type1C\b|/CIDFontType0C\b|/OpenType\b|"
                             rb"/EmbeddedFile\b|/Metadata\b|/XRef\b|/Predictor\b|/N\s+\d")
_OBJ = re.compile(rb"(\d+)\s+\d+\s+obj\b")
_CONTENTS = re.compile(rb"/Contents\s*(\[[^\]]*\]|\d+\s+\d+\s+R)")
_REF = re.compile(rb"(\d+)\s+\d+\s+R")
_STRING = re.compile(rb"\([^()]*\)|<[0-9A-Fa-f\s]{2,}>")
_CHECKED: dict[tuple[str, int, int, int], None] = {}


def check_streams(path: Path, name: str | None = None) -> None:
    """Refuse a PDF whose Flate streams claim more than the file is worth, before PDFium inflates them.

    PDFium inflates a whole stream into memory, and reads every string of a page into its text page (~300 bytes
    of memory per character): a 1 MB file may hold a 1 GiB stream of zeros, or a page of millions of words.
    Each Flate stream is inflated here in 1 MiB pieces and thrown away, counting its bytes (at most
    ``MAX_STREAM_BYTES``; for streams that may be page content ``MAX_CONTENT_STREAM_BYTES`` each and
    ``MAX_CONTENT_BYTES`` in all) and, for page content, the bytes of its strings (at most ``MAX_STREAM_TEXT``);
    memory stays at a few MiB. A file is checked once per process (by path, size, mtime and inode).

    Raises:
        PdfError: in one line, naming the bound.
    """
    import mmap
    import zlib

    name = name or path.name
    try:
        st = path.stat()
    except OSError as err:
        raise PdfError(f"cannot read {name}: {err.strerror or err}") from None
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _CHECKED or st.st_size == 0:
        return
    try:
        all_content = 0
        texts: dict[int, int] = {}  # object number -> bytes of strings, for streams that may be page content
        pages: list[bytes] = []  # every /Contents reference (a page's streams), in the file and in object streams
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            pages += [c.group(1) for c in _CONTENTS.finditer(data)]
            encrypted = data.find(b"/Encrypt") >= 0  # streams are ciphertext: nothing in them can be read here
            for m in _STREAM_START.finditer(data):
                if m.end() + 2 > len(data):
                    break
                before = bytes(data[max(0, m.start() - 1024):m.start()])
                objs = list(_OBJ.finditer(before))
                head = before[objs[-1].end():] if objs else before
                number = int(objs[-1].group(1)) if objs else -1
                # strings are counted unless the dictionary says the stream holds no page text (an image, a font)
                content = not _NO_TEXT_STREAM.search(head)
                cmf, flg = data[m.end()], data[m.end() + 1]
                if cmf & 0x0F != 8 or (cmf * 256 + flg) % 31:  # not zlib (whatever the dictionary says: it can lie)
                    if content and not encrypted and b"/Filter" not in head:  # uncompressed: its strings count too
                        stop = data.find(b"endstream", m.end())
                        stop = len(data) if stop < 0 else stop
                        text = sum(sum(len(x) for x in _STRING.findall(data[i:min(stop, i + (1 << 20))]))
                                   for i in range(m.end(), stop, 1 << 20))
                        texts[number] = texts.get(number, 0) + text
                        if text > MAX_STREAM_TEXT:
                            raise PdfError(f"{name} holds a page of more than {MAX_STREAM_TEXT:,} bytes of text "
                                           f"(at byte {m.start():,}): not read")
                    continue
                limit = MAX_CONTENT_STREAM_BYTES if content else MAX_STREAM_BYTES
                inflate = zlib.decompressobj()
                total = text = 0
                pos = m.end()
                pending = b""
                while not inflate.eof:
                    if not pending:
                        if pos >= len(data):
                            break
                        pending = data[pos:pos + (1 << 16)]
                        pos += len(pending)
                    try:
                        out = inflate.decompress(pending, 1 << 20)
                    except zlib.error:
                        break  # damaged or not Flate after all: PDFium decides
                    pending = inflate.unconsumed_tail
                    total += len(out)
                    if content and (b"(" in out or b"<" in out):
                        text += sum(len(x) for x in _STRING.findall(out))
                    if content and b"/Contents" in out:  # page dictionaries inside an object stream
                        pages += [c.group(1) for c in _CONTENTS.finditer(out)]
                    if total > limit:
                        raise PdfError(f"{name} holds a compressed stream of more than {limit >> 20} MiB "
                                       f"(at byte {m.start():,}): not read (a decompression bomb?)")
                    if content and all_content + total > MAX_CONTENT_BYTES:
                        raise PdfError(f"{name} holds more than {MAX_CONTENT_BYTES >> 20} MiB of page content in all: "
                                       "not read (a decompression bomb?)")
                    if text > MAX_STREAM_TEXT:
                        raise PdfError(f"{name} holds a page of more than {MAX_STREAM_TEXT:,} bytes of text "
                                       f"(at byte {m.start():,}): not read")
                if content:
                    all_content += total
                    texts[number] = texts.get(number, 0) + text
        for ref in pages:  # a page whose text is split over many streams, each under the bound
            if sum(texts.get(int(n), 0) for n in _REF.findall(ref)) > MAX_STREAM_TEXT:
                raise PdfError(f"{name} holds a page of more than {MAX_STREAM_TEXT:,} bytes of text: not read")
    except (OSError, ValueError) as err:
        raise PdfError(f"cannot read {name}: {getattr(err, 'strerror', None) or err}") from None
    _CHECKED[key] = None


@contextlib.contextmanager
def open_pdf(path: str | os.PathLike[str], *, password: str | None = None) -> Iterator[Any]:
    """Open a PDF with PDFium after checking its header and end marker; closes it on exit.

    Raises:
        PdfError: not a PDF, truncated or corrupt. EncryptedPdf: a password is needed (or the one given is wrong).
    """
    import pypdfium2 as pdfium

    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(1024)
            fh.seek(max(0, size - 2048))
            tail = fh.read()
    except OSError as err:
        raise PdfError(f"cannot read {name}: {err.strerror or err}") from None
    check_pdf_bytes(head, tail, name)
    check_streams(path, name)
    try:
        pdf = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as err:
        if getattr(err, "err_code", None) == 4:  # FPDF_ERR_PASSWORD
            what = "the password is wrong" if password else "give its password (--password)"
            raise EncryptedPdf(f"{name} is encrypted: {what}") from None
        raise PdfError(f"{name} is corrupt: PDFium cannot open it ({str(err).splitlines()[0]})") from None
    try:
        yield pdf
    finally:
        pdf.close()


def metadata(pdf: Any) -> dict[str, str]:
    """The document's Title, Author, Subject and Keywords (non-empty ones), each at most ``MAX_META_CHARS``.

    Read through PDFium's raw call: pypdfium2's own reader raises UnicodeDecodeError on a value that is not valid
    UTF-16 (a lone surrogate), which once stopped a folder import at that file on every run. Such code units
    become U+FFFD here.
    """
    import pypdfium2.raw as raw

    out = {}
    for key in ("Title", "Author", "Subject", "Keywords"):
        tag = key.encode() + b"\x00"
        n = raw.FPDF_GetMetaText(pdf.raw, tag, None, 0)
        if n <= 2:
            continue
        buf = ctypes.create_string_buffer(n)
        raw.FPDF_GetMetaText(pdf.raw, tag, buf, n)
        value = buf.raw[:n - 2].decode("utf-16-le", errors="replace").replace("\x00", "")
        if value.strip():
            out[key] = value[:MAX_META_CHARS]
    return out


# --- page text ----------------------------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """Ligatures to letters, an accent set apart joined to its letter, NULs dropped (:func:`reading._pdf_layout.
    normalise_text`)."""
    from ._pdf_layout import normalise_text as normalise

    return normalise(text)


_LINE_END_HYPHEN = re.compile(r"(\w+)[" + _HYPHENS + r"]\n([^\W\d_]\w*)(?: |(?=\n)|$)")
_PDFIUM_HYPHEN = re.compile(r"(\w+)" + _SOFT + r"\s*([^\W\d_]\w*)")
_HYPHENATED = re.compile(r"\b\w+-\w+\b")


def _join_hyphenated(a: str, b: str, keep: set[str] | frozenset[str]) -> str:
    """``a`` hyphenated at a line end and ``b`` after it as one word (hyphen kept for a compound the document
    spells with it, or when ``b`` is not lower case: "Fig-" "Ure" is no split word)."""
    if f"{a}-{b}".lower() in keep or not b[:1].islower():
        return f"{a}-{b}"
    return a + b


def dehyphenate(text: str, keep: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    """Join words split at line ends ("repre-\\nsentation" -> "representation"); a pair the document also writes
    with a hyphen mid-line (in ``keep``, lower-cased "two-column") keeps its hyphen."""
    text = _PDFIUM_HYPHEN.sub(lambda m: _join_hyphenated(m.group(1), m.group(2), keep), text)
    text = _LINE_END_HYPHEN.sub(
        lambda m: _join_hyphenated(m.group(1), m.group(2), keep)
        + ("\n" if m.end() < len(text) and text[m.end() - 1] == " " else ""), text)
    return text.replace(_SOFT, "")


_END_HYPHEN = re.compile(r"(\w+)[" + _HYPHENS + r"]$")
_START_WORD = re.compile(r"^([^\W\d_]\w*)([^\s]*)(?:\s+|$)")


def _finish_page(lines: list[str], layout: PageLayout, keep: set[str]) -> tuple[str, PageLayout]:
    """A page's text from its lines: ligatures to letters, a word hyphenated at a line end joined on the first line
    (so the lines stay the lines of the layout; one left empty is dropped and the layout's indices follow)."""
    from ._pdf_layout import PageLayout

    lines = [normalise_text(line) for line in lines]
    fixed = set(layout.reference_lines(len(lines))) | {i for i, h in layout.headings if lines[i].strip() == h}
    for i in range(len(lines) - 1):
        if i in fixed or i + 1 in fixed:
            continue
        m = _END_HYPHEN.search(lines[i])
        n = _START_WORD.match(lines[i + 1]) if m else None
        if m and n and n.group(1)[:1].islower():
            word = _join_hyphenated(m.group(1), n.group(1), keep) + n.group(2)
            lines[i] = lines[i][:m.start()] + word
            lines[i + 1] = lines[i + 1][n.end():]
    lines = [_PDFIUM_HYPHEN.sub(lambda m: _join_hyphenated(m.group(1), m.group(2), keep), line).replace(_SOFT, "-")
             for line in lines]
    kept = [i for i, line in enumerate(lines) if line.strip()]
    if len(kept) == len(lines):
        return "\n".join(lines), layout
    new = {old: k for k, old in enumerate(kept)}

    def moved(i: int) -> int:
        return next((new[j] for j in range(i, len(lines)) if j in new), len(kept))

    shifted = PageLayout([(moved(i), h) for i, h in layout.headings],
                         None if layout.refs_from is None else moved(layout.refs_from))
    return "\n".join(lines[i] for i in kept), shifted


# --- what the PDF says about itself -------------------------------------------------------------------------------


def _join(words: list[Word]) -> str:
    return " ".join(w.text for w in words)


def _title_from_words(words: list[Word], page_height: float) -> tuple[str | None, list[str]]:
    """The first page's largest-font lines in its top half (the title) and the line after them (the authors)."""
    body = [w for w in words if not w.rotated and w.text.strip()]
    if not body:
        return None, []
    sizes = [round(w.size, 1) for w in body]
    common = statistics.median(sizes)
    top = [w for w in body if w.base >= page_height * 0.45] or body
    biggest = max(round(w.size, 1) for w in top)
    if biggest < common * 1.15:
        return None, []
    from ._pdf_layout import group_lines

    lines = [line.words for line in group_lines(top)]
    picked: list[int] = [i for i, line in enumerate(lines) if max(round(w.size, 1) for w in line) >= biggest - 0.5]
    # the title: the first run of consecutive largest-font lines
    run = [picked[0]]
    for i in picked[1:]:
        if i == run[-1] + 1:
            run.append(i)
    title = " ".join(_join(lines[i]) for i in run).strip()
    title = dehyphenate(normalise_text(title))
    return (title if len(title) >= 4 else None), _authors_after(lines, run[-1] + 1)


def _authors_after(lines: list[list[Word]], start: int) -> list[str]:
    """The author names in the lines after the title: the lines set like the first of them (size and weight:
    affiliations are set smaller or lighter), rows of names set side by side, or one list wrapped over lines
    ("..., and Kaveh" "Kowalczyk1"); up to the abstract."""
    def style(line: list[Word]) -> tuple[float, bool]:
        return round(max(w.size for w in line), 0), sum(w.bold for w in line) * 2 > len(line)

    def groups(line: list[Word]) -> list[str]:
        out: list[list[Word]] = [[]]
        for w in line:  # names set side by side are far apart
            if out[-1] and w.x0 - out[-1][-1].x1 > 1.5 * w.size:
                out.append([])
            out[-1].append(w)
        return [normalise_text(_join(g)) for g in out]

    if start >= len(lines):
        return []
    first = style(lines[start])
    authors: list[str] = []
    wrapped = ""  # a list of names going on over lines
    for line in lines[start:start + 10]:
        text = _join(line)
        if re.match(r"\W*abstract\b", text, re.IGNORECASE):
            break
        if style(line) != first:
            continue
        parts = groups(line)
        if len(parts) > 1:
            names = [name for part in parts for name in _author_names(part)]
        else:
            wrapped = f"{wrapped} {parts[0]}".strip()
            names = [] if re.search(r"(,|\band)\s*$", wrapped) else _author_names(wrapped)
            if not names and wrapped.count(",") >= 1 and len(wrapped) < 300:
                continue  # a list of names going on on the next line ("..., and Kaveh" "Kowalczyk1")
            wrapped = ""
        if authors and not names:
            break  # set like the names, but no names: the block of authors is over
        authors += names
    if wrapped:
        authors += _author_names(wrapped)
    return authors


_NAME = re.compile(r"^[A-ZÀ-Ý][\w.'\-]*(?:\s+[A-ZÀ-Ý][\w.'\-]*){1,3}$")


def _author_names(line: str) -> list[str]:
    """Names in a line such as "Ada Lovelace, Grace Hopper and Alan Turing"; [] when it does not look like one."""
    line = re.sub(r"[\d*†‡§¶∗]+", " ", line)
    parts = [p.strip() for p in re.split(r",|\band\b|&|\s{2,}|·", line) if p.strip()]
    return parts if parts and all(_NAME.match(p) for p in parts) else []


def _arxiv_from(text: str) -> str | None:
    for m in _ARXIV_IN_TEXT.finditer(text):
        if is_arxiv_id(m.group(1)):
            return parse_arxiv_id(m.group(1))
    return None


def arxiv_id_from_filename(name: str) -> str | None:
    """``1807.11164v2.pdf`` -> ``1807.11164`` (also ``hep-th_9901001.pdf``, the old style's slash made safe)."""
    m = _ARXIV_FILE.match(Path(name).stem)
    if not m:
        return None
    candidate = m.group(1).replace("_", "/")
    return parse_arxiv_id(candidate) if is_arxiv_id(candidate) else None


def _doi_from(text: str) -> str | None:
    for m in _DOI_IN_TEXT.finditer(text):
        doi = parse_doi(trim_doi(m.group(1)))
        if doi:
            return doi
    return None


def _plausible_meta_title(title: str | None) -> str | None:
    title = " ".join((title or "").split())
    if len(title) < 8 or len(title.split()) < 2 or _BAD_META_TITLE.search(title):
        return None
    return title


# --- the whole document -------------------------------------------------------------------------------------------


def extract(path: str | os.PathLike[str], *, password: str | None = None, name: str | None = None,
            on_page: Callable[[int, int], None] | None = None) -> PdfText:
    """Read a PDF: every page's text in reading order, and its title, authors, arXiv id and DOI.

    Args:
        path: the PDF file.
        password: for an encrypted PDF.
        name: the file name to look for an arXiv id in (default: ``path``'s; uploads keep their original name).
        on_page: called as ``on_page(done, total)`` after each page (progress for long documents).

    Raises:
        PdfError: not a PDF, truncated or corrupt. EncryptedPdf: encrypted, no or a wrong password.
    """
    from ._pdf_layout import page_words
    from ._pdf_sections import analyse

    name = name or Path(path).name
    with open_pdf(path, password=password) as pdf:
        total = len(pdf)
        raw: list[tuple[list[Word], float, float]] = []
        try:
            for i in range(total):
                page = pdf[i]
                try:
                    textpage = page.get_textpage()
                    try:
                        if textpage.count_chars() > MAX_PAGE_CHARS:
                            raise PdfError(f"holds {textpage.count_chars():,} characters (at most "
                                           f"{MAX_PAGE_CHARS:,} are read)")
                        raw.append((page_words(textpage), page.get_width(), page.get_height()))
                    finally:
                        textpage.close()
                finally:
                    page.close()
                if on_page is not None:
                    on_page(i + 1, total)
        except Exception as err:  # noqa: BLE001 - PDFium fails in many ways on a damaged page
            import pypdfium2 as pdfium

            if isinstance(err, PdfError):  # a page past a bound
                raise PdfError(f"{name}: page {len(raw) + 1} {err}") from None
            if not isinstance(err, pdfium.PdfiumError):
                raise
            raise PdfError(f"{name} is corrupt: page {len(raw) + 1} cannot be read") from None
        meta = metadata(pdf)
    doc = analyse(raw)
    keep = {m.group().lower() for lines in doc.pages for line in lines for m in _HYPHENATED.finditer(line)}
    finished = [_finish_page(lines, layout, keep) for lines, layout in zip(doc.pages, doc.layouts)]
    pages = [text for text, _ in finished]
    first = pages[0] if pages else ""
    margin = normalise_text(doc.first_page_margin)
    meta_text = " ".join(str(meta.get(k, "")) for k in ("Title", "Subject", "Keywords"))
    # in the body of the first page an "arXiv:" is as likely a citation as the paper's own id: only its header
    # and footer count (arXiv's own stamp sits in the margin)
    arxiv_id = (_arxiv_from(margin) or arxiv_id_from_filename(name) or _arxiv_from(meta_text)
                or _arxiv_from(first[:HEADER_CHARS] + " " + first[-HEADER_CHARS:]))
    doi = _doi_from(first) or _doi_from(meta_text)
    title = _plausible_meta_title(meta.get("Title"))
    authors = [a.strip() for a in re.split(r";|,|\band\b", meta.get("Author", ""))
               if a.strip() and not _BAD_META_TITLE.search(a.strip())]
    page_title, page_authors = _title_from_words(doc.first_page_words, raw[0][2] if raw else 0.0)
    if title is None:
        title = page_title
    if not authors:
        authors = page_authors
    return PdfText(pages=pages, title=title, authors=authors, arxiv_id=arxiv_id, doi=doi,
                   layout=[layout for _, layout in finished], references=doc.references)


def render_page(path: str | os.PathLike[str], page: int, *, scale: float = 1.5, password: str | None = None) -> Any:
    """Page ``page`` (1-based) rendered as a PIL image of at most ``MAX_RENDER_PIXELS`` pixels (a huge page is
    rendered at a smaller scale). Raises PdfError for a page the PDF does not have."""
    with open_pdf(path, password=password) as pdf:
        if not 1 <= page <= len(pdf):
            raise PdfError(f"{Path(path).name} has no page {page} (it has {len(pdf)})")
        pg = pdf[page - 1]
        try:
            # a page may claim 14,400 x 14,400 points (more with /UserUnit): the scale shrinks to a bounded bitmap
            area = max(1.0, abs(pg.get_width() * pg.get_height()))
            scale = max(0.01, min(scale, (MAX_RENDER_PIXELS / area) ** 0.5))
            bitmap = pg.render(scale=scale)
            try:
                return bitmap.to_pil()
            finally:
                bitmap.close()
        finally:
            pg.close()
