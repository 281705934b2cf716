"""One reference entry (as printed in a paper's reference list) parsed into what it names: arXiv id, DOI, title,
authors, year.

A rule-based parser, written for the bibliography styles that papers in the field are typeset with (plain, unsrt,
IEEE, plainnat, apalike/ACL, APA, alpha): an entry is its authors, then (in the author-year styles) its year, then
its title, then where it appeared. The parser finds the identifiers by pattern, then cuts the entry into its
sentences (a period after an initial or an abbreviation does not end one) and reads authors and title from them;
a quoted title (IEEE) is taken as quoted. Standard library only: it runs on every PDF added, on the fast path.
Why not a trained parser from PyPI: see the README's "Citation graph" section.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from ._errors import InvalidArxivId
from ._ids import normalise_title, parse_arxiv_id, parse_doi

__all__ = ["Reference", "parse_reference", "surname_key"]


@dataclass
class Reference:
    """What one reference entry names (empty fields when the entry does not say or the parser cannot tell)."""

    text: str
    arxiv_id: str | None = None
    doi: str | None = None
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None

    @functools.cached_property
    def title_norm(self) -> str:
        return normalise_title(self.title)


# a label in front of the entry: [12], [HZRS16], (12), 12.
_LABEL = re.compile(r"^\s*(?:\[[^\]]{1,24}\]|\(\d{1,4}\)|\d{1,4}\.(?=\s)|\d{1,4}\s(?=[A-Z]))\s*")
_ARXIV = [
    re.compile(r"ar[xX]iv\s*(?:preprint)?\s*(?:ar[xX]iv)?\s*[:/]?\s*((?:\d{4}\.\s?\d{4,5})|(?:[a-z]+(?:-[a-z]+)?"
               r"(?:\.[A-Za-z]{2})?/\d{7}))(?:v\d+)?", re.IGNORECASE),
    re.compile(r"arxiv\.org/(?:abs|pdf)/((?:\d{4}\.\s?\d{4,5})|(?:[a-z]+(?:-[a-z]+)?/\d{7}))", re.IGNORECASE),
    re.compile(r"\babs/(\d{4}\.\s?\d{4,5})\b"),  # CoRR, abs/1512.03385 (a line may break after the period)
]
_DOI = re.compile(r"(?:doi\.org/|doi:\s*|\b)(10\.\s?\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_DOI_REST = re.compile(r"\s+([0-9][^\s\"<>]*)\s*$")
_URL = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\d.:/–-])((?:19|20)\d{2})[a-z]?(?![\d–-]|\.\d)")
_QUOTED = re.compile(r"[“\"]\s*(.+?)\s*[”\"]|``\s*(.+?)\s*''")
# words after which a period does not end a sentence
_ABBREV = frozenset(
    "vs eds ed proc conf int intl j vol no nos pp jr sr st dr inc e.g i.e etc trans natl assoc comput sci eng mach "
    "res rev lett phys math stat annu symp workshop adv neural inf process syst univ dept ieee acm tech rep fig "
    "jan feb mar apr jun jul aug sep sept oct nov dec mr ms mrs prof".split()
)
_INITIAL = re.compile(r"^(?:[A-Z]|[A-Z]\.-?[A-Z]|[A-Z]-[A-Z]|Th|Ch|Ph|Sh|Zh|Kh)$")
#: the initials of an "He, K." / "He K" name: "K.", "J.-P.", "L. J. P.", "K", "KM"
_INITIALS = re.compile(r"(?:[A-Z][a-z]?\.\s?-?)*[A-Z]\.?|[A-Z]{1,3}|(?:[A-Z]\s)+[A-Z]")
#: names then a colon then the title: the names hold an initial ("K.") or end in "et al."
_COLON_AUTHORS = re.compile(r"^(.*?(?:\b[A-Z]\.|et al\.)):\s+")
_YEAR_ONLY = re.compile(r"^\(?\s*(?:19|20)\d{2}[a-z]?\s*\)?[.,]?$")
_PAREN_YEAR = re.compile(r"\(\s*((?:19|20)\d{2})[a-z]?\s*\)")
_VENUE_START = re.compile(r"^(?:In\b|In:|Proc\b|Proceedings\b|arXiv\b|CoRR\b|Journal\b|Advances in\b|Preprint\b|"
                          r"Technical report\b|Tech\. rep|PhD thesis|Master'?s thesis|URL\b|Available\b)",
                          re.IGNORECASE)
_AUTHOR_SEP = re.compile(r"\s*(?:,\s*and\s+|,\s*&\s*|\s+and\s+|\s*&\s*|;\s*|,\s*)\s*")
_ETAL = re.compile(r"\bet\s+al\.?|\band\s+others\b", re.IGNORECASE)


def _strip(text: str) -> str:
    return text.strip(" \t,.;:")


def _sentences(text: str) -> list[str]:
    """``text`` cut at the periods (and ? !) that end a sentence, each piece stripped; an initial (``K.``,
    ``J.-P.``) or an abbreviation (``Proc.``, ``et al.`` does end one) keeps its period inside the sentence."""
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.?!]+(?=\s|$)", text):
        before = text[start:m.start()]
        word = re.split(r"[\s(]", before)[-1] if before else ""
        nxt = text[m.end():].lstrip()[:1]
        if m.group(0) == "." and word:
            bare = word.rstrip(".")
            if _INITIAL.match(bare) or bare.lower().replace(".", "") in _ABBREV or re.fullmatch(r"(?:[A-Z]\.)+[A-Z]",
                                                                                                   bare):
                continue
            after = text[m.end():].lstrip()
            if nxt and (nxt.islower() and len(bare) <= 4 and not after.startswith("arXiv")
                        or nxt.isdigit() and not re.match(r"\d{4}\b", after)):
                continue  # "vol. 3", "no. 2", a short abbreviation we do not know followed by lower case
        piece = text[start:m.end()].strip()
        if piece.rstrip(".").strip():
            out.append(piece)
        start = m.end()
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return out


def _looks_like_authors(segment: str) -> bool:
    """Whether a sentence reads as a list of names (capitalised words, commas, 'and'), not a title."""
    s = _PAREN_YEAR.sub("", segment)
    s = _ETAL.sub("", s).strip(" ,.")
    if not s or _VENUE_START.match(s):
        return False
    words = re.findall(r"[^\s,;&]+", s)
    if not words:
        return False
    lowers = [w for w in words if w[0].islower() and w not in ("and", "van", "von", "der", "den", "de", "la", "le",
                                                              "da", "di", "du", "del", "dos", "y", "others", "al")]
    return len(lowers) <= max(0, len(words) // 8)


def _split_authors(segment: str) -> list[str]:
    """Names as printed: "K. He", "Kaiming He", "He, K." (APA: surname, initials) -> "K. He"."""
    s = _PAREN_YEAR.sub("", segment)
    s = _ETAL.sub("", s)
    s = s.strip(" ,.;")
    if not s:
        return []
    parts = [p.strip(" .") for p in _AUTHOR_SEP.split(s) if p.strip(" .")]
    names: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        # "He, K." / "van der Maaten, L. J. P.": a surname followed by its initials
        if nxt is not None and _INITIALS.fullmatch(nxt) and not _INITIALS.fullmatch(part):
            names.append(f"{nxt.strip()}. {part}".replace("..", "."))
            i += 2
            continue
        names.append(part)
        i += 1
    return [re.sub(r"\s+", " ", n).strip() for n in names if len(n) > 1]


_NOT_SURNAME = re.compile(r"(?:[A-Z]\.?-?)+|Jr\.?|Sr\.?|II|III|IV")


@functools.lru_cache(maxsize=65536)
def surname_key(name: str) -> str:
    """The surname of a name as printed ("K. He", "Kaiming He", "van der Maaten, L."), case- and accent-free."""
    s = name.strip()
    if "," in s:
        s = s.split(",")[0]
    else:
        tokens = [t for t in s.split() if not _NOT_SURNAME.fullmatch(t)]
        s = tokens[-1] if tokens else s
    s = unicodedata.normalize("NFKD", s).casefold()
    return "".join(ch for ch in s if ch.isalnum())


def _find_arxiv(text: str) -> tuple[str | None, list[tuple[int, int]]]:
    for pattern in _ARXIV:
        m = pattern.search(text)
        if m:
            try:
                return parse_arxiv_id(m.group(1).replace(" ", "")), [m.span()]
            except InvalidArxivId:
                continue
    return None, []


def _find_doi(text: str) -> tuple[str | None, list[tuple[int, int]]]:
    m = _DOI.search(text)
    if not m:
        return None, []
    raw, end = m.group(1), m.end()
    # a DOI broken at the end of a line after a period or slash ("10.5555/3310001. 3310042"), the entry's end
    rest = _DOI_REST.match(text, end) if raw.endswith((".", "/")) else None
    if rest:
        raw, end = raw + rest.group(1), rest.end()
    return parse_doi("".join(raw.split()).rstrip(".,;)]}")), [(m.start(), end)]


def _year(text: str) -> int | None:
    """The year: in parentheses when printed so (APA), a sentence of its own (ACL), else the last one written."""
    m = _PAREN_YEAR.search(text)
    if m:
        return int(m.group(1))
    years = [int(m.group(1)) for m in _YEAR.finditer(text)]
    return years[-1] if years else None


def parse_reference(entry: str) -> Reference:
    """Parse one reference entry.

    >>> r = parse_reference("[1] K. He, X. Zhang, S. Ren, and J. Sun. Deep residual learning for image "
    ...                     "recognition. In CVPR, 2016.")
    >>> r.title, r.authors[0], r.year
    ('Deep residual learning for image recognition', 'K. He', 2016)
    """
    text = " ".join(str(entry).split())
    ref = Reference(text=text)
    body = _LABEL.sub("", text, count=1)
    ref.arxiv_id, spans = _find_arxiv(body)
    ref.doi, doi_spans = _find_doi(body)
    spans += doi_spans
    clean = body
    for a, b in sorted(spans, reverse=True):
        clean = clean[:a] + " " + clean[b:]
    clean = _URL.sub(" ", clean)
    clean = " ".join(clean.split())
    ref.year = _year(clean)

    quoted = _QUOTED.search(clean)
    if quoted and len((quoted.group(1) or quoted.group(2) or "").split()) >= 2:
        ref.title = _strip(quoted.group(1) or quoted.group(2))
        ref.authors = _split_authors(clean[:quoted.start()])
        return ref

    sentences = _sentences(clean)
    if not sentences:
        return ref
    lncs = _COLON_AUTHORS.match(sentences[0])
    if lncs and _looks_like_authors(lncs.group(1)):  # Springer LNCS: "He, K., Sun, J.: Deep residual learning."
        ref.authors = _split_authors(lncs.group(1))
        sentences[0] = sentences[0][lncs.end():]
        if sentences[0].strip() and not _VENUE_START.match(sentences[0]):
            ref.title = _strip(sentences[0])
        return ref
    i = 0
    if len(sentences) > 1 and _looks_like_authors(sentences[0]):
        ref.authors = _split_authors(sentences[0])
        i = 1
    while i < len(sentences) and _YEAR_ONLY.match(sentences[i]):
        i += 1  # author-year styles: "… and Jian Sun. 2016. Deep residual …"
    if i < len(sentences) and not _VENUE_START.match(sentences[i]):
        ref.title = _strip(_PAREN_YEAR.sub("", sentences[i]))
    return ref
