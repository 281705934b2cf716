"""New arXiv submissions by category, through the ``arxiv`` package (imported on first use).

A category query sorted by submission date, newest first, restricted to a date window, paged politely: the
package waits its delay between pages (arXiv asks for one request every three seconds), every request has a
timeout, and a cap bounds the whole fetch. Results come back page by page so the caller can store each page as
it arrives: an interruption or a lost connection keeps what was already fetched.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any

from . import _arxiv
from ._arxiv import api_errors, result_fields
from ._errors import InvalidInput, ReadingError

#: Results per request: arXiv's manual suggests pages of at most a few hundred for daily listings.
PAGE_SIZE = 100
#: Most results one fetch asks for, unless told otherwise.
DEFAULT_MAX = 500

# archive (cs, math, astro-ph, q-bio ...) with an optional subject class (CV, CO, NC ...)
_CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")


def check_categories(categories: Iterable[str]) -> list[str]:
    """Categories as arXiv spells them (``cs.CV``, ``stat.ML``, ``hep-th``); InvalidInput for anything else."""
    out: list[str] = []
    for cat in categories:
        cat = str(cat).strip()
        if not _CATEGORY.fullmatch(cat):
            raise InvalidInput(f"bad arXiv category {cat!r}: use e.g. cs.CV, cs.LG, stat.ML")
        if cat not in out:
            out.append(cat)
    if not out:
        raise InvalidInput("give at least one arXiv category, e.g. --category cs.CV")
    return out


def category_query(categories: Iterable[str], since: dt.date, until: dt.date | None = None) -> str:
    """The API query for submissions to any of ``categories`` between ``since`` and ``until`` (inclusive)."""
    cats = check_categories(categories)
    until = until or dt.date.today()
    if since > until:
        raise InvalidInput(f"--since {since.isoformat()} is after {until.isoformat()}")
    either = " OR ".join(f"cat:{c}" for c in cats)
    window = f"submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"
    return f"({either}) AND {window}"


def fetch_new(
    categories: Iterable[str],
    *,
    since: dt.date,
    until: dt.date | None = None,
    max_results: int = DEFAULT_MAX,
    page_size: int | None = None,
    client: Any = None,
) -> Iterator[list[dict[str, Any]]]:
    """Newest submissions first, one list of paper fields (as :func:`reading._arxiv.result_fields`) per page.

    Args:
        categories: arXiv categories; a paper in any of them is returned.
        since, until: submission dates (inclusive; ``until`` defaults to today).
        max_results: the cap on the whole fetch.
        page_size: results per request (default :data:`PAGE_SIZE`; the package sleeps between requests).
        client: an ``arxiv.Client`` (default :func:`reading._arxiv.make_client`: a timeout, arXiv's delay).

    Raises:
        FetchError: offline, timed out or an API error, when the next page is asked for; the pages already
            yielded stay valid.
        InvalidInput: bad categories, dates or cap.
    """
    import arxiv

    if int(max_results) < 1:
        raise InvalidInput("--max must be at least 1")
    query = category_query(categories, since, until)
    client = client or _arxiv.make_client()
    client.page_size = max(1, min(int(page_size or PAGE_SIZE), int(max_results)))
    search = arxiv.Search(query=query, max_results=int(max_results), sort_by=arxiv.SortCriterion.SubmittedDate,
                          sort_order=arxiv.SortOrder.Descending)
    first = since.isoformat()
    page: list[dict[str, Any]] = []
    results = client.results(search)
    while True:
        with api_errors():
            result = next(results, None)
        if result is None:
            break
        try:
            fields = result_fields(result)
        except ReadingError:
            continue  # an error entry in the feed
        if fields.get("published") and fields["published"] < first:
            continue  # outside the window (arXiv already filters; a replaced version can slip through)
        page.append(fields)
        if len(page) >= client.page_size:
            yield page
            page = []
    if page:
        yield page
