"""Identifier parsing: arXiv ids (new and old style, URLs, prefixes), DOIs and normalised titles."""
from __future__ import annotations

import re
import unicodedata

from ._errors import InvalidArxivId

ACCEPTED_FORMS = (
    "1512.03385, 1512.03385v2, arXiv:1512.03385, https://arxiv.org/abs/1512.03385, "
    "https://arxiv.org/pdf/1512.03385v2, cs/0112017, math.GT/0309136"
)

# ASCII digits only (``\d`` would take fullwidth and Arabic-Indic digits, and make a second paper of the same id);
# YYMM with a month 01-12; versions start at 1
_MONTH = r"(?:0[1-9]|1[0-2])"
_NEW = rf"(?P<new>[0-9]{{2}}{_MONTH}\.[0-9]{{4,5}})"
# old style: archive (hep-th, cs, math ...) with an optional subject class (math.GT), then YYMMNNN
_OLD = rf"(?P<old>(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{{2}})?/(?P<num>[0-9]{{2}}{_MONTH}[0-9]{{3}}))"
_ID = rf"(?:{_NEW}|{_OLD})(?:v(?P<version>[1-9][0-9]*))?"
_URL = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/{_ID}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE | re.ASCII,
)
_BARE = re.compile(rf"^(?:arxiv:\s*)?{_ID}$", re.IGNORECASE | re.ASCII)

_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(?P<doi>10\.[0-9]{4,9}/\S+)$", re.IGNORECASE)

#: An arXiv id as running text mentions it (after "arXiv:" or "arXiv preprint"), as a regex group: new style or old
#: style, an optional version, then a boundary: ``arXiv:1512.033851`` and ``hep-th/99010011`` are no ids (without
#: it they read as 1512.03385 and hep-th/9901001, someone else's paper).
ARXIV_ID_IN_TEXT = (r"([a-z]+(?:-[a-z]+)?(?:\.[a-z]{2})?/[0-9]{7}|[0-9]{4}\.[0-9]{4,5})"
                    r"(?:v[0-9]+)?(?![0-9a-z])")
#: What may trail a DOI in running text without being part of it (a closing bracket only when unbalanced).
_DOI_TRAILING = ".,;:!?'\"\u2019\u201d\u00bb>]}"


def parse_arxiv_id(text: str) -> str:
    """The version-free arXiv id of ``text``.

    >>> parse_arxiv_id("https://arxiv.org/pdf/1512.03385v2.pdf")
    '1512.03385'
    >>> parse_arxiv_id("math.GT/0309136")
    'math/0309136'

    Raises:
        InvalidArxivId: for anything that is not an accepted form (the message lists them).
    """
    s = str(text).strip()
    m = _BARE.match(s) or _URL.match(s)
    if not m:
        shown = s if len(s) <= 60 else s[:57] + "..."
        raise InvalidArxivId(f"not an arXiv id: {shown!r}; accepted forms: {ACCEPTED_FORMS}")
    if m.group("new"):
        new = m.group("new")
        # four-digit sequence numbers until 1412, five from 1501 on
        if (len(new) == 10) != (new[:4] >= "1501"):
            raise InvalidArxivId(f"not an arXiv id: {s!r}; accepted forms: {ACCEPTED_FORMS}")
        return new
    # the subject class (math.GT) is not part of an old-style identifier
    return f"{m.group('archive').lower()}/{m.group('num')}"


def is_arxiv_id(text: str) -> bool:
    """Whether ``text`` parses as an arXiv id."""
    try:
        parse_arxiv_id(text)
    except InvalidArxivId:
        return False
    return True


def parse_doi(text: str | None) -> str | None:
    """The lower-cased bare DOI of ``text`` (``doi:`` prefix and doi.org URLs stripped), or None."""
    if not text:
        return None
    m = _DOI.match(str(text).strip())
    return (trim_doi(m.group("doi")).lower() or None) if m else None


def trim_doi(doi: str) -> str:
    """``doi`` without the punctuation a sentence puts after it: "10.1/x)." -> "10.1/x", but a bracket that is
    part of the DOI stays ("10.1016/0002-9149(77)90123-4")."""
    while doi:
        if doi[-1] in _DOI_TRAILING:
            doi = doi[:-1]
        elif doi[-1] == ")" and doi.count(")") > doi.count("("):
            doi = doi[:-1]
        else:
            break
    return doi


def normalise_title(title: str | None) -> str:
    """A title key for duplicate detection: case-, accent-, punctuation- and space-insensitive."""
    if not title:
        return ""
    s = unicodedata.normalize("NFKD", title).casefold()
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", s))
